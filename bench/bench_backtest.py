"""Backtest benchmark (issue 11, f): one strategy over 1M bars.

Data: one instrument with 1,000,000 native 1m candles (a seeded GARCH-like random walk) and the
signals of one strategy in the signals mart (signals.strategy_signals, built as tsq_dbt like dbt
does; here an EMA(50/200) cross computed in numpy: BUY when the fast EMA crosses above, SELL
below), fees 10 bps, slippage 2 bps, all in. Timed in the same run:

  (db)      select perf.backtest(...): the candles and signals read in the database, the
            simulation (native loop when tsquant_ta has it), trades, the equity row of every bar
            and the run's metrics written to the perf tables, committed;
  (python)  the same in Python: pull the candles and signals, run the numpy backtest of
            tests/perf/backtest_oracle.py (the test oracle, event-driven and vectorised), write the
            run, its trades (INSERT) and its equity rows (binary COPY) back, committed.

Prints both times, f = db / python (target <= 1.0), checks that both wrote the same equity, and
also times (db) once on the PL/pgSQL loop when the native one is installed.
Usage: python bench/bench_backtest.py [--bars 1000000] [--repeat 3] [--keep] [--mode auto|postgresql|timescaledb]
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import psycopg
from psycopg import sql

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from db.connection import connect, database_url  # noqa: E402
from db.migrate import migrate  # noqa: E402
from tests.perf.backtest_oracle import backtest  # noqa: E402

START = dt.datetime(2022, 1, 3, tzinfo=dt.timezone.utc)
STRATEGY = "bench_ema_cross"
FEES_BPS, SLIPPAGE_BPS = 10.0, 2.0


def walk(bars: int) -> np.ndarray:
    """open, high, low, close of a GARCH(1,1)-like random walk."""
    rng = np.random.default_rng(17)
    shocks = rng.standard_normal(bars)
    var = np.empty(bars)
    var[0] = 0.001 ** 2
    for i in range(1, bars):
        var[i] = 1e-9 + 0.08 * var[i - 1] * shocks[i - 1] ** 2 + 0.9 * var[i - 1]
    close = 100 * np.exp(np.cumsum(np.sqrt(var) * shocks))
    open_ = np.concatenate(([100.0], close[:-1]))
    spread = np.abs(rng.standard_normal(bars)) * np.sqrt(var) * close
    return np.column_stack([open_, np.maximum(open_, close) + spread, np.minimum(open_, close) - spread, close])


def ema(x: np.ndarray, period: int) -> np.ndarray:
    out = np.empty_like(x)
    k = 2 / (period + 1)
    out[0] = x[0]
    for i in range(1, len(x)):
        out[i] = out[i - 1] + k * (x[i] - out[i - 1])
    return out


def setup(conn, bars: int) -> int:
    ohlc = walk(bars)
    iid = conn.execute("select market.register_instrument('benchex', 'BT/USDT', p_candle_source => 'native')").fetchone()[0]
    times = [START + dt.timedelta(minutes=i) for i in range(bars)]
    with conn.cursor().copy("copy market.candles (instrument_id, timeframe, open_time, open, high, low, close, volume,"
                            " source) from stdin (format binary)") as copy:
        copy.set_types(["int4", "text", "timestamptz", "float8", "float8", "float8", "float8", "float8", "text"])
        for t, (o, h, lo, c) in zip(times, ohlc.tolist()):
            copy.write_row((iid, "1m", t, o, h, lo, c, 1.0, "bench"))
    fast, slow = ema(ohlc[:, 3], 50), ema(ohlc[:, 3], 200)
    above = fast > slow
    cross = np.flatnonzero(above[1:] != above[:-1]) + 1
    conn.execute("set role tsq_dbt")
    conn.execute("create table signals.strategy_signals (symbol text, instrument_id integer, exchange text,"
                 " timeframe text, signal_type text, signal_source text, direction text, strength float8,"
                 " confidence float8, parameters jsonb, bar_time timestamptz, signal_time timestamptz,"
                 " generated_at timestamptz, primary key (signal_source, instrument_id, timeframe, bar_time))")
    conn.execute("create view bi.trading_signals as select * from signals.strategy_signals")
    with conn.cursor().copy("copy signals.strategy_signals (signal_source, instrument_id, timeframe, bar_time,"
                            " direction) from stdin") as copy:
        for i in cross.tolist():
            copy.write_row((STRATEGY, iid, "1m", times[i], "BUY" if above[i] else "SELL"))
    conn.execute("reset role")
    conn.commit()
    return iid


def in_database(conn, iid: int, end: dt.datetime) -> tuple[float, int]:
    started = time.perf_counter()
    run_id = conn.execute("select perf.backtest(%s, %s, '1m', %s, %s, p_fees_bps => %s, p_slippage_bps => %s)",
                          (STRATEGY, iid, START, end, FEES_BPS, SLIPPAGE_BPS)).fetchone()[0]
    conn.commit()
    return time.perf_counter() - started, run_id


def in_python(conn, iid: int, end: dt.datetime) -> tuple[float, int]:
    started = time.perf_counter()
    with conn.cursor(binary=True) as cur:
        cur.execute("select open_time, open, high, low, close from market.candles_1m"
                    " where instrument_id = %s and open_time >= %s and open_time < %s order by open_time",
                    (iid, START, end))
        rows = cur.fetchall()
        cur.execute("select bar_time, direction from bi.trading_signals where signal_source = %s"
                    " and instrument_id = %s and timeframe = '1m' and bar_time >= %s and bar_time < %s",
                    (STRATEGY, iid, START, end))
        signals = dict(cur.fetchall())
    times = [r[0] for r in rows]
    ohlc = np.array([r[1:] for r in rows], dtype=float)
    entries = [signals.get(t) == "BUY" for t in times]
    exits = [signals.get(t) == "SELL" for t in times]
    result = backtest(ohlc[:, 0], ohlc[:, 1], ohlc[:, 2], ohlc[:, 3], entries, exits,
                      fees=FEES_BPS / 10000, slippage=SLIPPAGE_BPS / 10000)
    run_id = conn.execute(
        "insert into perf.backtest_runs (strategy, instrument_id, timeframe, start_time, end_time, init_cash,"
        " fees_bps, slippage_bps, signal_relation, bars, final_equity, finished_at)"
        " values (%s, %s, '1m', %s, %s, 10000, %s, %s, 'bi.trading_signals', %s, %s, now()) returning run_id",
        (STRATEGY, iid, START, end, FEES_BPS, SLIPPAGE_BPS, len(times), float(result.equity[-1]))).fetchone()[0]
    with conn.cursor() as cur:
        cur.executemany(
            "insert into perf.backtest_trades (run_id, trade_no, entry_time, entry_price, exit_time, exit_price,"
            " quantity, fees, pnl, pnl_percent, exit_reason, status) values (%s, %s, %s, %s, %s, %s, %s, %s, %s,"
            " %s, %s, %s)",
            [(run_id, k, times[t.entry_bar], t.entry_price, None if t.exit_bar is None else times[t.exit_bar],
              t.exit_price, t.quantity, t.fees if t.fees is not None else t.entry_fee, t.pnl,
              None if t.pnl is None else t.pnl / t.cost * 100, t.exit_reason,
              "OPEN" if t.exit_bar is None else "CLOSED") for k, t in enumerate(result.trades, start=1)])
        with cur.copy("copy perf.backtest_equity (run_id, bar_time, close, position, cash, equity)"
                      " from stdin (format binary)") as copy:
            copy.set_types(["int8", "timestamptz", "float8", "float8", "float8", "float8"])
            for row in zip(times, ohlc[:, 3].tolist(), result.position.tolist(), result.cash.tolist(),
                           result.equity.tolist()):
                copy.write_row((run_id, *row))
    conn.commit()
    return time.perf_counter() - started, run_id


def same_equity(conn, a: int, b: int) -> float:
    # two ordered arrays, compared element by element (no join for the planner to misjudge)
    return conn.execute(
        "select max(abs(x - y) / greatest(abs(y), 1e-12)) from unnest("
        " (select array_agg(e.equity order by e.bar_time) from perf.backtest_equity as e where e.run_id = %s),"
        " (select array_agg(e.equity order by e.bar_time) from perf.backtest_equity as e where e.run_id = %s)"
        ") as u (x, y)", (a, b)).fetchone()[0]


def drop(name: str) -> None:
    with connect(database_url("postgres"), autocommit=True) as admin:
        admin.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--bars", type=int, default=1_000_000)
    p.add_argument("--repeat", type=int, default=3, help="runs of each; the median is used")
    p.add_argument("--keep", action="store_true", help="keep the bench database (and reuse a kept one)")
    p.add_argument("--mode", default="auto", choices=("auto", "postgresql", "timescaledb"),
                   help="database mode of the bench database (auto: TimescaleDB when installed)")
    args = p.parse_args(argv)
    main_db = psycopg.conninfo.conninfo_to_dict(database_url()).get("dbname") or "tsquant"
    name = f"{main_db}_bench_backtest"
    url = database_url(name)
    if not args.keep:
        drop(name)
    try:
        report = migrate(url, mode=args.mode, create_db=True, log=lambda _m: None)
        with connect(url) as conn:
            started = time.perf_counter()
            iid = conn.execute("select instrument_id from market.instruments where symbol = 'BT/USDT'").fetchone()
            if iid is None or conn.execute("select count(*) from market.candles").fetchone()[0] != args.bars:
                iid = setup(conn, args.bars)
                with connect(url, autocommit=True) as maintenance:
                    maintenance.execute("vacuum analyze")
            else:
                iid = iid[0]
            conn.execute("truncate perf.backtest_runs cascade")
            conn.commit()
            end = START + dt.timedelta(minutes=args.bars)
            trades = conn.execute("select count(*) from signals.strategy_signals").fetchone()[0]
            kernels = conn.execute("select ta.kernel_implementation()").fetchone()[0]
            print(f"backtest: 1 strategy over {args.bars:,} 1m bars ({trades:,} signals), {report.mode} mode, "
                  f"setup {time.perf_counter() - started:.0f} s")
            db_times, py_times = [], []
            for _ in range(args.repeat):
                t_db, run_db = in_database(conn, iid, end)
                t_py, run_py = in_python(conn, iid, end)
                db_times.append(t_db)
                py_times.append(t_py)
            db, py = statistics.median(db_times), statistics.median(py_times)
            print(f"(db)     perf.backtest, trades + equity + metrics written : {db:7.2f} s  kernels: {kernels}")
            print(f"(python) pull, numpy backtest, trades + equity written     : {py:7.2f} s")
            print(f"    largest relative equity difference between the two: {same_equity(conn, run_db, run_py):.1e}")
            print(f"f = db/python = {db / py:.2f}  (target <= 1.0)")
            if kernels != "plpgsql":
                conn.execute("set tsquant.native_kernels = off")
                t_plpgsql, _ = in_database(conn, iid, end)
                conn.execute("reset tsquant.native_kernels")
                print(f"(db) on the PL/pgSQL loop: {t_plpgsql:7.2f} s (f {t_plpgsql / py:.2f})")
    finally:
        if not args.keep:
            drop(name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
