"""Rollup parity: every rollup timeframe equals an independent recomputation from raw trades,
on the real Binance captures and on synthetic data delivered late and out of order, with the
rollups refreshed incrementally while the data arrives."""

from __future__ import annotations

import psycopg
import pytest

from loaders.binance_capture import import_files
from loaders.core.instruments import attach_ids
from scripts.synthetic import arrival_order, generate_trades, register

from .helpers import (CAPTURES, TIMEFRAMES, assert_candles_equal, fetch_candles, load_trades,
                      oracle_candles, parsed_capture_trades)


@pytest.mark.skipif(not CAPTURES, reason="the shared Binance captures are not present")
def test_rollups_equal_recomputation_from_real_binance_trades(db_url: str) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        import_files(conn, CAPTURES, datasets=("trades",), batch_size=4000)
        conn.execute("call market.refresh_rollups()")
        trades = parsed_capture_trades(conn)
        assert len(trades) == conn.execute("select count(*) from market.trades").fetchone()[0]
        for tf in TIMEFRAMES:
            want = oracle_candles(trades, tf)
            assert_candles_equal(fetch_candles(conn, f"market.candles_{tf}"), want, f"captures {tf}")
            assert_candles_equal(fetch_candles(conn, f"market.trade_candles_{tf}"), want, f"captures trade_{tf}")


def test_rollups_equal_recomputation_with_late_and_out_of_order_trades(db_url: str) -> None:
    trades = generate_trades(3, 1.0, seed=11, start="2024-03-09 20:00", trades_per_day=12_000)
    delivered = arrival_order(trades, late_fraction=0.03, max_delay_s=3 * 3600, shuffle_fraction=0.1, seed=5)
    with psycopg.connect(db_url, autocommit=True) as conn:
        ids = register(conn, n_instruments=3)
        frame = attach_ids(delivered, ids)
        # Refresh while data arrives: late rows must re-open buckets already materialized.
        counts = load_trades(conn, frame, batch_size=3000, refresh_every=2)
        assert counts.rows_in == len(trades) and counts.loaded == len(trades)
        conn.execute("call market.refresh_rollups()")
        oracle_input = attach_ids(trades, ids)
        for tf in TIMEFRAMES:
            want = oracle_candles(oracle_input, tf)
            assert_candles_equal(fetch_candles(conn, f"market.candles_{tf}"), want, f"synthetic {tf}")


def test_refresh_never_materializes_the_forming_bucket(db_url: str) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        iid = conn.execute("select market.register_instrument('binance', 'BTCUSDT')").fetchone()[0]
        conn.execute(
            "insert into market.trades (time, instrument_id, trade_id, price, quantity, side)"
            " values (now() - interval '2 seconds', %s, 1, 100, 1, 'b'),"
            " (now() - interval '1 day', %s, 0, 99, 1, 's')", (iid, iid))
        conn.execute("call market.refresh_rollups()")
        for tf in TIMEFRAMES:
            n_open = conn.execute(
                f"select count(*) from market.candles_{tf} where open_time + %s::interval > now()",
                (tf.replace("m", " minutes").replace("h", " hours").replace("d", " days"),),
            ).fetchone()[0]
            assert n_open == 0, f"{tf}: a still-forming bucket was materialized"
        # the day-old trade's 1m bucket is complete and present
        assert conn.execute("select count(*) from market.candles_1m where open >= 99 and open < 100").fetchone()[0] == 1


def test_updates_and_deletes_of_raw_trades_flow_into_rollups(db_url: str) -> None:
    trades = generate_trades(1, 0.05, seed=3, start="2024-05-01", trades_per_day=40_000)
    with psycopg.connect(db_url, autocommit=True) as conn:
        ids = register(conn, n_instruments=1)
        frame = attach_ids(trades, ids)
        load_trades(conn, frame, batch_size=10_000)
        conn.execute("call market.refresh_rollups()")
        cut = frame["time"].quantile(0.5)
        conn.execute("delete from market.trades where time >= timestamptz 'epoch' + %s * interval '1 microsecond'"
                     " and time < timestamptz 'epoch' + (%s + 120000000) * interval '1 microsecond'", (int(cut), int(cut)))
        conn.execute("update market.trades set price = price * 1.01 where trade_id % 7 = 0")
        conn.execute("call market.refresh_rollups()")
        raw = conn.execute("select instrument_id, (extract(epoch from time) * 1000000)::bigint, trade_id, price, quantity"
                           " from market.trades").fetchall()
        import pandas as pd

        raw = pd.DataFrame(raw, columns=["instrument_id", "time", "trade_id", "price", "quantity"])
        for tf in TIMEFRAMES:
            assert_candles_equal(fetch_candles(conn, f"market.candles_{tf}"), oracle_candles(raw, tf), f"after edits {tf}")
