"""Latest-N benchmark (issue 9, item 9): the last 500 bars of one instrument with their maintained
indicators from bi.candles_1h, for 100 instruments with 1 year vs 1 month of history each.

Data: per instrument a seeded random walk (volatility clustering, as loaders/synthetic.py) stored
as exchange 1h candles in market.candles — 1h rather than 1m bars so that the setup stays at a
few minutes on 2 cores (100 x 1 year of 1m bars is 52M candles plus their indicator values); the
query reads the same 500 rows whatever the bar width. Maintained per instrument: rsi_14, atr_14,
adx_14 (the three columns bi.candles_<tf> exposes) and macd_12_26_9 (a multi-output one).

Timed per query (median over random instruments, after a warm-up, rows fetched into Python), in
the same run, twice: as a prepared statement (a driver's prepared query; PostgreSQL plans it once
per session or per call, as its plan cache decides) and unprepared (planned at every call, as
Grafana and other clients that send SQL text do: the view's planning is then part of the cost):
  bi       select open_time, open, high, low, close, volume, rsi_14, atr_14, adx_14, follows_gap
           from bi.candles_1h where instrument_id = $1 order by open_time desc limit 500
  bi *     the same with select * (adds the jsonb of every maintained indicator: shown, no target)
  candles  the same from market.candles_1h (the candle view under bi, without indicators: shown,
           no target; in TimescaleDB mode it sorted the whole history before R__candle_kind.sql)
  plain    the same 500 rows of market.candles by a plain index scan, without indicators
Prints bi(1y)/bi(1mo) (target <= 1.5) and bi(1y)/plain(1y) (target <= 3) for both.
Both database modes by default (TimescaleDB mode when the server can run it).
Usage: python bench/bench_latest_n.py [--instruments 100] [--runs 200] [--mode available|postgresql|timescaledb]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import psycopg
from psycopg import sql

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from db.connection import connect, database_url  # noqa: E402
from db.migrate import timescaledb_status, migrate  # noqa: E402
from scripts.synthetic import register, universe  # noqa: E402

HISTORIES = {"1y": 365 * 24, "1mo": 30 * 24}  # 1h bars per instrument
INDICATORS = [("rsi", "{}"), ("atr", "{}"), ("adx", "{}"), ("macd", "{}")]
LIMIT = 500
BI_QUERY = ("select open_time, open, high, low, close, volume, rsi_14, atr_14, adx_14, follows_gap"
            " from bi.candles_1h where instrument_id = %s order by open_time desc limit 500")
BI_ALL_QUERY = "select * from bi.candles_1h where instrument_id = %s order by open_time desc limit 500"
CANDLES_QUERY = ("select open_time, open, high, low, close, volume"
                 " from market.candles_1h where instrument_id = %s order by open_time desc limit 500")
PLAIN_QUERY = ("select open_time, open, high, low, close, volume"
               " from market.candles where instrument_id = %s and timeframe = '1h'"
               " order by open_time desc limit 500")


def _walk(rng: np.random.Generator, bars: int, start_price: float) -> np.ndarray:
    """OHLCV rows of a GARCH(1,1)-like random walk."""
    shocks = rng.standard_normal(bars)
    var = np.empty(bars)
    var[0] = 0.006 ** 2
    for i in range(1, bars):
        var[i] = 1e-7 + 0.08 * var[i - 1] * shocks[i - 1] ** 2 + 0.9 * var[i - 1]
    close = start_price * np.exp(np.cumsum(np.sqrt(var) * shocks))
    open_ = np.concatenate(([start_price], close[:-1]))
    spread = np.abs(rng.standard_normal(bars)) * np.sqrt(var) * close
    high = np.maximum(open_, close) + spread
    low = np.minimum(open_, close) - spread
    volume = rng.lognormal(3, 1, bars)
    return np.column_stack([open_, high, low, close, volume])


def setup(url: str, instruments: int, bars: int) -> None:
    rng = np.random.default_rng(11)
    end = int(time.time()) // 3600 * 3600 - 3600  # the last bar is closed
    with connect(url, autocommit=True) as conn:
        ids = register(conn, "benchex", instruments=universe(instruments))
        with conn.cursor() as cur, cur.copy(
                "copy market.candles (instrument_id, timeframe, open_time, open, high, low, close, volume, source)"
                " from stdin") as copy:
            for inst, iid in zip(universe(instruments), ids.values()):
                times = end - 3600 * np.arange(bars - 1, -1, -1)
                for t, row in zip(times.tolist(), _walk(rng, bars, inst.start_price).tolist()):
                    copy.write_row((iid, "1h", time.strftime("%Y-%m-%d %H:%M:%S+00", time.gmtime(t)),
                                    *row, "bench"))
        for iid in ids.values():
            for ind, params in INDICATORS:
                conn.execute("select ta.maintain(%s, '1h', %s, %s::jsonb)", (iid, ind, params))
        conn.execute("select count(*) from ta.refresh_indicators()")
        conn.execute("vacuum analyze")


def timed(conn, query: str, ids: list[int], runs: int, prepared: bool) -> float:
    """Median seconds of one execution (rows fetched), over random instruments."""
    rng = np.random.default_rng(3)
    for iid in ids[:5]:
        conn.execute(query, (iid,), prepare=prepared).fetchall()
    samples = []
    for iid in rng.choice(ids, size=runs).tolist():
        started = time.perf_counter()
        rows = conn.execute(query, (iid,), prepare=prepared).fetchall()
        samples.append(time.perf_counter() - started)
        assert len(rows) == LIMIT
    return statistics.median(samples)


KINDS = {"prepared": True, "unprepared": False}


def bench_mode(mode: str, instruments: int, runs: int) -> None:
    main_db = psycopg.conninfo.conninfo_to_dict(database_url()).get("dbname") or "tsquant"
    print(f"latest-N: last {LIMIT} bars with indicators of one of {instruments} instruments "
          f"(bi.candles_1h, {len(INDICATORS)} maintained indicators each, 1h bars: see the docstring), {mode} mode")
    results = {}
    for label, bars in HISTORIES.items():
        name = f"{main_db}_bench_latest_{label}"
        url = database_url(name)
        with connect(database_url("postgres"), autocommit=True) as admin:
            admin.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
        try:
            migrate(url, mode=mode, create_db=True, log=lambda _m: None)
            started = time.perf_counter()
            setup(url, instruments, bars)
            with connect(url, autocommit=True) as conn:
                ids = [r[0] for r in conn.execute("select instrument_id from market.instruments order by 1")]
                results[label] = {
                    (kind, q): timed(conn, sql_text, ids, runs, prepared)
                    for kind, prepared in KINDS.items()
                    for q, sql_text in (("bi", BI_QUERY), ("bi *", BI_ALL_QUERY), ("candles", CANDLES_QUERY),
                                        ("plain", PLAIN_QUERY))}
            print(f"  history {label}: {bars:,} bars per instrument, setup {time.perf_counter() - started:.0f} s")
            r = results[label]
            for kind in KINDS:
                print(f"    {kind:10}  bi {r[kind, 'bi'] * 1000:.2f} ms, bi * {r[kind, 'bi *'] * 1000:.2f} ms, "
                      f"market.candles_1h {r[kind, 'candles'] * 1000:.2f} ms, "
                      f"plain index scan {r[kind, 'plain'] * 1000:.2f} ms")
        finally:
            with connect(database_url("postgres"), autocommit=True) as admin:
                admin.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
    y, m = results["1y"], results["1mo"]
    for kind in KINDS:
        print(f"latest-N ({mode}, {kind}) bi(1y)/bi(1mo) = {y[kind, 'bi'] / m[kind, 'bi']:.2f}  (target <= 1.5)")
        print(f"latest-N ({mode}, {kind}) bi(1y)/plain(1y) = {y[kind, 'bi'] / y[kind, 'plain']:.2f}  (target <= 3); "
              f"bi *(1y)/plain(1y) = {y[kind, 'bi *'] / y[kind, 'plain']:.2f}, "
              f"market.candles_1h(1y)/plain(1y) = {y[kind, 'candles'] / y[kind, 'plain']:.2f} (no target)")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--instruments", type=int, default=100)
    p.add_argument("--runs", type=int, default=200)
    p.add_argument("--mode", default="available", choices=("available", "postgresql", "timescaledb"),
                   help="available (default): plain mode, then TimescaleDB mode when the server can run it")
    args = p.parse_args(argv)
    modes = [args.mode]
    if args.mode == "available":
        with connect(database_url("postgres"), autocommit=True) as admin:
            usable, reason = timescaledb_status(admin)
        modes = ["postgresql", "timescaledb"] if usable else ["postgresql"]
        if not usable:
            print(f"latest-N: TimescaleDB mode not measured ({reason})")
    for mode in modes:
        bench_mode(mode, args.instruments, args.runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
