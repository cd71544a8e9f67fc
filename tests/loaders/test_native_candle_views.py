"""Exchange candles above 1m downloaded by the loader reach the candle views of their timeframe
(issue 9, item 3): market.candles_1h, bi.candles_1h and ta.maintain on '1h'."""

from __future__ import annotations

import psycopg
import pytest

from .helpers import expected_candles, run_cli, stored_candles

SINCE = "2024-08-01"
FAST = ("--min-interval", "0", "--timeout", "2")


def test_native_1h_candles_from_the_loader_appear_in_the_1h_views(db_url, binance, market):
    assert run_cli("candles", "--exchange", "binance", "--symbol", "BTCUSDT", "--timeframe", "1h",
                   "--since", SINCE, "--base-url", binance.url, "--url", db_url, "--quiet", *FAST) == 0
    want = expected_candles(market, 3600, fill_quiet=True)
    assert stored_candles(db_url, "binance", "1h") == want and len(want) >= 2
    with psycopg.connect(db_url, autocommit=True) as conn:
        iid = conn.execute("select instrument_id from market.instruments where exchange = 'binance'").fetchone()[0]
        conn.execute("call market.refresh_rollups()")
        got = conn.execute(
            "select (extract(epoch from open_time) * 1e6)::bigint, open, high, low, close, volume, source"
            " from market.candles_1h where instrument_id = %s order by open_time", (iid,)).fetchall()
        assert [tuple(r[:6]) for r in got] == want
        assert {r[6] for r in got} == {"native"}
        bi = conn.execute("select (extract(epoch from open_time) * 1e6)::bigint, close from bi.candles_1h"
                          " where instrument_id = %s order by open_time", (iid,)).fetchall()
        assert [tuple(r) for r in bi] == [(w[0], w[4]) for w in want]
        conn.execute("select ta.maintain(%s, '1h', 'sma', '{\"timeperiod\": 2}')", (iid,))
        assert conn.execute("select sum(new_bars) from ta.refresh_indicators()").fetchone()[0] == len(want)
        sma = conn.execute("select value1 from ta.indicator_values order by open_time").fetchall()
        assert [r[0] for r in sma] == pytest.approx([(a[4] + b[4]) / 2 for a, b in zip(want, want[1:])], rel=1e-12)
