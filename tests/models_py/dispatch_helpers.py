"""Helpers of the dispatcher tests: instruments with trading specs, 1m candles up to now, a signal
relation with bi.trading_signals' columns (for the tests that do not need dbt), and an
independent average-cost oracle of positions and realized P/L."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import psycopg

SIGNAL_TABLE = "test_dispatch.signals"


def register(conn: psycopg.Connection, exchange: str, symbol: str, *, tick: str = "0.01", step: str = "0.01",
             volume_min: str = "0.01", contract: str = "1", volume_max: str | None = None,
             base: str | None = None, quote: str | None = None) -> int:
    iid = conn.execute("select market.register_instrument(%s, %s, %s, %s, p_candle_source => 'native')",
                       (exchange, symbol, base, quote)).fetchone()[0]
    conn.execute("select market.set_instrument_specs(%s, %s, null, %s, %s, %s, %s)",
                 (iid, Decimal(tick), Decimal(contract), Decimal(volume_min), Decimal(step),
                  None if volume_max is None else Decimal(volume_max)))
    return iid


def minute(at: datetime) -> datetime:
    return at.replace(second=0, microsecond=0)


def insert_candles(conn: psycopg.Connection, instrument_id: int, rows: list[tuple]) -> None:
    """rows: (open_time, open, high, low, close, volume)."""
    with conn.cursor().copy("copy market.candles (instrument_id, timeframe, open_time, open, high, low, close, volume,"
                            " source) from stdin") as cp:
        for t, o, h, lo, c, v in rows:
            cp.write_row((instrument_id, "1m", t, o, h, lo, c, v, "test"))


def flat_candles(conn: psycopg.Connection, instrument_id: int, price: float, minutes: int = 30,
                 end: datetime | None = None, volume: float = 100.0) -> None:
    """`minutes` 1m candles at `price` ending with the current minute's predecessor (fresh prices)."""
    last = minute(end or datetime.now(timezone.utc)) - timedelta(minutes=1)
    insert_candles(conn, instrument_id, [(last - timedelta(minutes=k), price, price, price, price, volume)
                                         for k in range(minutes)])


def market_with_signals(conn: psycopg.Connection, exchange: str, prices: dict[str, float]) -> list[int]:
    """Instruments at flat, fresh prices, and an empty signal table; their ids in order."""
    ids = [register(conn, exchange, symbol) for symbol in prices]
    for iid, price in zip(ids, prices.values()):
        flat_candles(conn, iid, price)
    create_signal_table(conn)
    return ids


def create_signal_table(conn: psycopg.Connection) -> None:
    conn.execute("create schema if not exists test_dispatch")
    conn.execute(f"""create table if not exists {SIGNAL_TABLE} (
        symbol text, instrument_id integer, exchange text, timeframe text, signal_type text, signal_source text,
        direction text, strength float8, confidence float8, parameters jsonb, bar_time timestamptz,
        signal_time timestamptz, generated_at timestamptz default now())""")
    conn.execute(f"grant usage on schema test_dispatch to tsq_trader; grant select on {SIGNAL_TABLE} to tsq_trader")


def add_signal(conn: psycopg.Connection, instrument_id: int, direction: str, signal_time: datetime, *,
               source: str = "test_strategy", timeframe: str = "1m", close: float | None = None,
               atr: float | None = None, confidence: float = 0.7) -> None:
    symbol, exchange = conn.execute("select symbol, exchange from market.instruments where instrument_id = %s",
                                    (instrument_id,)).fetchone()
    bar = {"1m": 60, "5m": 300, "15m": 900, "1h": 3600}[timeframe]
    inputs = {k: v for k, v in (("close", close), ("atr_14", atr)) if v is not None}
    conn.execute(
        f"insert into {SIGNAL_TABLE} (symbol, instrument_id, exchange, timeframe, signal_type, signal_source, direction,"
        " strength, confidence, parameters, bar_time, signal_time) values (%s, %s, %s, %s, 'test', %s, %s, 0.5, %s,"
        " %s::jsonb, %s, %s)",
        (symbol, instrument_id, exchange, timeframe, source, direction, confidence, json.dumps({"inputs": inputs}),
         signal_time - timedelta(seconds=bar), signal_time),
    )


@dataclass
class AverageCost:
    """Independent average-cost book of one instrument (docs/trading-and-risk.md's method):
    adding moves the average entry; reducing realizes (price − average) × quantity × contract size;
    a fill larger than the position flips it at the fill price; fees are charged when paid."""

    contract: Decimal = Decimal(1)
    quantity: Decimal = Decimal(0)
    average: Decimal | None = None
    realized: Decimal = Decimal(0)
    closed_pnl: list[Decimal] = field(default_factory=list)
    _trade_pnl: Decimal = Decimal(0)

    def fill(self, side: str, quantity: Decimal, price: Decimal, fee: Decimal) -> None:
        sign = 1 if side == "buy" else -1
        self.realized -= fee
        if self.quantity and (self.quantity > 0) != (sign > 0):
            closing = min(quantity, abs(self.quantity))
            pnl = closing * (price - self.average) * (1 if self.quantity > 0 else -1) * self.contract
            self.realized += pnl
            share = fee * closing / quantity
            self._trade_pnl += pnl - share
            self.quantity += sign * closing
            rest = quantity - closing
            if self.quantity == 0:
                self.closed_pnl.append(self._trade_pnl)
                self._trade_pnl = Decimal(0)
                self.average = None
            if rest:
                self.quantity = sign * rest
                self.average = price
                self._trade_pnl = -(fee - share)
            return
        self._trade_pnl -= fee
        total = abs(self.quantity) + quantity
        self.average = price if not self.quantity else (abs(self.quantity) * self.average + quantity * price) / total
        self.quantity += sign * quantity
