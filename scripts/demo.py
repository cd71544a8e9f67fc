"""`make demo`: show what tsquant does, end to end, on bundled data, and print what it did.

`make demo` has already started the database and applied the migrations when this runs.
"""

from __future__ import annotations

import json
import sys
import time

from db.connection import connect, database_url, redact
from scripts.demo_pipeline import format_price, run_demo
from db.job_health import after_rollups, health_lines

SCHEMAS = ("market", "ta", "signals", "trading", "risk", "perf", "ops", "bi")


def heading(text: str) -> None:
    print(f"\n== {text}")


def show_database(conn) -> None:
    heading("database")
    mode, version, ts_version, license_, migrated_at = conn.execute(
        "select database_mode, server_version, timescaledb_version, timescaledb_license,"
        " last_migration_at from ops.database_info"
    ).fetchone()
    print(f"url:            {redact(database_url())}")
    print(f"database mode:  {mode}")
    print(f"server:         PostgreSQL {version}")
    print(f"timescaledb:    {ts_version + ' (license ' + str(license_) + ')' if ts_version else 'not used'}")
    kernels = conn.execute("select ta.kernel_implementation()").fetchone()[0]
    print(f"ta kernels:     {kernels}")
    applied = conn.execute("select count(*) from ops.schema_migrations").fetchone()[0]
    print(f"migrations:     {applied} ledger rows, last at {migrated_at:%Y-%m-%d %H:%M:%S} UTC")


def show_schemas(conn) -> None:
    heading("schemas")
    rows = conn.execute(
        """
        select n.nspname, obj_description(n.oid, 'pg_namespace'),
               (select count(*) from pg_class as c where c.relnamespace = n.oid and c.relkind in ('r', 'p', 'v', 'm')),
               (select count(*) from pg_proc as p where p.pronamespace = n.oid)
        from pg_namespace as n where n.nspname = any(%s)
        order by array_position(%s, n.nspname::text)
        """,
        (list(SCHEMAS), list(SCHEMAS)),
    ).fetchall()
    for name, comment, relations, functions in rows:
        print(f"{name:<8} {relations:>3} relations {functions:>4} functions  {comment}")


DEMO_INDICATORS = [
    ("rsi", {"timeperiod": 14}),
    ("atr", {"timeperiod": 14}),
    ("adx", {"timeperiod": 14}),
    ("macd", {}),
    ("bbands", {}),
]


def show_indicators(conn) -> None:
    """Maintain a few indicators on the 1m candles of every instrument and show them in bi."""
    heading("maintained indicators (ta.maintain + ta.refresh_indicators, read from bi.candles_1m)")
    instruments = conn.execute("select exchange, symbol from market.instruments order by 1, 2").fetchall()
    for exchange, symbol in instruments:
        for indicator, params in DEMO_INDICATORS:
            conn.execute(
                "select ta.maintain(%s, %s, '1m', %s, %s::jsonb)", (exchange, symbol, indicator, json.dumps(params))
            )
    started = time.perf_counter()
    rows = conn.execute("select * from ta.refresh_indicators()").fetchall()
    print(f"{len(rows)} indicator configurations refreshed ({sum(r[2] for r in rows)} new bars) "
          f"in {time.perf_counter() - started:.1f} s")
    sample = conn.execute(
        """
        select exchange, symbol, open_time, close, rsi_14, atr_14, adx_14,
               indicators -> 'macd_12_26_9' ->> 'macd', indicators -> 'bbands_20_2_2' ->> 'upperband',
               follows_gap, market.price_decimals(instrument_id)
        from (
            select c.*, row_number() over (partition by c.exchange, c.symbol order by c.open_time desc) as newest
            from bi.candles_1m as c
        ) as ranked
        where newest <= 2
        order by exchange, symbol, open_time
        """
    ).fetchall()
    print(f"{'exchange':<9} {'symbol':<9} {'open_time':<16} {'close':>11} {'rsi_14':>7} {'atr_14':>9} "
          f"{'adx_14':>7} {'macd':>9} {'bb_upper':>11}  gap")

    def fmt(value, spec: str) -> str:
        return format(float(value), spec) if value is not None else "-"

    for ex, sym, t, close, rsi, atr, adx, macd, upper, gap, decimals in sample:
        # prices (close, ATR, MACD, bands) with the instrument's precision, oscillators with 2 decimals
        close, atr, macd, upper = (format_price(None if v is None else float(v), decimals)
                                   for v in (close, atr, macd, upper))
        print(f"{ex:<9} {sym:<9} {t:%Y-%m-%d %H:%M} {close:>11} {fmt(rsi, '7.2f'):>7} {atr:>9} "
              f"{fmt(adx, '7.2f'):>7} {macd:>9} {upper:>11}  {'yes' if gap else ''}")
    gaps = conn.execute(
        "select exchange, symbol, count(*) filter (where follows_gap), count(*) from bi.candles_1m"
        " group by 1, 2 order by 1, 2").fetchall()
    print("1m bars that follow a gap (bi.candles_1m.follows_gap: indicators there span missing bars): "
          + ", ".join(f"{ex} {sym} {n}/{total}" for ex, sym, n, total in gaps))


