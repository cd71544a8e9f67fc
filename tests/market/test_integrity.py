"""Quality functions and the integrity command: gaps, outliers, rollup/raw disagreements."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import psycopg

from loaders.core.ingest import TRADES, load_batch
from loaders.core.instruments import attach_ids
from scripts.synthetic import generate_trades, register

from .helpers import load_trades

ROOT = Path(__file__).resolve().parents[2]
T0 = pd.Timestamp("2024-05-07 00:00", tz="UTC")


def _trade(iid, minute, tid, price, qty=1.0):
    return (int((T0 + pd.Timedelta(minutes=minute, seconds=1)).value // 1000), iid, tid, price, qty, b"b")


def test_find_gaps_and_gapfilled_series(db_url: str) -> None:
    conn = psycopg.connect(db_url, autocommit=True)
    iid = conn.execute("select market.register_instrument('binance', 'BTCUSDT')").fetchone()[0]
    minutes = [0, 1, 2, 6, 7, 9]
    df = pd.DataFrame([_trade(iid, m, i, 100.0 + m) for i, m in enumerate(minutes)],
                      columns=TRADES.names)
    with conn.transaction():
        load_batch(conn, TRADES, df, source="test")
    conn.execute("call market.refresh_rollups()")
    gaps = conn.execute("select gap_start, gap_end, missing_candles from market.find_gaps('1m', %s, %s, %s)",
                        (T0, T0 + pd.Timedelta(hours=1), iid)).fetchall()
    assert [(g[0], g[1], g[2]) for g in gaps] == [
        (T0 + pd.Timedelta(minutes=3), T0 + pd.Timedelta(minutes=6), 3),
        (T0 + pd.Timedelta(minutes=8), T0 + pd.Timedelta(minutes=9), 1)]
    filled = conn.execute("select open_time, close, volume, is_filled from market.candles_gapfilled(%s, '1m', %s, %s)",
                          (iid, T0, T0 + pd.Timedelta(minutes=10))).fetchall()
    assert len(filled) == 10
    assert [f[3] for f in filled] == [m not in minutes for m in range(10)]
    assert filled[4][1] == 102.0 and filled[4][2] == 0  # carried close of minute 2
    conn.close()


def test_outliers_by_zscore_and_iqr_find_a_planted_spike(db_url: str) -> None:
    conn = psycopg.connect(db_url, autocommit=True)
    iid = conn.execute("select market.register_instrument('binance', 'ETHUSDT')").fetchone()[0]
    rng = np.random.default_rng(5)
    prices = 2000 * np.exp(np.cumsum(rng.normal(0, 0.0005, 240)))
    prices[150] *= 1.03  # a bad print
    df = pd.DataFrame([_trade(iid, m, m, float(round(p, 2))) for m, p in enumerate(prices)], columns=TRADES.names)
    with conn.transaction():
        load_batch(conn, TRADES, df, source="test")
    conn.execute("call market.refresh_rollups()")
    spike = T0 + pd.Timedelta(minutes=150)
    z = [r[0] for r in conn.execute("select open_time from market.outliers_zscore(%s, '1m', %s, %s)",
                                    (iid, T0, T0 + pd.Timedelta(hours=5))).fetchall()]
    assert spike in z
    iqr = [r[0] for r in conn.execute("select open_time from market.outliers_iqr(%s, '1m', %s, %s, 3.0)",
                                      (iid, T0, T0 + pd.Timedelta(hours=5))).fetchall()]
    assert spike in iqr and len(iqr) <= 4
    ticks = conn.execute("select trade_id from market.trade_outliers_zscore(%s, %s, %s, 50, 6)",
                         (iid, T0, T0 + pd.Timedelta(hours=5))).fetchall()
    assert (150,) in ticks
    conn.close()


def test_integrity_command_reports_rollup_disagreements_until_refreshed(db_url: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    trades = generate_trades(2, 0.1, seed=9, start="2024-05-08", trades_per_day=20_000)
    with psycopg.connect(db_url, autocommit=True) as conn:
        frame = attach_ids(trades, register(conn, n_instruments=2))
        load_trades(conn, frame, batch_size=5000)
        conn.execute("call market.refresh_rollups()")
        args = [sys.executable, "-m", "db.integrity", "--url", db_url, "--from", "2024-05-08", "--to", "2024-05-09"]
        ok = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120)
        assert ok.returncode == 0, ok.stdout + ok.stderr
        # Raw data changes behind the rollups' back (a delete not yet refreshed).
        conn.execute("delete from market.trades where time >= '2024-05-08 00:30' and time < '2024-05-08 00:31'")
        report = conn.execute("select check_name, timeframe, problems, detail from market.integrity_report(%s, %s)",
                              ("2024-05-08", "2024-05-09")).fetchall()
        assert ("rollup_disagreements", "1m") in {(r[0], r[1]) for r in report}
        bad = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120)
        assert bad.returncode == 1 and "rollup_disagreements" in bad.stdout
        fixed = subprocess.run(args + ["--refresh"], env=env, capture_output=True, text=True, timeout=120)
        assert fixed.returncode == 0, fixed.stdout
        assert "gaps" in fixed.stdout  # the deleted minute is now a gap, reported as info


def test_plain_mode_retention_deletes_expired_raw_rows_and_keeps_rollups(db_url: str, db_mode: str) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        iid = conn.execute("select market.register_instrument('binance', 'BTCUSDT')").fetchone()[0]
        conn.execute("insert into market.trades values (now() - interval '3 years', %s, 1, 10, 1, 'b'),"
                     " (now() - interval '1 day', %s, 2, 11, 1, 'b')", (iid, iid))
        conn.execute("call market.refresh_rollups()")
        if db_mode == "timescaledb":
            applied = [r[1] for r in conn.execute("select * from ops.apply_data_policies()").fetchall()]
            assert [a for a in applied if a.startswith("retention job ")], applied
            return
        deleted = dict(conn.execute("select * from ops.enforce_retention()").fetchall())
        assert deleted["market.trades"] == 1
        assert conn.execute("select count(*) from market.trades").fetchone()[0] == 1
        assert conn.execute("select count(*) from market.candles_1d").fetchone()[0] == 2
