"""The demo's data tells the truth (issue 9, item 13): FX-like prices and spreads, the fake
exchanges' day lined up with the real captures (no gap), DRY_RUN taapi values computed from the
stored candles, and a non-empty taapi cross-check. One demo pipeline run on a fresh database
serves every test of this module.

Oracles: the raw rows (closes, quotes, candles' ranges) read back with plain SQL, and the
project's public ta.* array functions over the stored candles for the same bar.
"""

from __future__ import annotations

import math
import re

import psycopg
import pytest

from scripts.demo_pipeline import format_price, run_demo
from tests.conftest import _clone, _drop_database


@pytest.fixture(scope="module")
def demo_url(template_db: str, worker_tag: str):
    name = f"tsq_demo_{worker_tag}"
    url = _clone(template_db, name)
    yield url, run_demo(url)
    _drop_database(name)


def _q(url: str, query: str, params=()) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(query, params).fetchall()


def test_fx_candles_and_quotes_have_fx_precision_and_spread(demo_url):
    url, _ = demo_url
    closes = [r[0] for r in _q(url, "select c.close from market.candles_1m as c join market.instruments as i"
                                    " using (instrument_id) where i.symbol = 'EUR/USD' order by c.open_time")]
    assert len(closes) > 1000
    assert all(abs(c * 1e5 - round(c * 1e5)) < 1e-6 for c in closes), "EUR/USD prices are in 1e-5 steps"
    assert sum(abs(c * 100 - round(c * 100)) > 1e-6 for c in closes) > len(closes) / 2, \
        "EUR/USD moves below the cent (not rounded to 2 decimals)"
    assert len(set(closes)) > 100 and 1.0 < min(closes) and max(closes) < 1.2
    # a day of EUR/USD: well under 3 % from low to high, more than 5 pips
    assert 5e-4 < max(closes) - min(closes) < 0.03 * min(closes)
    spreads = _q(url, "select percentile_cont(0.5) within group (order by q.ask - q.bid), min(q.ask - q.bid)"
                      " from market.quotes as q join market.instruments as i using (instrument_id)"
                      " where i.symbol = 'EUR/USD'")[0]
    assert 5e-5 <= spreads[0] <= 3e-4 and spreads[1] > 0, f"EUR/USD spread {spreads}"
    rsi = _q(url, "select ta.rsi(array_agg(c.close order by c.open_time)) from market.candles_1m as c"
                  " join market.instruments as i using (instrument_id) where i.symbol = 'EUR/USD'")[0][0]
    values = [v for v in rsi if v is not None]
    assert len(set(round(v, 6) for v in values)) > 100 and 20 < sum(values) / len(values) < 80


def test_fake_day_ends_where_the_captures_begin(demo_url):
    """binance BTC/USDT and ETH/USDT: fake native candles, then the captures' trade candles, with
    no hole between them and no price jump at the join."""
    url, _ = demo_url
    for symbol in ("BTC/USDT", "ETH/USDT"):
        rows = _q(url, "select c.open_time, c.close, c.source from market.candles_1m as c"
                       " join market.instruments as i using (instrument_id)"
                       " where i.exchange = 'binance' and i.symbol = %s order by c.open_time", (symbol,))
        sources = [r[2] for r in rows]
        assert "native" in sources and "trades" in sources
        steps = [(b[0] - a[0]).total_seconds() for a, b in zip(rows, rows[1:])]
        assert max(steps) <= 5 * 60, f"{symbol}: a {max(steps) / 86400:.1f}-day hole in the 1m candles"
        join = sources.index("trades")
        before, after = rows[join - 1][1], rows[join][1]
        assert abs(after / before - 1) < 0.005, f"{symbol}: price jumps {before} -> {after} at the captures"