def show_report(conn) -> None:
    """tsquant report of the instrument with the most 1h bars, and how to open the API."""
    heading("report (tsquant report) and the HTTP API")
    row = conn.execute("select exchange, symbol, min(open_time), max(open_time) from bi.candles_1h"
                       " group by 1, 2 order by count(*) desc, 1, 2 limit 1").fetchone()
    if row is None:
        print("no 1h candles: no report")
        return
    exchange, symbol, first, last = row
    strategy = "rsi_reversion"
    if conn.execute("select to_regclass('bi.trading_signals') is not null").fetchone()[0]:
        found = conn.execute("select signal_source from bi.trading_signals where exchange = %s and symbol = %s"
                             " and timeframe = '1h' group by 1 order by count(*) desc limit 1", (exchange, symbol)).fetchone()
        strategy = found[0] if found else strategy
    from datetime import timedelta
    from pathlib import Path

    from db.report import read, write_report

    data = read(conn, symbol=symbol, exchange=exchange, timeframe="1h", strategy=strategy, start=first,
                end=last + timedelta(hours=1))
    html, png = write_report(data, Path("reports") / "demo")
    print(f"report: {html.resolve()} (open it in a browser; no network needed), picture {png}")
    print("API:    tsquant api   then open http://127.0.0.1:8000/docs (read-only, login tsq_api)")


def main(argv: list[str] | None = None) -> int:
    started = time.perf_counter()
    with connect() as conn:
        show_database(conn)
        show_schemas(conn)
    heading("pipeline: captures, fake exchanges, rollups, taapi (DRY_RUN) and the cross-check")

    for line in run_demo(database_url()):
        print(line)
    with connect(autocommit=True) as conn:
        show_indicators(conn)
        heading("maintenance jobs (ops.job_health)")
        print("\n".join(health_lines(conn)))
        if conn.execute("select ops.database_mode() = 'timescaledb'").fetchone()[0]:
            # What cron's `python -m loaders rollups` does when the scheduler does not run the jobs
            heading("the cron path: failing and overdue jobs run in the foreground (db.job_health)")
            jobs_started = conn.execute("select clock_timestamp()").fetchone()[0]
            print("\n".join(after_rollups(conn, jobs_started) or ["no job was due"]))
            print(health_lines(conn)[-1])
    heading("features and signals (dbt build: features.candle_features, bi.trading_signals)")
    from db.dbt_runner import demo_lines as dbt_demo_lines

    for line in dbt_demo_lines(database_url()):
        print(line)
    with connect(autocommit=True) as conn:  # backtests of the demo strategies, positions, risk state
        from scripts.demo_backtests import backtest_lines
        print("\n".join(backtest_lines(conn, database_url())))
    heading("scorer: train on the demo features, score, ML signals, anomalies (models_py)")
    from models_py.demo import run_demo as run_scorer_demo
    print("\n".join(run_scorer_demo(database_url())))
    heading("dispatch: the allowed signals to the paper broker (orders, fills, positions, risk)")
    from models_py.dispatch_demo import demo_lines
    print("\n".join(demo_lines(database_url())))
    with connect(autocommit=True) as conn:
        show_report(conn)
    print(f"\ndemo finished in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    from db.errors import run_main

    sys.exit(run_main(main))
