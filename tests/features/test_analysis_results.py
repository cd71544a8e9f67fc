"""signals.analysis_results (seed 002) recomputed independently with pandas from the features
and the signals of the same database: one row per instrument, timeframe and UTC day, the
readable summary sentence character for character, result_detail, the opportunities (exactly the
signals that fired that day) and the 0-1 score."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import psycopg

from tests.features import helpers as h

DAY = ["instrument_id", "timeframe", "analysis_date"]


def pg_round(value: float, places: int) -> str:
    """round(value::numeric, places)::text as PostgreSQL writes it: float8 -> numeric keeps 15
    significant digits, rounding is half away from zero, the scale is kept, zero has no sign."""
    d = Decimal(f"{value:.15g}").quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return format(abs(d) if d == 0 else d, "f")


def expected(conn: psycopg.Connection) -> dict[tuple, dict]:
    feats = h.fetch(conn, "select instrument_id, exchange, symbol, timeframe, open_time, open, high, low, close, rsi_14,"
                          " volatility_20_annual, gap_before, quarantined_rows from features.candle_features")
    sigs = h.fetch(conn, "select instrument_id, timeframe, signal_source, direction, bar_time, strength, confidence"
                         " from signals.strategy_signals")
    feats["analysis_date"] = feats["open_time"].dt.tz_convert("UTC").dt.date
    sigs["analysis_date"] = sigs["bar_time"].dt.tz_convert("UTC").dt.date
    by_day = {k: g.sort_values(["bar_time", "signal_source"]) for k, g in sigs.groupby(DAY)}
    out = {}
    for key, g in feats.groupby(DAY):
        g = g.sort_values("open_time")
        first, last = g.iloc[0], g.iloc[-1]
        s = by_day.get(key)
        n = 0 if s is None else len(s)
        signs = {"BUY": 1.0, "SELL": -1.0, "NEUTRAL": 0.0}
        net = 0.0 if s is None else float(
            (s["direction"].map(signs) * s["strength"].astype(float) * s["confidence"].astype(float)).sum() / n)
        rsi = None if last["rsi_14"] is None or np.isnan(last["rsi_14"]) else float(last["rsi_14"])
        vol = last["volatility_20_annual"]
        day_return = last["close"] / first["open"] - 1
        lean = ", leaning BUY" if net > 0 else ", leaning SELL" if net < 0 else ""
        out[key] = {
            "exchange": first["exchange"], "symbol": first["symbol"],
            "result_summary": (
                f"{first['symbol']} {key[1]} on {key[2].isoformat()}: {len(g)} bars, close {pg_round(last['close'], 8)}"
                f" ({pg_round(day_return * 100, 2)}% on the day), RSI(14) {'n/a' if rsi is None else pg_round(rsi, 1)},"
                f" {n} signal(s){lean}."
            ),
            "result_detail": {
                "bars": len(g), "open": first["open"], "high": g["high"].max(), "low": g["low"].min(),
                "close": last["close"], "day_return": day_return, "rsi_14": rsi,
                "volatility_20_annual": None if vol is None or np.isnan(vol) else float(vol),
                "gaps": int(g["gap_before"].sum()), "quarantined_rows": int(g["quarantined_rows"].sum()), "signals": n,
            },
            "opportunities": [] if s is None else [
                {"strategy": r.signal_source, "direction": r.direction, "bar_time": r.bar_time,
                 "strength": r.strength, "confidence": r.confidence} for r in s.itertuples()
            ],
            "score": min(1.0, max(0.0, 0.5 + 0.5 * net)),
        }
    return out


def close(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return bool(np.isclose(a, b, rtol=1e-12, atol=0))
    return a == b


def test_analysis_results_match_an_independent_recomputation(built):
    url, _, _ = built
    with psycopg.connect(url) as conn:
        want = expected(conn)
        rows = h.fetch(conn, "select * from signals.analysis_results")
        n_signals = conn.execute("select count(*) from signals.strategy_signals").fetchone()[0]
    got = {(r.instrument_id, r.timeframe, r.analysis_date): r for r in rows.itertuples()}
    assert len(got) == len(rows), "more than one row for an instrument, timeframe and day"
    assert set(got) == set(want)
    assert (rows["analysis_type"] == "daily_technical").all()
    for key, w in want.items():
        r = got[key]
        assert (r.exchange, r.symbol) == (w["exchange"], w["symbol"])
        assert r.result_summary == w["result_summary"], key
        assert r.result_detail.keys() == w["result_detail"].keys(), key
        bad = {k: (r.result_detail[k], v) for k, v in w["result_detail"].items() if not close(r.result_detail[k], v)}
        assert not bad, (key, bad)
        assert len(r.opportunities) == len(w["opportunities"]), key
        for o, e in zip(r.opportunities, w["opportunities"]):
            o = {**o, "bar_time": dt.datetime.fromisoformat(o["bar_time"])}
            assert o.keys() == e.keys() and all(close(o[k], e[k]) for k in e), (key, o, e)
        assert close(r.score, w["score"]), (key, r.score, w["score"])
    # the data exercise every branch: days with and without signals, both leanings, every signal once
    assert sum(len(r.opportunities) for r in got.values()) == n_signals > 10
    assert (rows["score"] == 0.5).any() and (rows["score"] > 0.5).any() and (rows["score"] < 0.5).any()
    assert rows["result_summary"].str.contains("leaning SELL").any()
    assert rows["result_summary"].str.contains("RSI\\(14\\) n/a").any()
