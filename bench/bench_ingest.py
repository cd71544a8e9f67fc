"""Ingest benchmark: 1M synthetic trades, four ways, in one run on the same database.

    python bench/bench_ingest.py [--rows 1000000] [--mode auto|postgresql|timescaledb] [--keep]

(a) raw COPY (binary) into an unindexed copy of market.trades: the physical limit;
(b) the project's ingest of new data (loaders.core: validation + fast-path COPY);
(c) the same data again, fully overlapping (merge path: everything is a duplicate);
(d) the naive path on the same overlapping data: COPY into a stage + INSERT … ON CONFLICT DO NOTHING;
(d') the naive path for new data, into an empty copy of market.trades (same indexes; a hypertable
     in TimescaleDB mode);
each measured --repeat times (best kept: the machine may be shared), plus the time to bring the candle rollups up to date after (b). Prints rows/s and the ratios b/a,
c/d and b/d'. Runs in a scratch database (<database>_bench) migrated like the main one and dropped
afterwards (unless --keep).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg  # noqa: E402
from psycopg import sql  # noqa: E402

from db.connection import connect, database_url, with_database  # noqa: E402
from db.migrate import migrate  # noqa: E402
from loaders.core import pgcopy  # noqa: E402
from loaders.core.ingest import TRADES  # noqa: E402
from loaders.core.runs import LoaderRun  # noqa: E402
from loaders.core.instruments import attach_ids  # noqa: E402
from scripts.synthetic import generate_trades, register  # noqa: E402

COLS = "time, instrument_id, trade_id, price, quantity, side"


def _copy(conn: psycopg.Connection, table: str, payload: bytes) -> None:
    with conn.cursor().copy(f"copy {table} ({COLS}) from stdin (format binary)") as cp:
        cp.write(payload)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--instruments", type=int, default=4)
    p.add_argument("--batch-size", type=int, default=250_000)
    p.add_argument("--mode", default="auto", choices=("auto", "postgresql", "timescaledb"))
    p.add_argument("--repeat", type=int, default=3, help="measure each path this many times, keep the best (default 3)")
    p.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = p.parse_args(argv)

    main_url = database_url()
    name = (psycopg.conninfo.conninfo_to_dict(main_url).get("dbname") or "tsquant") + "_bench"
    url = with_database(main_url, name)
    with connect(database_url("postgres"), autocommit=True) as admin:
        admin.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
    report = migrate(url, mode=args.mode, create_db=True, log=lambda _m: None)
    try:
        with connect(url, autocommit=True) as conn:
            mode = conn.execute("select ops.database_mode()").fetchone()[0]
            ids = register(conn, n_instruments=args.instruments)
            per_day = args.rows / args.instruments
            trades = generate_trades(args.instruments, 1.0, seed=1, start="2024-06-01", trades_per_day=per_day)
            frame = attach_ids(trades, ids)
            n = len(frame)
            print(f"tsquant ingest benchmark: {n:,} synthetic trades, {args.instruments} instruments, "
                  f"{mode} mode, batches of {args.batch_size:,}")
            payload = pgcopy.encode(TRADES.columns, {c: frame[c].to_numpy() for c in TRADES.names}, TRADES.nullable)
            conn.execute("create table public.bench_raw (like market.trades)")
            conn.execute("create table public.bench_naive (like market.trades including all)")
            if mode == "timescaledb":
                conn.execute("select public.create_hypertable('public.bench_naive', public.by_range('time', interval '1 day'),"
                             " create_default_indexes => false)")
            conn.execute("checkpoint")

            results: dict[str, float] = {}
            reps = max(1, args.repeat)

            def best(key: str, run, reset=None) -> None:
                for _ in range(reps):
                    if reset:
                        reset()
                    took = run()
                    results[key] = min(results.get(key, float("inf")), took)

            def best_once(key: str, run) -> None:
                results[key] = min(results.get(key, float("inf")), run())

            def raw_copy() -> float:
                t = time.perf_counter()
                with conn.transaction():
                    _copy(conn, "public.bench_raw", payload)
                return time.perf_counter() - t

            best("a", raw_copy, lambda: conn.execute("truncate public.bench_raw"))

            def project(expect_new: bool) -> float:
                t = time.perf_counter()
                with LoaderRun(conn, job="bench", source="bench", dataset="trades") as run:
                    run.load(TRADES, frame, batch_size=args.batch_size)
                took = time.perf_counter() - t
                c = run.counts
                assert c.balanced and (c.loaded == n if expect_new else (c.duplicate == n and c.loaded == 0)), c
                return took

            def empty_trades() -> None:
                conn.execute("truncate market.trades")
                conn.execute("delete from ops.watermarks where job = 'bench'")
                if conn.execute("select to_regclass('market.rollup_dirty') is not null").fetchone()[0]:
                    conn.execute("truncate market.rollup_dirty")
                conn.execute("checkpoint")

            best("b", lambda: project(True), empty_trades)
            t0 = time.perf_counter()
            conn.execute("call market.refresh_rollups()")
            results["rollup"] = time.perf_counter() - t0
            stored = conn.execute("select count(*) from market.trades").fetchone()[0]
            assert stored == n, f"{stored} rows stored after loading {n} rows"

            def payload_part(start: int) -> bytes:
                part = frame.iloc[start:start + args.batch_size]
                return pgcopy.encode(TRADES.columns, {c: part[c].to_numpy() for c in TRADES.names}, TRADES.nullable)

            def naive(target: str) -> float:
                # Serialising the rows (the same binary COPY encoder) is part of every path.
                t = time.perf_counter()
                for start in range(0, n, args.batch_size):
                    part = payload_part(start)
                    with conn.transaction():
                        conn.execute("create temp table if not exists bench_stage (like market.trades) on commit delete rows")
                        _copy(conn, "bench_stage", part)
                        conn.execute(f"insert into {target} ({COLS}) select {COLS} from bench_stage on conflict do nothing")
                return time.perf_counter() - t

            # (c) and (d) alternate, so that both see the same machine load.
            for _ in range(reps):
                best_once("c", lambda: project(False))
                best_once("d", lambda: naive("market.trades"))
            assert conn.execute("select count(*) from market.trades").fetchone()[0] == n, "duplicates were stored"
            best("d_new", lambda: naive("public.bench_naive"), lambda: conn.execute("truncate public.bench_naive"))
            conn.execute("drop table public.bench_raw, public.bench_naive")
    finally:
        if not args.keep:
            with connect(database_url("postgres"), autocommit=True) as admin:
                admin.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))

    def rate(k: str) -> str:
        return f"{n / results[k]:>12,.0f} rows/s  ({results[k]:6.2f} s)"

    print(f"(a)  raw COPY, unindexed table            {rate('a')}")
    print(f"(b)  project ingest, new data             {rate('b')}")
    print(f"(c)  project ingest, same data again      {rate('c')}   duplicates kept: 0")
    print(f"(d)  naive stage + ON CONFLICT, same data {rate('d')}")
    print(f"(d') naive stage + ON CONFLICT, new data  {rate('d_new')}")
    print(f"     rollups up to date after (b)         {results['rollup']:6.2f} s  ({n / results['rollup']:,.0f} trades/s)")
    print(f"b/a  = {results['a'] / results['b']:.2f}   (target >= 0.25)")
    print(f"c/d  = {results['d'] / results['c']:.2f}   (target >= 1.0)")
    print(f"b/d' = {results['d_new'] / results['b']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
