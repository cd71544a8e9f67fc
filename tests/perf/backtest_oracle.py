"""An independent backtest of perf.backtest's rules in numpy, and the data the tests run it on.

The SQL (and C) simulation walks bar by bar. This oracle is written the other way round, from the
rules in docs/trading-and-risk.md: it jumps from trade to trade (the next entry signal while
flat, then the earliest of the first exit signal and the first bar that touches a stop or target,
found with vectorised numpy searches), then builds position, cash and equity from the trades with
array operations. Risk sizing recomputes MetaTrader's rule exactly with fractions from the
decimal values PostgreSQL's float8 -> numeric cast gives (15 significant digits).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pandas as pd

from loaders.sources.binance_capture import bundled_captures, parse_capture


@dataclass
class Trade:
    entry_bar: int          # 0-based bar whose open filled the entry
    quantity: float
    cost: float             # cash spent, fees included
    entry_price: float
    entry_fee: float
    exit_bar: int | None = None
    exit_price: float | None = None
    fees: float | None = None
    pnl: float | None = None
    exit_reason: str | None = None


@dataclass
class Result:
    position: np.ndarray
    cash: np.ndarray
    equity: np.ndarray
    trades: list[Trade]


def numeric(x: float) -> Fraction:
    """The exact value of PostgreSQL's float8::numeric (15 significant digits)."""
    return Fraction(Decimal(format(x, ".15g")))


def metatrader_lots(equity: float, risk: float, entry: float, stop: float, specs: list[Decimal]) -> float:
    """risk.position_size's contract, exactly: the largest multiple of the volume step whose loss
    at the stop stays within equity × risk; 0 below the minimum volume; at most the maximum."""
    tick_size, tick_value, step, vmin, vmax, commission = (
        Fraction(s) if s is not None and s.is_finite() else None for s in specs[:6])  # no maximum: Infinity
    e, r, p, s = numeric(equity), numeric(risk), numeric(entry), numeric(stop)
    if e <= 0:
        return 0.0
    loss_per_lot = abs(p - s) / tick_size * tick_value + commission
    steps = math.floor(e * r / loss_per_lot / step)
    volume = steps * step
    if volume <= 0 or volume < vmin:
        return 0.0
    return float(min(volume, vmax) if vmax is not None else volume)


def backtest(open_, high, low, close, entries, exits, *, init_cash=10000.0, fees=0.0, slippage=0.0,
             fraction=1.0, stop_loss=None, take_profit=None, risk=None, specs=None) -> Result:
    open_ = np.asarray(open_, dtype=float)
    close = np.asarray(close, dtype=float)
    n = len(open_)
    high = np.asarray(high if high is not None else open_, dtype=float)
    low = np.asarray(low if low is not None else open_, dtype=float)
    entries = np.array([bool(v) for v in entries], dtype=bool)  # None (SQL NULL) is False
    exits = np.array([bool(v) for v in exits], dtype=bool)
    buy_signal = entries & ~exits
    sell_signal = exits & ~entries
    if n:
        buy_signal[-1] = sell_signal[-1] = False  # no bar after the last one to fill on
    buy_bars = np.flatnonzero(buy_signal)
    sell_bars = np.flatnonzero(sell_signal)
    stops = stop_loss is not None or take_profit is not None

    trades: list[Trade] = []
    cash = init_cash
    changes = [(0, init_cash)]  # (bar, cash from that bar on)
    flat_from = 0  # the first bar whose close sees no position
    while True:
        k = np.searchsorted(buy_bars, flat_from)
        if k == len(buy_bars):
            break
        e = int(buy_bars[k]) + 1
        price = open_[e] * (1 + slippage)
        max_qty = cash / (price * (1 + fees))
        if risk is None:
            spend = cash * fraction
            qty = spend / (price * (1 + fees))
        else:
            qty = metatrader_lots(cash, risk, price, price * (1 - stop_loss), specs) * float(specs[6])
            if qty >= max_qty:
                qty, spend = max_qty, cash
            else:
                spend = qty * price * (1 + fees)
        if not qty > 0:
            flat_from = e  # nothing bought: still flat at bar e-1's close... and from then on
            continue
        cash = cash - spend
        changes.append((e, cash))
        trade = Trade(e, qty, spend, price, qty * price * fees)
        trades.append(trade)
        # the exit: a sell signal at bar s >= e fills at s+1's open, unless a level is touched first
        m = np.searchsorted(sell_bars, e)
        signal_fill = int(sell_bars[m]) + 1 if m < len(sell_bars) else None
        exit_bar, exit_price, reason = None, None, None
        if stops:
            stop = price * (1 - stop_loss) if stop_loss is not None else -math.inf
            target = price * (1 + take_profit) if take_profit is not None else math.inf
            last = (signal_fill - 1) if signal_fill is not None else n - 1
            o, lo, hi = open_[e:last + 1], low[e:last + 1], high[e:last + 1]
            touched = (o <= stop) | (o >= target) | (lo <= stop) | (hi >= target)
            if touched.any():
                j = int(np.argmax(touched))
                exit_bar = e + j
                if o[j] <= stop:
                    exit_price, reason = o[j], "stop_loss"
                elif o[j] >= target:
                    exit_price, reason = o[j], "take_profit"
                elif lo[j] <= stop:
                    exit_price, reason = stop, "stop_loss"
                else:
                    exit_price, reason = target, "take_profit"
                exit_price = exit_price * (1 - slippage)
        if exit_bar is None and signal_fill is not None:
            exit_bar, exit_price, reason = signal_fill, open_[signal_fill] * (1 - slippage), "signal"
        if exit_bar is None:
            break  # still open at the last bar
        proceeds = qty * exit_price * (1 - fees)
        cash = cash + proceeds
        changes.append((exit_bar, cash))
        trade.exit_bar, trade.exit_price, trade.exit_reason = exit_bar, exit_price, reason
        trade.fees = trade.entry_fee + qty * exit_price * fees
        trade.pnl = proceeds - spend
        flat_from = exit_bar

    position = np.zeros(n)
    for t in trades:
        position[t.entry_bar:(t.exit_bar if t.exit_bar is not None else n)] = t.quantity
    change_bars = np.array([b for b, _ in changes])
    change_cash = np.array([c for _, c in changes])
    # the last change at or before each bar (two changes on one bar: the later one)
    cash_by_bar = change_cash[np.searchsorted(change_bars, np.arange(n), side="right") - 1]
    return Result(position, cash_by_bar, cash_by_bar + position * close, trades)


