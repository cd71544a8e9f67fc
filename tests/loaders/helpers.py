"""Oracles and small helpers for the loader tests."""

from __future__ import annotations

import psycopg

from loaders.cli import main
from loaders.fakes.market import US, MarketData


def run_cli(*args: str) -> int:
    return main([str(a) for a in args])


def expected_candles(market: MarketData, width_s: int, *, fill_quiet: bool) -> list[tuple]:
    """(open_time µs, open, high, low, close, volume) of every final candle: the oracle."""
    width = width_s * US
    return [(c.open_time_us, c.open, c.high, c.low, c.close, c.volume)
            for c in market.candles(width_s, fill_quiet=fill_quiet) if c.open_time_us + width <= market.now_us]


def stored_candles(url: str, exchange: str, timeframe: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "select (extract(epoch from c.open_time) * 1e6)::bigint, c.open, c.high, c.low, c.close, c.volume"
            " from market.candles as c join market.instruments as i using (instrument_id)"
            " where i.exchange = %s and c.timeframe = %s order by c.open_time", (exchange, timeframe)).fetchall()
    return [tuple(r) for r in rows]


def stored_trades(url: str, exchange: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "select (extract(epoch from t.time) * 1e6)::bigint, t.trade_id, t.price, t.quantity, t.side"
            " from market.trades as t join market.instruments as i using (instrument_id)"
            " where i.exchange = %s order by t.time, t.trade_id", (exchange,)).fetchall()
    return [tuple(r) for r in rows]


def expected_trades(market: MarketData, side_of_buyer_maker: str = "s") -> list[tuple]:
    other = "b" if side_of_buyer_maker == "s" else "s"
    return [(t.time_us, t.trade_id, t.price, t.quantity, side_of_buyer_maker if t.buyer_is_maker else other)
            for t in market.trades]


def close(a: list[tuple], b: list[tuple], tol: float = 1e-6) -> bool:
    if len(a) != len(b):
        return False
    for x, y in zip(a, b):
        for u, v in zip(x, y):
            if isinstance(u, float) or isinstance(v, float):
                if abs(float(u) - float(v)) > tol * max(1.0, abs(float(v))):
                    return False
            elif u != v:
                return False
    return True


def last_run(url: str, job: str) -> tuple:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "select status, rows_in, rows_loaded, rows_quarantined, rows_duplicate, error, args::text"
            " from ops.loader_runs where job = %s order by run_id desc limit 1", (job,)).fetchone()