def test_dry_run_taapi_values_are_our_own_indicators_of_the_stored_bars(demo_url):
    url, _ = demo_url
    rows = _q(url, "select r.symbol, r.timeframe, r.indicator, r.indicator_key, r.params, r.outputs, r.source_time,"
                   " market.resolve_instrument(r.exchange, r.symbol) from signals.raw_signals as r"
                   " where r.simulated order by 1, 2, 4")
    assert len(rows) == 24                      # 2 symbols x 2 intervals x 6 indicators
    for symbol, tf, indicator, key, params, outputs, bar, iid in rows:
        candles = _q(url, f"select array_agg(high order by open_time), array_agg(low order by open_time),"
                          f" array_agg(close order by open_time), array_agg(open_time order by open_time)"
                          f" from market.candles_{tf} where instrument_id = %s and open_time <= %s", (iid, bar))[0]
        high, low, close, times = candles
        assert times[-1] == bar, f"{symbol} {tf} {key}: the simulated bar is a stored bar"
        period = params.get("period")
        ours = {
            "rsi": lambda: {"value": _q(url, "select (ta.rsi(%s, %s))[%s]", (close, period, len(close)))[0][0]},
            "ema": lambda: {"value": _q(url, "select (ta.ema(%s, %s))[%s]", (close, period, len(close)))[0][0]},
            "sma": lambda: {"value": _q(url, "select (ta.sma(%s, %s))[%s]", (close, period, len(close)))[0][0]},
            "atr": lambda: {"value": _q(url, "select (ta.atr(%s, %s, %s, %s))[%s]",
                                        (high, low, close, period, len(close)))[0][0]},
            "macd": lambda: dict(zip(("valueMACD", "valueMACDSignal", "valueMACDHist"), _q(
                url, "select (m).macd[%s], (m).macdsignal[%s], (m).macdhist[%s] from (select ta.macd(%s) as m) as x",
                (len(close),) * 3 + (close,))[0])),
            "bbands": lambda: dict(zip(("valueUpperBand", "valueMiddleBand", "valueLowerBand"), _q(
                url, "select (b).upperband[%s], (b).middleband[%s], (b).lowerband[%s]"
                     " from (select ta.bbands(%s) as b) as x", (len(close),) * 3 + (close,))[0])),
        }[indicator]()
        assert set(outputs) == set(ours), f"{symbol} {tf} {key}"
        for name, value in ours.items():
            assert value is not None and math.isclose(outputs[name], value, rel_tol=1e-9, abs_tol=1e-9), \
                f"{symbol} {tf} {key} {name}: simulated {outputs[name]}, ta.* {value}"
        lo, hi = min(low[-30:]), max(high[-30:])
        if indicator in ("ema", "sma"):
            assert lo <= outputs["value"] <= hi, f"{symbol} {tf} {key}: {outputs['value']} outside {lo}..{hi}"
        if indicator == "bbands":
            assert lo * 0.9 <= outputs["valueMiddleBand"] <= hi * 1.1
        if indicator == "rsi":
            assert 0 < outputs["value"] < 100


def test_taapi_crosscheck_is_not_empty_after_the_demo(demo_url):
    url, _ = demo_url
    rows = _q(url, "select symbol, timeframe, indicator, output, ours, theirs, rel_diff, simulated"
                   " from bi.taapi_crosscheck")
    assert {(r[0], r[1]) for r in rows} == {("BTC/USDT", "1h"), ("ETH/USDT", "1h"), ("BTC/USDT", "15m"),
                                           ("ETH/USDT", "15m")}
    assert {r[2] for r in rows} >= {"rsi_14", "ema_20", "sma_20", "macd_12_26_9", "bbands_20_2_2", "atr_14"}
    assert all(r[7] for r in rows) and all(r[6] is None or r[6] < 1e-9 for r in rows)


def test_price_decimals_follow_the_tick_size_or_the_stored_prices(conn):
    def register(symbol: str, tick: str | None) -> int:
        return conn.execute("select market.register_instrument('binance', %s, p_tick_size => %s::numeric)",
                            (symbol, tick)).fetchone()[0]

    btc, eur, empty = register("BTCUSDT", None), register("EURUSDT", "0.00001"), register("SOLUSDT", None)
    for iid, closes in ((btc, [61602.02, 61602.1, 61600.0]), (eur, [1.085, 1.0851, 1.09])):
        for n, close in enumerate(closes):
            conn.execute("insert into market.candles (instrument_id, timeframe, open_time, open, high, low, close,"
                         " volume, source) values (%s, '1m', timestamptz '2024-08-01' + %s * interval '1 minute',"
                         " %s, %s, %s, %s, 1, 'test')", (iid, n, close, close, close, close))
    conn.execute("insert into market.trades (instrument_id, time, trade_id, price, quantity, side)"
                 " values (%s, '2024-08-02', 1, 61602.125, 1, 'b')", (btc,))
    got = conn.execute("select market.price_decimals(%s::integer), market.price_decimals(%s::integer), market.price_decimals(%s::integer)",
                       (btc, eur, empty)).fetchone()
    assert got == (3, 5, None)
    assert format_price(61602.02, 2) == "61602.02"
    assert format_price(61602.0, 2) == "61602.00"
    assert format_price(1.0851, 5) == "1.08510"
    assert format_price(1.0851, None) == "1.0851" and format_price(61602.02, None) == "61602.02"
    assert format_price(None, 2) == "-"


def test_demo_report_shows_prices_with_their_precision_and_the_crosscheck(demo_url):
    _, lines = demo_url
    text = "\n".join(lines)
    assert "bi.taapi_crosscheck" in text
    btc = next(line for line in lines if line.startswith("binance   BTC/USDT  2024-08-09 00:05"))
    assert re.search(r" c +61602\.02 ", btc), btc
    eur = next(line for line in lines if line.startswith("mt5       EUR/USD"))
    assert any(len(tok.split(".")[-1]) == 5 for tok in eur.split() if tok.startswith("1.")), eur


def test_a_retention_run_after_the_demo_deletes_none_of_its_data(demo_url):
    url, lines = demo_url
    assert any(line.startswith("retention: the demo's data") for line in lines)
    counts = "select (select count(*) from market.trades), (select count(*) from market.quotes)," \
             " (select count(*) from market.candles)"
    before = _q(url, counts)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("call ops.run_retention()")
    assert _q(url, counts) == before
    assert before[0][0] > 30_000 and before[0][1] > 100_000
