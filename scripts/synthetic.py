"""Seeded synthetic trades for demos, tests and benchmarks.

    python -m scripts.synthetic --instruments 3 --days 2 --seed 7 [--load] [--trades-per-day 50000]

Realistic enough to exercise the pipeline: per instrument, volatility clusters (GARCH(1,1) on
one-minute variance), arrivals cluster (a log-intensity AR(1) process, coupled to volatility,
drives Poisson counts per second), sizes are lognormal on the lot grid, prices move as a
geometric random walk scaled by the volatility and sit on the tick grid, aggressor sides come in
runs, and times are whole milliseconds (so several trades share a timestamp, as on exchanges;
trade ids break the ties). Same seed, same trades.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass

import numpy as np
import pandas as pd

DAY_US = 86_400 * 1_000_000


@dataclass(frozen=True)
class SyntheticInstrument:
    symbol: str
    start_price: float
    tick_size: float
    lot_step: float
    min_quantity: float
    daily_vol: float = 0.03


DEFAULT_UNIVERSE = [
    SyntheticInstrument("BTCUSDT", 60_000.0, 0.01, 0.00001, 0.00001, 0.03),
    SyntheticInstrument("ETHUSDT", 2_600.0, 0.01, 0.0001, 0.0001, 0.04),
    SyntheticInstrument("SOLUSDT", 150.0, 0.01, 0.001, 0.001, 0.05),
    SyntheticInstrument("BNBUSDT", 520.0, 0.01, 0.001, 0.001, 0.035),
    SyntheticInstrument("XRPUSDT", 0.55, 0.0001, 1.0, 1.0, 0.05),
    SyntheticInstrument("ADAUSDT", 0.35, 0.0001, 0.1, 0.1, 0.05),
]


def universe(n: int) -> list[SyntheticInstrument]:
    """n instruments: the default list, then generated ones (SYN7USDT …)."""
    out = list(DEFAULT_UNIVERSE[:n])
    for i in range(len(out), n):
        out.append(SyntheticInstrument(f"SYN{i + 1}USDT", 10.0 * (i + 1), 0.001, 0.01, 0.01, 0.04))
    return out


def _decimals(step: float) -> int:
    return max(0, int(np.ceil(-np.log10(step) - 1e-9)))


def generate_instrument(inst: SyntheticInstrument, *, start: pd.Timestamp, days: float, trades_per_day: float,
                        rng: np.random.Generator, first_trade_id: int = 1) -> pd.DataFrame:
    minutes = int(round(days * 1440))
    seconds = minutes * 60
    # GARCH(1,1) on one-minute returns: variance clusters.
    base_var = (inst.daily_vol ** 2) / 1440.0
    alpha, beta = 0.08, 0.90
    omega = base_var * (1 - alpha - beta)
    var = np.empty(minutes)
    v, r_prev = base_var, 0.0
    shocks = rng.standard_normal(minutes)
    for m in range(minutes):
        v = omega + alpha * r_prev * r_prev + beta * v
        var[m] = v
        r_prev = np.sqrt(v) * shocks[m]
    # Arrival intensity: AR(1) log-intensity per minute + coupling to volatility -> clustered trades.
    h = np.empty(minutes)
    eps = rng.standard_normal(minutes) * 0.35
    x = 0.0
    for m in range(minutes):
        x = 0.95 * x + eps[m]
        h[m] = x
    vol_ratio = np.sqrt(var / base_var)
    lam_min = np.exp(h - h.mean()) * vol_ratio
    lam_min *= trades_per_day / 1440.0 / lam_min.mean()
    lam_sec = np.repeat(lam_min / 60.0, 60) * rng.gamma(2.0, 0.5, seconds)  # burstiness within minutes
    counts = rng.poisson(lam_sec)
    n = int(counts.sum())
    sec_idx = np.repeat(np.arange(seconds), counts)
    offs_us = (sec_idx * 1_000_000 + (rng.random(n) * 1_000_000).astype(np.int64))
    offs_us.sort()
    offs_us = (offs_us // 1000) * 1000  # whole milliseconds: ties like on exchanges
    # Price: per-trade increments scaled by the minute's volatility and the time since the last trade.
    minute_of = offs_us // 60_000_000
    dt = np.diff(offs_us, prepend=offs_us[0] if n else 0) / 60_000_000.0
    sigma = np.sqrt(var[np.minimum(minute_of, minutes - 1)])
    steps = sigma * np.sqrt(np.maximum(dt, 1e-4)) * rng.standard_normal(n) * 0.8
    logp = np.log(inst.start_price) + np.cumsum(steps)
    ticks = np.maximum(np.round(np.exp(logp) / inst.tick_size), 1)
    price = np.round(ticks * inst.tick_size, _decimals(inst.tick_size))
    # Sizes: lognormal, on the lot grid, at least the minimum quantity.
    notional = rng.lognormal(mean=np.log(200.0), sigma=1.4, size=n)
    lots = np.maximum(np.round(notional / price / inst.lot_step), round(inst.min_quantity / inst.lot_step))
    qty = np.round(lots * inst.lot_step, _decimals(inst.lot_step))
    # Aggressor side in runs.
    flips = rng.random(n) < 0.3
    side = np.where(np.cumsum(flips) % 2 == 0, b"b", b"s").astype("S1")
    start_us = int(start.value // 1000)
    return pd.DataFrame({
        "symbol": inst.symbol,
        "time": start_us + offs_us,
        "trade_id": np.arange(first_trade_id, first_trade_id + n, dtype=np.int64),
        "price": price.astype(float),
        "quantity": qty.astype(float),
        "side": side,
    })


def generate_trades(n_instruments: int = 3, days: float = 1.0, *, seed: int = 42,
                    start: str | pd.Timestamp = "2024-01-01", trades_per_day: float = 20_000,
                    instruments: list[SyntheticInstrument] | None = None) -> pd.DataFrame:
    """Trades of `n_instruments` over `days` from `start` (UTC), sorted by (symbol, time, trade_id).

    Columns: symbol, time (int64 Unix microseconds), trade_id, price, quantity, side (b/s bytes).
    """
    rng = np.random.default_rng(seed)
    start_ts = pd.Timestamp(start, tz="UTC") if pd.Timestamp(start).tzinfo is None else pd.Timestamp(start)
    insts = instruments or universe(n_instruments)
    frames = [generate_instrument(inst, start=start_ts, days=days, trades_per_day=trades_per_day, rng=rng,
                                  first_trade_id=1_000_000 * (i + 1))
              for i, inst in enumerate(insts)]
    out = pd.concat(frames, ignore_index=True)
    out["side"] = out["side"].to_numpy().astype("S1")  # concat turns bytes into objects
    return out


def arrival_order(trades: pd.DataFrame, *, late_fraction: float = 0.02, max_delay_s: float = 900.0,
                  shuffle_fraction: float = 0.05, seed: int = 0) -> pd.DataFrame:
    """The same trades in the order a feed might deliver them: a fraction arrives late (up to
    `max_delay_s` after their time), and small neighbourhoods are shuffled (out of order)."""
    rng = np.random.default_rng(seed)
    n = len(trades)
    arrival = trades["time"].to_numpy().astype(np.float64)
    late = rng.random(n) < late_fraction
    arrival[late] += rng.random(int(late.sum())) * max_delay_s * 1e6
    jitter = rng.random(n) < shuffle_fraction
    arrival[jitter] += rng.normal(0, 5e6, int(jitter.sum()))
    order = np.argsort(arrival, kind="stable")
    return trades.iloc[order].reset_index(drop=True)


def register(conn, exchange: str = "synthetic", n_instruments: int = 3,
             instruments: list[SyntheticInstrument] | None = None) -> dict[str, int]:
    """Registers the synthetic instruments (exchange 'synthetic') and returns {symbol: id}."""
    out = {}
    for inst in instruments or universe(n_instruments):
        out[inst.symbol] = conn.execute(
            "select market.register_instrument(%s, %s, p_tick_size => %s, p_lot_step => %s,"
            " p_min_quantity => %s)",
            (exchange, inst.symbol, str(inst.tick_size), str(inst.lot_step), str(inst.min_quantity)),
        ).fetchone()[0]
    return out


def main(argv: list[str] | None = None) -> int:
    from loaders.core.cli import UserError
    from loaders.core.progress import Progress

    p = argparse.ArgumentParser(prog="python -m scripts.synthetic", description=__doc__.split("\n\n")[0])
    p.add_argument("--instruments", type=int, default=3, help="number of instruments (default 3)")
    p.add_argument("--days", type=float, default=1.0, help="days of trading (default 1)")
    p.add_argument("--start", default="2024-01-01", help="first day, UTC (default 2024-01-01)")
    p.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    p.add_argument("--trades-per-day", type=float, default=20_000, help="average trades per instrument per day")
    p.add_argument("--load", action="store_true", help="load into market.trades (exchange 'synthetic')")
    p.add_argument("--csv", help="write the trades to this CSV file instead")
    p.add_argument("--batch-size", type=int, default=100_000, help="rows per transaction when loading")
    p.add_argument("--url", help="database URL (default: DATABASE_URL or the embedded database)")
    p.add_argument("--quiet", action="store_true")
    args = p.parse_args(argv)
    if args.instruments < 1 or args.days <= 0 or args.trades_per_day <= 0:
        raise UserError("--instruments, --days and --trades-per-day must be positive")
    try:
        pd.Timestamp(args.start)
    except ValueError:
        raise UserError(f"--start {args.start!r} is not a date") from None
    trades = generate_trades(args.instruments, args.days, seed=args.seed, start=args.start,
                             trades_per_day=args.trades_per_day)
    if args.csv:
        out = trades.copy()
        out["time"] = pd.to_datetime(out["time"], unit="us", utc=True)
        out["side"] = out["side"].str.decode("ascii")
        out.to_csv(args.csv, index=False)
        print(f"wrote {len(trades)} trades to {args.csv}")
    if args.load:
        from db.connection import connect
        from loaders.core.ingest import TRADES
        from loaders.core.runs import LoaderRun
        from loaders.core.instruments import attach_ids

        with connect(args.url, autocommit=True) as conn:
            ids = register(conn, n_instruments=args.instruments)
            progress = Progress(enabled=not args.quiet)
            try:
                with LoaderRun(conn, job="synthetic", source="synthetic", dataset="trades",
                               args=vars(args), progress=progress) as run:
                    c = run.load(TRADES, attach_ids(trades, ids), batch_size=args.batch_size)
            finally:
                progress.done()
            print(f"run {run.run_id}: in {c.rows_in} = loaded {c.loaded} + quarantined {c.quarantined}"
                  f" + duplicate {c.duplicate}")
    if not args.csv and not args.load:
        print(trades.describe().to_string())
    return 0


if __name__ == "__main__":
    from db.errors import run_main

    sys.exit(run_main(main))