def assert_close(got, want, label: str, rel: float = 1e-9) -> None:
    """Element by element within `rel` (NULL = NaN = NaN; zeros within 1e-12 of the scale)."""
    got = np.array([math.nan if v is None else v for v in got], dtype=float)
    want = np.array([math.nan if v is None else v for v in want], dtype=float)
    assert got.shape == want.shape, f"{label}: {got.shape} values, expected {want.shape}"
    scale = max(1.0, float(np.nanmax(np.abs(want), initial=0))) if want.size else 1.0
    bad = np.flatnonzero(~np.isclose(got, want, equal_nan=True, rtol=rel, atol=1e-12 * scale))
    assert bad.size == 0, (f"{label}: differs at {bad[:8].tolist()}: got {got[bad[:4]].tolist()}, "
                           f"expected {want[bad[:4]].tolist()}")


# ----------------------------------------------------------------------------------------------
# Data
# ----------------------------------------------------------------------------------------------

def synthetic_bars(n: int, seed: int, start: float = 100.0, vol: float = 0.01) -> dict[str, np.ndarray]:
    """A seeded random walk as OHLC bars (open = previous close with a small gap)."""
    rng = np.random.default_rng(seed)
    close = start * np.exp(np.cumsum(rng.normal(0, vol, n)))
    open_ = np.concatenate([[start], close[:-1]]) * np.exp(rng.normal(0, vol / 4, n))
    high = np.maximum(open_, close) * np.exp(np.abs(rng.normal(0, vol / 2, n)))
    low = np.minimum(open_, close) * np.exp(-np.abs(rng.normal(0, vol / 2, n)))
    return {"open": open_, "high": high, "low": low, "close": close}


def random_signals(n: int, seed: int, rate: float = 0.05, nulls: bool = False) -> tuple[list, list]:
    """Entry and exit signals, some on the same bar, some NULL when asked."""
    rng = np.random.default_rng(seed)
    entries = list(rng.random(n) < rate)
    exits = list(rng.random(n) < rate)
    if nulls:
        for i in rng.choice(n, size=max(1, n // 20), replace=False):
            (entries if rng.random() < 0.5 else exits)[i] = None
    return [None if v is None else bool(v) for v in entries], [None if v is None else bool(v) for v in exits]


def capture_bars(path, seconds: int = 1) -> dict[str, np.ndarray]:
    """OHLC bars of `seconds` from a real Binance capture; a bar without trades is flat at the
    previous close."""
    trades = parse_capture(path).trades
    t = pd.to_datetime(trades["time"], unit="us", utc=True)
    prices = pd.Series(trades["price"].astype(float).to_numpy(), index=t).sort_index()
    bars = prices.resample(f"{seconds}s").ohlc()
    bars["close"] = bars["close"].ffill()
    for column in ("open", "high", "low"):
        bars[column] = bars[column].fillna(bars["close"])
    return {c: bars[c].to_numpy() for c in ("open", "high", "low", "close")}


CAPTURES = bundled_captures()
