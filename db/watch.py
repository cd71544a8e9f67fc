"""`tsquant watch`: a live terminal table of every instrument's latest price, 24 h change and
spread (bi.market_watch), refreshed from the database.

    tsquant watch [--interval 2] [--symbol BTC/USDT ...] [--once]

On a terminal the screen is redrawn every --interval seconds; q or Ctrl-C quits. --once (or output
that is not a terminal) prints the table once and exits. The figures are the database's: the
newest 1m close, its change against the close 24 hours earlier, and the newest bid/ask of
market.quotes or market.ticker_snapshots.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import select
import sys
import time
from typing import Any

from db.errors import UserError, run_main

COLUMNS = ("exchange", "symbol", "last", "24h change", "24h %", "bid", "ask", "spread bps", "price time (UTC)")
QUERY = ("select exchange, symbol, last_price, change_24h, change_24h_pct, bid, ask, spread_bps, price_time"
         " from bi.market_watch where %(symbols)s::text[] is null or symbol = any(%(symbols)s::text[])"
         " or exchange || ':' || symbol = any(%(symbols)s::text[]) order by exchange, symbol")


def price(value: float | None) -> str:
    """A price to 7 significant digits (at least 2 decimals, trailing zeros dropped), never in
    exponent form: 51,005.59  3,123.35  197.03  1.0845  0.00012345."""
    if value is None or not math.isfinite(value):
        return "-"
    digits = min(10, max(2, 6 - int(math.floor(math.log10(abs(value)))))) if value else 2
    text = f"{value:,.{digits}f}"
    whole, _, decimals = text.partition(".")
    return f"{whole}.{decimals.rstrip('0').ljust(2, '0')}"


def signed(value: float | None, fmt: str) -> str:
    return "-" if value is None or not math.isfinite(value) else format(value, "+" + fmt)


def rows(conn, symbols: list[str] | None) -> list[tuple[str, ...]]:
    out = []
    for exchange, symbol, last, change, pct, bid, ask, bps, at in conn.execute(QUERY, {"symbols": symbols}).fetchall():
        out.append((exchange, symbol, price(last), signed(change, ",.6g"), signed(pct, ".2f"), price(bid), price(ask),
                    "-" if bps is None else f"{bps:.1f}", at.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M")))
    return out


def render(table: list[tuple[str, ...]], *, now: dt.datetime, interval: float | None) -> str:
    widths = [max(len(c), *(len(r[i]) for r in table)) if table else len(c) for i, c in enumerate(COLUMNS)]
    right = {2, 3, 4, 5, 6, 7}

    def line(cells) -> str:
        return "  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths)))

    head = f"tsquant watch — {now:%Y-%m-%d %H:%M:%S} UTC" + (
        f" — every {interval:g} s, q quits" if interval else "")
    body = [line(COLUMNS), line("-" * w for w in widths)] + [line(r) for r in table]
    if not table:
        body.append("no instrument has candles yet (tsquant load candles …)")
    return "\n".join([head, "", *body]) + "\n"


class Keys:
    """q on a terminal: cbreak mode while watching, restored on exit."""

    def __init__(self) -> None:
        self.saved: Any = None
        if sys.stdin.isatty():
            import termios
            import tty

            self.saved = termios.tcgetattr(sys.stdin.fileno())
            tty.setcbreak(sys.stdin.fileno())

    def wait(self, seconds: float) -> bool:
        """Sleep up to `seconds`; True when q was pressed."""
        if self.saved is None:
            time.sleep(seconds)
            return False
        ready, _, _ = select.select([sys.stdin], [], [], seconds)
        return bool(ready) and os.read(sys.stdin.fileno(), 32).lower().startswith(b"q")

    def restore(self) -> None:
        if self.saved is not None:
            import termios

            termios.tcsetattr(sys.stdin.fileno(), termios.TCSADRAIN, self.saved)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="tsquant watch", description=__doc__.split("\n\n")[0],
                                epilog=__doc__.split("\n\n", 2)[2], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--interval", type=float, default=2.0, help="seconds between refreshes (default 2)")
    p.add_argument("--symbol", action="append", help="only this symbol (or EXCHANGE:SYMBOL); repeatable")
    p.add_argument("--once", action="store_true", help="print the table once and exit")
    p.add_argument("--url", help="database URL (default: DATABASE_URL or the embedded database)")
    args = p.parse_args(argv)
    if args.interval < 0.2:
        raise UserError("--interval must be at least 0.2 seconds")
    from db.connection import connect

    live = not args.once and sys.stdout.isatty()
    with connect(args.url, autocommit=True, application_name="tsquant-watch") as conn:
        if not live:
            sys.stdout.write(render(rows(conn, args.symbol), now=dt.datetime.now(dt.timezone.utc), interval=None))
            return 0
        keys = Keys()
        try:
            sys.stdout.write("\x1b[?25l")  # hide the cursor while redrawing
            while True:
                screen = render(rows(conn, args.symbol), now=dt.datetime.now(dt.timezone.utc), interval=args.interval)
                sys.stdout.write("\x1b[H\x1b[2J" + screen)
                sys.stdout.flush()
                if keys.wait(args.interval):
                    break
        except KeyboardInterrupt:
            pass
        finally:
            keys.restore()
            sys.stdout.write("\x1b[?25h")
    print("watch stopped")
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
