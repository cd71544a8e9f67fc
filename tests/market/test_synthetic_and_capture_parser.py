"""Pure-Python parts: the seeded synthetic generator and the Binance capture parser."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pandas as pd
import pytest

from loaders.sources.binance_capture import parse_capture, parse_lines
from scripts.synthetic import DEFAULT_UNIVERSE, arrival_order, generate_trades

from .helpers import CAPTURES


def test_same_seed_same_trades_and_different_seed_different_trades() -> None:
    a = generate_trades(2, 0.2, seed=3)
    b = generate_trades(2, 0.2, seed=3)
    c = generate_trades(2, 0.2, seed=4)
    pd.testing.assert_frame_equal(a, b)
    assert not a["price"].equals(c["price"])


def test_synthetic_trades_look_like_a_market() -> None:
    t = generate_trades(1, 3.0, seed=5, trades_per_day=40_000)
    inst = DEFAULT_UNIVERSE[0]
    assert abs(len(t) / 3 - 40_000) < 8_000
    ticks = t["price"] / inst.tick_size
    assert np.allclose(ticks, np.round(ticks), atol=1e-6), "prices on the tick grid"
    lots = t["quantity"] / inst.lot_step
    assert np.allclose(lots, np.round(lots), atol=1e-6) and (t["quantity"] >= inst.min_quantity).all()
    assert (np.diff(t["time"].to_numpy()) >= 0).all() and t["trade_id"].is_monotonic_increasing
    assert (t["time"] % 1000 == 0).all() and t.duplicated("time").any(), "ms timestamps with ties"
    minute = (t["time"] - t["time"].iloc[0]) // 60_000_000
    counts = t.groupby(minute).size()
    assert counts.var() / counts.mean() > 3, "arrivals cluster (overdispersed counts)"
    closes = t.groupby(minute)["price"].last()
    r = np.log(closes).diff().dropna().abs()
    assert r.autocorr(lag=1) > 0.05, "volatility clusters (|returns| autocorrelated)"
    log_size = np.log(t["quantity"] * t["price"])
    assert abs(pd.Series(log_size).skew()) < 0.5, "lognormal notional sizes"
    assert set(t["side"].unique()) == {b"b", b"s"}


def test_arrival_order_delays_some_trades_without_losing_any() -> None:
    t = generate_trades(2, 0.1, seed=1)
    d = arrival_order(t, late_fraction=0.05, seed=2)
    assert len(d) == len(t) and set(d["trade_id"]) == set(t["trade_id"])
    assert not d["time"].is_monotonic_increasing


@pytest.mark.skipif(not CAPTURES, reason="the shared Binance captures are not present")
def test_the_btc_capture_parses_to_the_documented_counts() -> None:
    path = next(p for p in CAPTURES if "btcusdt_20240808" in p.name)
    cap = parse_capture(path)
    assert len(cap.trades) == 9757 and cap.lines == 41249
    assert len(cap.quotes) == 28040 and cap.skipped == 41249 - 9757 - 28040
    assert sum(len(v) for v in cap.rejects.values()) == 0
    first = cap.trades.iloc[0]
    assert (first["symbol"], first["trade_id"], first["price"], first["quantity"], first["side"]) == \
        ("BTCUSDT", 3735683259, 61837.63, 0.02, b"s")  # m = true: the buyer was the maker
    assert first["time"] == 1723161255342 * 1000
    q = cap.quotes.iloc[0]
    assert (q["time"], q["update_id"], q["bid"], q["ask"]) == (1723161254087891, 50093239212, 61837.63, 61837.64)


def test_bad_lines_become_rejects_with_reasons() -> None:
    trade = {"stream": "btcusdt@trade", "data": {"e": "trade", "s": "BTCUSDT", "t": 1, "p": "1.0", "q": "2.0",
                                                   "T": 1723161255342, "m": False}}
    missing = json.loads(json.dumps(trade))
    del missing["data"]["q"]
    lines = [f"1 {json.dumps(trade)}", f"2 {json.dumps(missing)}", "3 {not json", "no-time {}",
             '4 {"lastUpdateId": 5, "bids": [], "asks": []}']
    cap = parse_lines(lines)
    assert len(cap.trades) == 1 and cap.trades.iloc[0]["side"] == b"b"
    assert [r.reason for r in cap.rejects["trades"]] == ["missing_field"]
    assert [r.reason for r in cap.rejects["unknown"]] == ["malformed", "malformed"]
    assert cap.skipped == 1 and cap.lines == 5


def test_a_plain_text_capture_is_read_too(tmp_path) -> None:
    line = '1723161254087896568 {"stream":"ethusdt@bookTicker","data":{"u":7,"s":"ETHUSDT","b":"1","B":"2","a":"1.5","A":"3"}}'
    plain = tmp_path / "x.ws"
    plain.write_text(line + "\n")
    packed = tmp_path / "x.ws.gz"
    with gzip.open(packed, "wt") as fh:
        fh.write(line + "\n")
    assert parse_capture(plain).quotes.equals(parse_capture(packed).quotes)
