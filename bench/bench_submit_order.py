"""Risk-checked order submission benchmark (issue 11, g).

Every risk rule active (risk.limits: max position size, max exposure per instrument and in total,
daily loss, max drawdown, order rate, price and snapshot age), a fresh 1m candle per instrument,
an equity snapshot, an open position in a second instrument (so the total-exposure rule has one
to price) and a registered strategy. Timed in the same run, one statement per call from Python
(autocommit, so each is its own transaction), alternating blocks of 500 so load changes hit both:

  (checked)  10,000 trading.submit_order(...) calls: risk.check_order, the order-rate counter,
             the order row and its audit row;
  (plain)    10,000 INSERTs of the same rows into trading.orders (as the administrator; its
             audit trigger still fires).

Prints the totals, g = checked / plain (target <= 3.0) and the p50 / p99 latency of a checked call.
Usage: python bench/bench_submit_order.py [--orders 10000] [--mode auto|postgresql|timescaledb]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path

import psycopg
from psycopg import sql

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from db.connection import connect, database_url  # noqa: E402
from db.migrate import migrate  # noqa: E402

LIMITS = {
    "max_position_quantity": "1000000000",
    "max_instrument_exposure": "1000000000000",
    "max_total_exposure": "10000000000000",
    "max_daily_loss_pct": "0.05",
    "max_drawdown_pct": "0.2",
    "max_orders_per_window": "1000000",
    "order_rate_window": "1 hour",
    "max_price_age": "5 minutes",
    "max_snapshot_age": "1 day",
}
CHECKED = ("select (trading.submit_order(%s, 'buy', %s, p_strategy => 'bench', p_client_order_id => %s))"
           ".order_id")
PLAIN = ("insert into trading.orders (client_order_id, instrument_id, strategy_id, side, order_type, quantity)"
         " values (%s, %s, %s, 'buy', 'market', %s) returning order_id")


def setup(conn) -> tuple[int, int]:
    iid = conn.execute("select market.register_instrument('benchex', 'RISK/USDT')").fetchone()[0]
    other = conn.execute("select market.register_instrument('benchex', 'HELD/USDT')").fetchone()[0]
    conn.execute(
        "insert into market.candles (instrument_id, timeframe, open_time, open, high, low, close, source)"
        " select i, '1m', date_trunc('minute', now()) - interval '1 minute', 100, 101, 99, 100, 'bench'"
        " from unnest(array[%s, %s]) as i", (iid, other))
    conn.execute("select trading.record_portfolio_snapshot(1000000, 1000000, now())")
    for name, value in LIMITS.items():
        conn.execute("select risk.set_limit(%s, %s)", (name, value))
    strategy_id = conn.execute("select trading.register_strategy('bench', 'bench')").fetchone()[0]
    held = conn.execute("select (trading.submit_order(%s, 'buy', 2)).client_order_id", (other,)).fetchone()[0]
    conn.execute("select trading.set_order_status(%s, 'submitted')", (held,))
    conn.execute("select trading.record_fill(%s, 2, 100)", (held,))
    active = conn.execute("select count(*) from risk.limits as l, jsonb_each(to_jsonb(l)) as j"
                          " where j.key = any(%s) and j.value <> 'null'", (list(LIMITS),)).fetchone()[0]
    assert active == len(LIMITS), "every risk rule is active"
    return iid, strategy_id


def timed_block(conn, calls) -> list[float]:
    samples = []
    for query, params in calls:
        started = time.perf_counter()
        conn.execute(query, params).fetchone()
        samples.append(time.perf_counter() - started)
    return samples


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--orders", type=int, default=10_000)
    p.add_argument("--block", type=int, default=500)
    p.add_argument("--mode", default="auto", choices=("auto", "postgresql", "timescaledb"),
                   help="database mode of the bench database (auto: TimescaleDB when installed)")
    args = p.parse_args(argv)
    main_db = psycopg.conninfo.conninfo_to_dict(database_url()).get("dbname") or "tsquant"
    name = f"{main_db}_bench_orders"
    url = database_url(name)
    with connect(database_url("postgres"), autocommit=True) as admin:
        admin.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
    try:
        report = migrate(url, mode=args.mode, create_db=True, log=lambda _m: None)
        with connect(url, autocommit=True) as conn:
            iid, strategy_id = setup(conn)
            quantity = Decimal("0.001")
            checked: list[float] = []
            plain: list[float] = []
            # warm-up: plans and caches of both paths
            timed_block(conn, [(CHECKED, (iid, quantity, f"warm-{uuid.uuid4()}")) for _ in range(50)])
            timed_block(conn, [(PLAIN, (f"warm-{uuid.uuid4()}", iid, strategy_id, quantity)) for _ in range(50)])
            while len(checked) < args.orders:
                n = min(args.block, args.orders - len(checked))
                checked += timed_block(conn, [(CHECKED, (iid, quantity, f"c-{uuid.uuid4()}")) for _ in range(n)])
                plain += timed_block(conn, [(PLAIN, (f"p-{uuid.uuid4()}", iid, strategy_id, quantity)) for _ in range(n)])
            rows = conn.execute("select count(*) filter (where client_order_id like 'c-%%'),"
                                " count(*) filter (where client_order_id like 'p-%%') from trading.orders").fetchone()
            assert rows == (args.orders, args.orders), rows
        total_checked, total_plain = sum(checked), sum(plain)
        quantiles = statistics.quantiles(checked, n=100)
        print(f"submit_order: {args.orders:,} risk-checked calls vs {args.orders:,} plain inserts, {report.mode} mode")
        print(f"(checked) trading.submit_order, every risk rule : {total_checked:7.2f} s  "
              f"p50 {statistics.median(checked) * 1000:.2f} ms, p99 {quantiles[98] * 1000:.2f} ms")
        print(f"(plain)   INSERT into trading.orders           : {total_plain:7.2f} s  "
              f"p50 {statistics.median(plain) * 1000:.2f} ms")
        print(f"g = checked/plain = {total_checked / total_plain:.2f}  (target <= 3.0)")
    finally:
        with connect(database_url("postgres"), autocommit=True) as admin:
            admin.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
