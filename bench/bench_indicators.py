"""Indicator benchmark (issue: in-database indicators), one run on one database.

(a) baseline: pull 1M OHLCV bars of one instrument into Python, compute the standard set with
    TA-Lib (SMA, EMA, RSI, MACD, BBANDS, ATR, STOCH, ADX, OBV, VWAP), COPY the results back;
(b) the same set computed in the database by ta.* and written to a table through ta.zip (native
    kernels when tsquant_ta is installed; then also once with the PL/pgSQL kernels);
(c) incremental maintenance: append 1 bar to each of 100 instruments and bring their maintained
    indicator values up to date, with 100k vs 10M bars of history (ta.refresh_indicators).

Prints the times and the ratios b/a (target <= 0.33) and c(10M)/c(100k) (target <= 1.2).
Usage: python bench/bench_indicators.py [--bars 1000000] [--skip-incremental]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import talib

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from db.connection import connect, database_url  # noqa: E402
from db.migrate import migrate  # noqa: E402

BENCH_DB = "tsq_bench_indicators"
OUTPUTS = [
    "sma", "ema", "rsi", "macd", "macdsignal", "macdhist", "bb_upper", "bb_middle", "bb_lower",
    "atr", "slowk", "slowd", "adx", "obv", "vwap",
]


def create_bars(conn, bars: int) -> None:
    """A seeded random walk with volatility clustering, as OHLCV bars."""
    rng = np.random.default_rng(7)
    vol = np.empty(bars)
    vol[0] = 0.001
    shocks = rng.standard_normal(bars)
    for i in range(1, bars):  # GARCH(1,1)-like variance
        vol[i] = np.sqrt(1e-8 + 0.08 * (vol[i - 1] * shocks[i - 1]) ** 2 + 0.9 * vol[i - 1] ** 2)
    close = 100 * np.exp(np.cumsum(vol * shocks))
    spread = np.abs(rng.standard_normal(bars)) * vol * close
    high = close + spread
    low = close - spread
    open_ = np.concatenate(([close[0]], close[:-1]))
    high = np.maximum.reduce([high, open_, close])
    low = np.minimum.reduce([low, open_, close])
    volume = rng.lognormal(2, 1, bars)
    conn.execute("drop table if exists bench_bars")
    conn.execute(
        "create table bench_bars (i int primary key, open float8, high float8, low float8, close float8, volume float8)"
    )
    with conn.cursor().copy("copy bench_bars from stdin") as copy:
        for row in zip(range(bars), open_, high, low, close, volume):
            copy.write_row(row)
    conn.execute("analyze bench_bars")
    conn.commit()


def results_table(conn, name: str) -> None:
    conn.execute(f"drop table if exists {name}")
    columns = ", ".join(f"{c} float8" for c in OUTPUTS)
    conn.execute(f"create unlogged table {name} (i int, {columns})")


def baseline_python(conn) -> float:
    """(a) pull into Python, TA-Lib, COPY back."""
    results_table(conn, "bench_out_python")
    conn.commit()
    started = time.perf_counter()
    rows = conn.execute("select i, high, low, close, volume from bench_bars order by i").fetchall()
    data = np.array(rows, dtype=float)
    i, h, l, c, v = data.T
    macd, macdsignal, macdhist = talib.MACD(c)
    upper, middle, lower = talib.BBANDS(c)
    slowk, slowd = talib.STOCH(h, l, c)
    columns = [
        i, talib.SMA(c), talib.EMA(c), talib.RSI(c), macd, macdsignal, macdhist, upper, middle, lower,
        talib.ATR(h, l, c), slowk, slowd, talib.ADX(h, l, c), talib.OBV(c, v), talib.VWAP(h, l, c, v),
    ]
    # psycopg 3's idiomatic bulk path: binary COPY, one row at a time, NaN sent as NULL.
    out = np.column_stack(columns[1:])
    out = np.where(np.isnan(out), None, out).tolist()
    with conn.cursor().copy("copy bench_out_python from stdin (format binary)") as copy:
        copy.set_types(["int4"] + ["float8"] * len(OUTPUTS))
        for index, row in zip(i.astype(int).tolist(), out):
            copy.write_row([index, *row])
    conn.commit()
    return time.perf_counter() - started


IN_DATABASE = """
insert into bench_out_sql
select (z).key, (z).v1, (z).v2, (z).v3, (z).v4, (z).v5, (z).v6, (z).v7, (z).v8, (z).v9, (z).v10,
       (z).v11, (z).v12, (z).v13, (z).v14, (z).v15
