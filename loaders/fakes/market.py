"""Deterministic market data every fake serves: trades over a fixed window that ends at the
fake's "now", candles of any width built from them (including the still-forming last bucket).

Minutes listed in `quiet_minutes` have no trades: exchanges that fill quiet intervals (Binance,
Kraken) serve a flat zero-volume candle there, Coinbase serves no row.

Prices move by a relative `volatility` per trade and sit on the instrument's tick (`decimals`):
the defaults are crypto-like (cents, 8 bp a trade); FX is e.g. `decimals=5, volatility=0.00008,
spread=0.00012` (EUR/USD in 1e-5 steps, a 1.2 pip spread). `end_price` bends the walk so that it
ends there (the demo joins the fake day to the real captures that follow it).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone

US = 1_000_000
MINUTE_US = 60 * US


def utc_us(text: str) -> int:
    moment = datetime.fromisoformat(text).replace(tzinfo=timezone.utc)
    return int(moment.timestamp()) * US


@dataclass(frozen=True)
class Trade:
    trade_id: int
    time_us: int
    price: float
    quantity: float
    buyer_is_maker: bool


@dataclass(frozen=True)
class Candle:
    open_time_us: int
    open: float
    high: float
    low: float
    close: float
    volume: float
    quote_volume: float
    count: int


@dataclass
class MarketData:
    start_us: int = utc_us("2024-08-01T00:00:00")
    now_us: int = utc_us("2024-08-01T03:00:30")
    seed: int = 7
    start_price: float = 64_000.0
    trades_per_minute: int = 4
    quiet_minutes: frozenset[int] = frozenset({17, 18, 95})
    first_trade_id: int = 1_000_000
    decimals: int = 2                   # price tick = 10 ** -decimals
    volatility: float = 0.0008          # standard deviation of the relative move per trade
    spread: float = 0.5                 # ask - bid of the quotes the fakes derive from trades
    end_price: float | None = None      # bend the walk so that its last trade is at this price
    trades: list[Trade] = field(init=False)

    def __post_init__(self) -> None:
        rng = random.Random(self.seed)
        price = self.start_price
        trades: list[Trade] = []
        tid = self.first_trade_id
        minute = 0
        t0 = self.start_us
        while t0 + minute * MINUTE_US < self.now_us:
            if minute not in self.quiet_minutes:
                offsets = sorted(rng.randrange(0, 60_000) for _ in range(self.trades_per_minute))
                if minute % 7 == 0 and offsets:   # several trades in one millisecond
                    offsets.append(offsets[-1])
                for ms in offsets:
                    at = t0 + minute * MINUTE_US + ms * 1000
                    if at >= self.now_us:
                        break
                    price *= 1 + rng.gauss(0, self.volatility)
                    trades.append(Trade(tid, at, price, round(rng.uniform(0.001, 0.5), 5), rng.random() < 0.5))
                    tid += 1
            minute += 1
        self.trades = self._on_ticks(trades)

    def _on_ticks(self, trades: list[Trade]) -> list[Trade]:
        """Prices rounded to the tick, after bending the walk towards end_price (a geometric
        drift growing linearly with the trade's position: the first trade barely moves)."""
        if not trades:
            return trades
        drift = 0.0 if self.end_price is None else math.log(self.end_price / trades[-1].price)
        last = max(1, len(trades) - 1)
        return [replace(t, price=round(t.price * math.exp(drift * n / last), self.decimals))
                for n, t in enumerate(trades)]

    @property
    def tick(self) -> float:
        return 10.0 ** -self.decimals

    def price_text(self, price: float) -> str:
        """A price as exchanges write it: a decimal string on the market's tick."""
        return f"{price:.{self.decimals}f}"

    # -- candles --------------------------------------------------------------------------------
    def candles(self, width_s: int, *, fill_quiet: bool) -> list[Candle]:
        """Candles of `width_s` seconds from the first bucket to the one containing now."""
        width = width_s * US
        buckets: dict[int, list[Trade]] = {}
        for t in self.trades:
            buckets.setdefault(t.time_us // width * width, []).append(t)
        out: list[Candle] = []
        first = self.start_us // width * width
        last = (self.now_us - 1) // width * width
        previous_close = self.start_price
        at = first
        while at <= last:
            group = buckets.get(at)
            if group:
                prices = [t.price for t in group]
                out.append(Candle(at, prices[0], max(prices), min(prices), prices[-1],
                                  round(sum(t.quantity for t in group), 8),
                                  round(sum(t.quantity * t.price for t in group), 6), len(group)))
                previous_close = prices[-1]
            elif fill_quiet:
                p = previous_close
                out.append(Candle(at, p, p, p, p, 0.0, 0.0, 0))
            at += width
        return out

    def forming_open_us(self, width_s: int) -> int:
        return (self.now_us - 1) // (width_s * US) * (width_s * US)
