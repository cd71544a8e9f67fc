"""A late backfill: an older capture imported after a newer one (the real Binance files, through
`python -m loaders capture`) loads completely, in both database modes, and the rolled-up candles
of the older buckets equal a recomputation from the stored trades."""

from __future__ import annotations

import psycopg
import pytest

from loaders.cli import main

from .helpers import CAPTURES, TIMEFRAMES, assert_candles_equal, fetch_candles, oracle_candles, parsed_capture_trades

OLDER = [p for p in CAPTURES if p.name.endswith("_20240808.ws.gz")]
NEWER = [p for p in CAPTURES if p.name.endswith("_20240809.ws.gz")]


def _capture(db_url: str, paths, *extra: str) -> int:
    return main(["capture", *map(str, paths), "--datasets", "trades", "--url", db_url, "--quiet", *extra])


@pytest.mark.skipif(not (OLDER and NEWER), reason="the shared Binance captures are not present")
@pytest.mark.parametrize("batch_size", ["4000", "50000"])
def test_older_capture_after_a_newer_one_loads_and_its_buckets_are_rolled_up_again(db_url, batch_size):
    assert _capture(db_url, NEWER, "--batch-size", batch_size, "--refresh-rollups") == 0
    assert _capture(db_url, OLDER, "--batch-size", batch_size, "--refresh-rollups") == 0
    with psycopg.connect(db_url, autocommit=True) as conn:
        trades = parsed_capture_trades(conn, OLDER + NEWER)
        stored = conn.execute("select count(*) from market.trades").fetchone()[0]
        assert stored == len(trades)
        status = conn.execute("select array_agg(status order by run_id) from ops.loader_runs").fetchone()[0]
        assert status == ["succeeded", "succeeded"]
        for tf in TIMEFRAMES:
            want = oracle_candles(trades, tf)
            assert_candles_equal(fetch_candles(conn, f"market.trade_candles_{tf}"), want, f"late trade_{tf}")
            assert_candles_equal(fetch_candles(conn, f"market.candles_{tf}"), want, f"late {tf}")