from (
    -- ta.zip in the SELECT list streams the rows (no materialisation of a million wide rows)
    select ta.zip(s.ids, ta.sma(s.c), ta.ema(s.c), ta.rsi(s.c), (x.m).macd, (x.m).macdsignal,
                  (x.m).macdhist, (x.b).upperband, (x.b).middleband, (x.b).lowerband,
                  ta.atr(s.h, s.l, s.c), (x.st).slowk, (x.st).slowd, ta.adx(s.h, s.l, s.c),
                  ta.obv(s.c, s.v), ta.vwap(s.h, s.l, s.c, s.v)) as z
    from (
        -- one ordered scan feeds every array (array_agg(x order by i) would sort once per array)
        select array_agg(o.high) as h, array_agg(o.low) as l, array_agg(o.close) as c,
               array_agg(o.volume) as v, array_agg(o.i) as ids
        from (select i, high, low, close, volume from bench_bars order by i) as o
    ) as s,
    -- offset 0 keeps each multi-output function to one call (no expansion per output column)
    lateral (select ta.macd(s.c) as m, ta.bbands(s.c) as b, ta.stoch(s.h, s.l, s.c) as st offset 0) as x
) as q
"""


def in_database(conn) -> float:
    """(b) the same set computed by ta.* inside the database."""
    results_table(conn, "bench_out_sql")
    conn.commit()
    started = time.perf_counter()
    conn.execute(IN_DATABASE)
    conn.commit()
    return time.perf_counter() - started


def check_same(conn) -> float:
    """Largest relative difference between (a) and (b): the benchmark compares equal work."""
    diffs = ", ".join(
        f"max(abs(p.{c} - s.{c}) / greatest(abs(p.{c}), 1e-12))" for c in OUTPUTS
    )
    row = conn.execute(
        f"select greatest({diffs}) from bench_out_python as p join bench_out_sql as s using (i)"
    ).fetchone()
    return row[0] or 0.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bars", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs of (a) and (b); the median is used")
    parser.add_argument("--skip-incremental", action="store_true")
    args = parser.parse_args(argv)

    url = database_url(BENCH_DB)
    migrate(url, create_db=True, log=lambda _m: None)
    with connect(url) as conn:
        print(f"preparing {args.bars:,} bars ...", flush=True)
        create_bars(conn, args.bars)
        a_times, b_times = [], []
        for _ in range(args.repeat):
            a_times.append(baseline_python(conn))
            b_times.append(in_database(conn))
        a, b = statistics.median(a_times), statistics.median(b_times)
        worst = check_same(conn)
        kernels = conn.execute("select ta.kernel_implementation()").fetchone()[0]
        print(f"(a) Python + TA-Lib + COPY back : {a:7.2f} s   ({args.bars / a:,.0f} bars/s)")
        print(f"(b) in the database (ta.*)      : {b:7.2f} s   ({args.bars / b:,.0f} bars/s)  kernels: {kernels}")
        print(f"    largest relative difference between (a) and (b): {worst:.2e}")
        print(f"b/a = {b / a:.2f}  (target <= 0.33)")
        if kernels != "plpgsql":
            # the same (b) on the PL/pgSQL kernels, the path of servers without tsquant_ta (one run)
            conn.execute("set tsquant.native_kernels = off")
            b_plpgsql = in_database(conn)
            conn.execute("reset tsquant.native_kernels")
            print(f"(b) with the PL/pgSQL kernels   : {b_plpgsql:7.2f} s   (b/a {b_plpgsql / a:.2f}; native is "
                  f"{b_plpgsql / b:.1f}x faster)")
        if not args.skip_incremental:
            from bench.bench_indicators_incremental import run_incremental

            run_incremental(conn)
        for table in ("bench_bars", "bench_out_python", "bench_out_sql"):
            conn.execute(f"drop table if exists {table}")
        conn.commit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
