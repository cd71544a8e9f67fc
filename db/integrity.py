"""Integrity check: gaps, duplicates, quarantined rows, failed runs, rollup/raw disagreements.

    python -m db.integrity [--from 2024-08-08] [--to 2024-08-10] [--refresh] [--fail-on ...]

Prints one line per finding (market.integrity_report) and exits 1 when a finding of a --fail-on
kind is present (default: duplicate_trade_ids, orphan_instrument_ids, rollup_disagreements).
"""

from __future__ import annotations

import argparse
import sys

import pandas as pd

from db.errors import UserError, run_main

DEFAULT_FAIL_ON = "duplicate_trade_ids,orphan_instrument_ids,rollup_disagreements"
KINDS = {"gaps", "duplicate_trade_ids", "orphan_instrument_ids", "quarantined", "failed_runs",
         "rollup_disagreements", "pending_rollup_buckets"}


def report(conn, start, end) -> list[tuple]:
    return conn.execute(
        "select check_name, r.instrument_id, i.exchange || ':' || i.exchange_symbol, timeframe, problems, detail"
        " from market.integrity_report(%s, %s) as r"
        " left join market.instruments as i on i.instrument_id = r.instrument_id"
        " order by check_name, timeframe nulls first, r.instrument_id nulls first",
        (start, end),
    ).fetchall()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m db.integrity", description=__doc__.split("\n\n")[0])
    p.add_argument("--from", dest="start", help="window start (default: 24 hours ago; 'all' = whole history)")
    p.add_argument("--to", dest="end", help="window end, exclusive (default: now)")
    p.add_argument("--refresh", action="store_true", help="bring the rollups up to date first")
    p.add_argument("--fail-on", default=DEFAULT_FAIL_ON,
                   help=f"comma list of finding kinds that make the exit code 1 (default {DEFAULT_FAIL_ON}; 'none')")
    p.add_argument("--url", help="database URL (default: DATABASE_URL or the embedded database)")
    args = p.parse_args(argv)
    fail_on = set() if args.fail_on == "none" else {k.strip() for k in args.fail_on.split(",") if k.strip()}
    if fail_on - KINDS:
        raise UserError(f"unknown --fail-on kind(s) {sorted(fail_on - KINDS)}; known: {sorted(KINDS)}")
    now = pd.Timestamp.now(tz="UTC")
    try:
        end = pd.Timestamp(args.end, tz="UTC") if args.end and pd.Timestamp(args.end).tzinfo is None \
            else (pd.Timestamp(args.end) if args.end else now)
        if args.start == "all":
            start = pd.Timestamp("1970-01-01", tz="UTC")
        elif args.start:
            start = pd.Timestamp(args.start)
            start = start.tz_localize("UTC") if start.tzinfo is None else start
        else:
            start = end - pd.Timedelta(hours=24)
    except ValueError as exc:
        raise UserError(f"--from/--to must be dates or timestamps ({exc})") from None
    if start >= end:
        raise UserError("--from must be before --to")
    from db.connection import connect

    with connect(args.url, autocommit=True) as conn:
        if args.refresh:
            conn.execute("call market.refresh_rollups()")
        rows = report(conn, start.to_pydatetime(), end.to_pydatetime())
    mode_note = f"integrity {start.isoformat()} .. {end.isoformat()}: {len(rows)} finding(s)"
    print(mode_note)
    failing = 0
    for check, _iid, inst, tf, n, detail in rows:
        flag = "FAIL" if check in fail_on else "info"
        failing += check in fail_on
        print(f"  [{flag}] {check:<24} {inst or '-':<22} {tf or '-':<4} {n:>10}  {detail or ''}")
    if failing:
        print(f"{failing} failing finding(s)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
