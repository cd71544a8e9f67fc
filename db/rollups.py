"""Bring the candle rollups (market.candles_1m … market.candles_1d) up to date.

    python -m db.rollups [--until TIMESTAMP]

Plain mode: recomputes the buckets recorded as changed since the last refresh. TimescaleDB mode:
refreshes the continuous aggregates (policies also do this on a schedule). Then the maintained
indicators are brought up to date (ta.refresh_indicators; --no-indicators skips it). Cron-friendly.
"""

from __future__ import annotations

import argparse
import sys
import time

from db.errors import run_main


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m db.rollups", description=__doc__.split("\n\n")[0])
    p.add_argument("--until", help="only buckets that ended by then (default: now)")
    p.add_argument("--url", help="database URL (default: DATABASE_URL or the embedded database)")
    p.add_argument("--no-indicators", action="store_true", help="do not refresh the maintained indicators")
    args = p.parse_args(argv)
    from db.connection import connect

    with connect(args.url, autocommit=True) as conn:
        t0 = time.perf_counter()
        started = conn.execute("select clock_timestamp()").fetchone()[0]
        conn.execute("call market.refresh_rollups(%s)", (args.until,))
        mode = conn.execute("select ops.database_mode()").fetchone()[0]
        print(f"rollups refreshed in {time.perf_counter() - t0:.2f} s ({mode} mode)")
        # TimescaleDB: policy jobs the scheduler failed or skipped run here (ops.job_health).
        from db.job_health import after_rollups

        for line in after_rollups(conn, started):
            print(line)
        if not args.no_indicators:
            # after the rollups (TimescaleDB: refresh_rollups ran outside a transaction, autocommit)
            from db.indicators import refresh

            n, bars, seconds = refresh(conn)
            print(f"indicators refreshed: {n} configurations, {bars} new bars in {seconds:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
