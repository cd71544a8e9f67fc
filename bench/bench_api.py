"""API benchmark (i): the read-only HTTP API under a bounded loopback load on the candles endpoint
— the last 500 1h candles with their maintained indicators of one of 100 instruments — against
the same query run directly in SQL under the same load, in one run.

Data: bench_latest_n.py's setup (seeded random-walk 1h candles, rsi/atr/adx/macd maintained per
instrument) with one month of bars per instrument, in a scratch database dropped afterwards.

  api  N concurrent HTTP clients (httpx, keep-alive) for D seconds against `python -m db.api`
       (a separate process, its pool of 10 connections as tsq_api):
       GET /api/v1/candles?exchange=benchex&symbol=<random>&timeframe=1h&limit=500
  sql  N concurrent clients for D seconds through a psycopg pool of the same 10 connections as
       tsq_api, each running the query the endpoint runs
       (select * from bi.candles_1h where instrument_id = $1 order by open_time desc limit 501)
       and fetching the rows

Prints requests/s, p50, p99 and errors of both, and i = api p50 / sql p50 (target <= 2.0: the
HTTP layer must not dominate). Exit 1 when a request failed.
Usage: python bench/bench_api.py [--clients 50] [--duration 20] [--instruments 100] [--mode ...]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_latest_n import setup  # noqa: E402
from db.connection import connect, database_url  # noqa: E402
from db.migrate import migrate  # noqa: E402

BARS = 30 * 24
LIMIT = 500
SQL_QUERY = "select * from bi.candles_1h where instrument_id = %s order by open_time desc limit %s"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_api_login(url: str) -> str:
    params = psycopg.conninfo.conninfo_to_dict(url)
    params.pop("password", None)
    params["user"] = "tsq_api"
    return psycopg.conninfo.make_conninfo(**params)


def summary(label: str, latencies: list[float], errors: int, seconds: float) -> dict:
    q = statistics.quantiles(latencies, n=100, method="inclusive") if len(latencies) > 1 else latencies * 99
    out = {"n": len(latencies), "rps": len(latencies) / seconds, "p50": statistics.median(latencies),
           "p99": q[98], "errors": errors}
    print(f"  {label}: {out['n']:,} requests in {seconds:.0f} s = {out['rps']:.0f}/s, p50 {out['p50'] * 1000:.1f} ms,"
          f" p99 {out['p99'] * 1000:.1f} ms, errors {errors}")
    return out


async def load(work, clients: int, duration: float, warmup: float) -> tuple[list[float], int, float]:
    """Run `work()` in `clients` concurrent loops; latencies after the warm-up, errors, seconds."""
    latencies: list[float] = []
    errors = 0
    start = time.perf_counter()
    measure_from, stop_at = start + warmup, start + warmup + duration

    async def client() -> None:
        nonlocal errors
        while (now := time.perf_counter()) < stop_at:
            try:
                await work()
                ok = True
            except Exception as exc:  # noqa: BLE001 - every failure counts as an error
                ok = False
                if errors < 3:
                    print(f"    error: {type(exc).__name__}: {exc}", file=sys.stderr)
            if now >= measure_from:
                if ok:
                    latencies.append(time.perf_counter() - now)
                else:
                    errors += 1

    await asyncio.gather(*(client() for _ in range(clients)))
    return latencies, errors, duration


async def bench_api(base: str, symbols: list[str], clients: int, duration: float) -> dict:
    import httpx

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as http:
        async def work() -> None:
            got = await http.get("/api/v1/candles", params={"exchange": "benchex", "symbol": random.choice(symbols),
                                                            "timeframe": "1h", "limit": LIMIT})
            # count the rows without parsing the JSON (the load generator's CPU is the server's too)
            if got.status_code != 200 or got.content.count(b'"open_time":') != LIMIT:
                raise RuntimeError(f"HTTP {got.status_code}: {got.text[:200]}")

        return summary("api", *await load(work, clients, duration, warmup=2))


async def bench_sql(url: str, ids: list[int], clients: int, duration: float) -> dict:
    from psycopg_pool import AsyncConnectionPool

    async with AsyncConnectionPool(url, min_size=10, max_size=10, open=False,
                                   kwargs={"autocommit": True}) as pool:
        await pool.wait()

        async def work() -> None:
            async with pool.connection() as conn:
                cur = await conn.execute(SQL_QUERY, (random.choice(ids), LIMIT + 1))
                if len(await cur.fetchall()) != LIMIT + 1:
                    raise RuntimeError("short answer")

        return summary("sql", *await load(work, clients, duration, warmup=2))


def wait_for(base: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"the API exited with {proc.returncode}")
        try:
            if httpx.get(f"{base}/openapi.json", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("the API did not start")
        time.sleep(0.3)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--clients", type=int, default=50)
    p.add_argument("--duration", type=float, default=20.0, help="seconds of measured load per side (default 20)")
    p.add_argument("--instruments", type=int, default=100)
    p.add_argument("--mode", default="postgresql", choices=("postgresql", "timescaledb"))
    args = p.parse_args(argv)
    random.seed(5)
    main_db = psycopg.conninfo.conninfo_to_dict(database_url()).get("dbname") or "tsquant"
    name = f"{main_db}_bench_api"
    url = database_url(name)
    print(f"api (i): last {LIMIT} 1h candles with indicators of one of {args.instruments} instruments, "
          f"{args.clients} concurrent clients for {args.duration:g} s each, loopback, {args.mode} mode")
    with connect(database_url("postgres"), autocommit=True) as admin:
        admin.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
    server = None
    try:
        migrate(url, mode=args.mode, create_db=True, log=lambda _m: None)
        started = time.perf_counter()
        setup(url, args.instruments, BARS)
        with connect(url, autocommit=True) as conn:
            rows = conn.execute("select symbol, instrument_id from market.instruments where exchange = 'benchex'").fetchall()
            symbols, ids = [r[0] for r in rows], [r[1] for r in rows]
        print(f"  setup: {len(symbols)} instruments x {BARS} bars in {time.perf_counter() - started:.0f} s")
        port = _free_port()
        api_url = _as_api_login(url)
        server = subprocess.Popen([sys.executable, "-m", "db.api", "--port", str(port)], cwd=ROOT,
                                  env={**os.environ, "PYTHONPATH": str(ROOT), "TSQ_API_DATABASE_URL": api_url},
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        base = f"http://127.0.0.1:{port}"
        wait_for(base, server)
        api = asyncio.run(bench_api(base, symbols, args.clients, args.duration))
        server.terminate()
        server.wait(20)
        server = None
        db = asyncio.run(bench_sql(api_url, ids, args.clients, args.duration))
    finally:
        if server is not None:
            server.terminate()
            server.wait(20)
        with connect(database_url("postgres"), autocommit=True) as admin:
            admin.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
    ratio = api["p50"] / db["p50"]
    print(f"api i = api p50 / sql p50 = {ratio:.2f}  (target <= 2.0); api {api['rps']:.0f} req/s, "
          f"p99 {api['p99'] * 1000:.1f} ms, errors {api['errors']}")
    return 1 if api["errors"] or db["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
