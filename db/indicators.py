"""Maintained indicators: refresh them, list them, add one.

    python -m db.indicators refresh [--instrument-id N]
    python -m db.indicators list
    python -m db.indicators add EXCHANGE SYMBOL TIMEFRAME INDICATOR [--params JSON]

`refresh` brings ta.indicator_values up to date with the closed candles (ta.refresh_indicators():
work proportional to the new bars, late/corrected bars inside the correction window recomputed).
Run it after the rollups (python -m db.rollups does, unless --no-indicators). Cron-friendly.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from db.errors import UserError, run_main


def refresh(conn, instrument_id: int | None = None) -> tuple[int, int, float]:
    """ta.refresh_indicators(); returns (configurations, new bars, seconds)."""
    t0 = time.perf_counter()
    rows = conn.execute("select * from ta.refresh_indicators(%s)", (instrument_id,)).fetchall()
    return len(rows), sum(r[2] for r in rows), time.perf_counter() - t0


def _params(text: str) -> dict:
    """--params as a JSON object, or a UserError saying what is wrong with it."""
    try:
        params = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(f"--params is not valid JSON ({exc.msg} at character {exc.pos + 1}): "
                        'pass an object such as {"timeperiod": 7}') from None
    if not isinstance(params, dict):
        raise UserError('--params must be a JSON object such as {"timeperiod": 7}')
    return params


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m db.indicators", description=__doc__.split("\n\n")[0])
    p.add_argument("--url", help="database URL (default: DATABASE_URL or the embedded database)")
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("refresh", help="bring the maintained values up to date")
    r.add_argument("--instrument-id", type=int)
    sub.add_parser("list", help="list the maintained indicators")
    a = sub.add_parser("add", help="maintain an indicator (ta.maintain)")
    a.add_argument("exchange")
    a.add_argument("symbol")
    a.add_argument("timeframe")
    a.add_argument("indicator")
    a.add_argument("--params", default="{}", help='TA-Lib parameters as JSON, e.g. {"timeperiod": 7}')
    args = p.parse_args(argv)
    from db.connection import connect

    with connect(args.url, autocommit=True) as conn:
        if args.command == "refresh":
            n, bars, seconds = refresh(conn, args.instrument_id)
            print(f"indicators refreshed: {n} configurations, {bars} new bars in {seconds:.2f} s")
        elif args.command == "list":
            rows = conn.execute(
                "select m.indicator_id, i.exchange, i.symbol, m.timeframe, m.name, m.enabled, s.last_open_time, s.bar_count"
                " from ta.maintained_indicators as m join market.instruments as i using (instrument_id)"
                " left join ta.indicator_state as s using (indicator_id) order by 1"
            ).fetchall()
            for row in rows:
                print("\t".join("" if v is None else str(v) for v in row))
        else:
            params = _params(args.params)
            iid = conn.execute(
                "select ta.maintain(%s, %s, %s, %s, %s::jsonb)",
                (args.exchange, args.symbol, args.timeframe, args.indicator, json.dumps(params)),
            ).fetchone()[0]
            print(f"maintained indicator {iid}; values after the next refresh")
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
