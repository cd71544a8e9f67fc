"""Retention keeps candles and logs what it deletes (issue 9, item 4).

A 2024 backfill followed by a retention run (`call ops.run_retention()`: the cron line in plain
mode, the job in TimescaleDB mode) keeps every candle of every timeframe, native and rolled up,
and market.native_candles_1m; it deletes only the raw trades and quotes beyond their horizon and
writes the counts per table to ops.events. Loading rows already beyond a horizon says so.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import psycopg
import pytest

from .helpers import assert_candles_equal, fetch_candles, load_trades, oracle_candles

NOW_US = int(pd.Timestamp.now(tz="UTC").value // 1000)
MINUTE_US = 60_000_000


def synthetic_trades(iid: int, start_us: int, minutes: int, first_id: int = 1, seed: int = 1) -> pd.DataFrame:
    """Three trades per minute from start_us (independent of the database: the oracle's input).
    Also used by test_job_health."""
    rng = np.random.default_rng(seed)
    n = minutes * 3
    t = start_us + np.arange(n, dtype=np.int64) * (MINUTE_US // 3) + 1
    return pd.DataFrame({
        "time": t, "instrument_id": iid, "trade_id": np.arange(first_id, first_id + n, dtype=np.int64),
        "price": np.round(100 + rng.normal(0, 1, n).cumsum(), 2), "quantity": np.round(rng.uniform(0.1, 2, n), 3),
        "side": np.where(rng.uniform(size=n) < 0.5, "b", "s"),
    })


def _stored_trades(conn: psycopg.Connection) -> pd.DataFrame:
    rows = conn.execute(
        "select instrument_id, (extract(epoch from time) * 1000000)::bigint, trade_id, price, quantity"
        " from market.trades order by 1, 2, 3").fetchall()
    return pd.DataFrame(rows, columns=["instrument_id", "time", "trade_id", "price", "quantity"])


def _candle_snapshot(conn: psycopg.Connection) -> dict[str, list]:
    # Every candle view the database has (the six rollups and any timeframe added since).
    views = [r[0] for r in conn.execute(
        "select 'market.candles_' || timeframe from market.timeframes"
        " where to_regclass('market.candles_' || timeframe) is not null order by bucket_width")]
    assert {f"market.candles_{tf}" for tf in ("1m", "5m", "15m", "1h", "4h", "1d")} <= set(views)
    out = {v: conn.execute(f"select * from {v} order by 1, 2").fetchall() for v in views}
    out["market.native_candles_1m"] = conn.execute("select * from market.native_candles_1m order by 1, 2").fetchall()
    out["market.candles"] = conn.execute(
        "select instrument_id, timeframe, open_time, open, close from market.candles order by 1, 2, 3").fetchall()
    return out


def test_2024_backfill_and_retention_keep_every_candle_and_log_raw_deletions(db_url: str, db_mode: str) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        btc = conn.execute("select market.register_instrument('binance', 'BTCUSDT')").fetchone()[0]
        eur = conn.execute("select market.register_instrument('mt5', 'EURUSD')").fetchone()[0]
        old_start = int(pd.Timestamp("2024-03-01 10:00", tz="UTC").value // 1000)
        recent_start = (NOW_US - 86_400_000_000) // MINUTE_US * MINUTE_US
        old = synthetic_trades(btc, old_start, 300)            # 5 hours of 2024: far beyond the 2-year horizon
        recent = synthetic_trades(btc, recent_start, 120, first_id=10_000, seed=2)
        load_trades(conn, pd.concat([old, recent], ignore_index=True))
        conn.execute(
            "insert into market.quotes (time, instrument_id, update_id, bid, ask)"
            " select t, %s, row_number() over (order by t), 1.08, 1.0801"
            " from generate_series(timestamptz '2024-03-01', '2024-03-01 01:00', interval '1 minute') as t"
            " union all select now() - interval '1 hour', %s, 1000, 1.09, 1.0901", (eur, eur))
        # Native candles of several timeframes (an FX symbol without trades): 2024 history.
        conn.execute(
            "insert into market.candles (instrument_id, timeframe, open_time, open, high, low, close, volume, source)"
            " select %s, '1m', t, 1.08, 1.081, 1.079, 1.0805, 10, 'mt5'"
            " from generate_series(timestamptz '2024-03-04', '2024-03-04 05:59', interval '1 minute') as t"
            " union all select %s, '1h', timestamptz '2024-03-04' + i * interval '1 hour', 1.08, 1.081, 1.079, 1.0805, 600, 'mt5'"
            " from generate_series(0, 5) as i", (eur, eur))
        conn.execute("call market.refresh_rollups()")
        before = _candle_snapshot(conn)
        assert all(before.values()), {k: len(v) for k, v in before.items()}
        assert len(before["market.native_candles_1m"]) == 360

        conn.execute("call ops.run_retention()")
        conn.execute("call market.refresh_rollups()")   # a later refresh must not undo the kept candles

        after = _candle_snapshot(conn)
        for name, rows in before.items():
            assert after[name] == rows, f"{name}: {len(rows)} rows before retention, {len(after[name])} after"
        # Raw rows: only those beyond the horizon are gone.
        stored = _stored_trades(conn)
        assert len(stored) == len(recent) and stored["trade_id"].min() == 10_000
        assert conn.execute("select count(*) from market.quotes").fetchone()[0] == 1
        # The trade-built candles still equal a recomputation from the trades that were loaded.
        assert_candles_equal(fetch_candles(conn, "market.trade_candles_1h"),
                             oracle_candles(pd.concat([old, recent]), "1h"), "trade_candles_1h after retention")
        # Every deletion is logged, with counts per table.
        events = conn.execute(
            "select details from ops.events where source = 'retention' and event_type = 'rows_deleted'"
        ).fetchall()
        deleted = {e[0]["relation"]: e[0]["rows_deleted"] for e in events}
        assert deleted == {"market.trades": len(old), "market.quotes": 61}, deleted
        run = conn.execute(
            "select details from ops.events where source = 'maintenance' and event_type = 'job_run'"
            " and details->>'job' = 'retention' order by event_id desc limit 1").fetchone()
        assert run is not None and run[0]["succeeded"] is True


def test_loading_rows_beyond_the_retention_horizon_warns(db_url: str, caplog: pytest.LogCaptureFixture) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        iid = conn.execute("select market.register_instrument('binance', 'BTCUSDT')").fetchone()[0]
        with caplog.at_level(logging.WARNING):
            load_trades(conn, synthetic_trades(iid, (NOW_US - 7_200_000_000) // MINUTE_US * MINUTE_US, 30))
        assert not [r for r in caplog.records if "retention" in r.getMessage()]
        old = synthetic_trades(iid, int(pd.Timestamp("2024-03-01", tz="UTC").value // 1000), 20, first_id=50_000)
        with caplog.at_level(logging.WARNING):
            load_trades(conn, old, batch_size=25)     # several batches: one warning per run and table
        warnings = [r.getMessage() for r in caplog.records if "retention" in r.getMessage()]
        assert len(warnings) == 1, warnings
        assert "market.trades: 25 rows" in warnings[0] and "2 years" in warnings[0], warnings[0]
        event = conn.execute(
            "select severity, details from ops.events where event_type = 'beyond_retention'").fetchall()
        assert len(event) == 1 and event[0][0] == "warning"
        assert event[0][1]["relation"] == "market.trades" and event[0][1]["rows"] == 25
        # Candles are kept forever by default: loading 2024 candles says nothing.
        assert conn.execute("select ops.retention_cutoff('market.candles')").fetchone()[0] is None
        assert conn.execute("select ops.retention_cutoff('market.trades') < now() - interval '23 months'").fetchone()[0]


