"""MetaTrader 5 through a REST bridge (seed 001's DataIngestor): rates and ticks.

MT5 itself has no HTTP API; a small bridge next to the terminal exposes the project's JSON
contract (docs/loaders.md, "MT5 REST contract"), which mirrors MT5's own records:

    GET /time                                   -> {"time": <broker server time, s>}
    GET /rates?symbol=EURUSD&timeframe=M1&from=<s>&count=<n>
        -> {"symbol", "timeframe", "rates": [{"time", "open", "high", "low", "close",
                                              "tick_volume", "spread", "real_volume"}, ...]}
    GET /ticks?symbol=EURUSD&from_msc=<ms>&count=<n>
        -> {"symbol", "ticks": [{"time", "bid", "ask", "last", "volume", "time_msc", "flags",
                                 "volume_real"}, ...]}

Every request carries `X-API-Key`; records come oldest first, `from`/`from_msc` inclusive.
Times are the broker server's clock: `broker_utc_offset_hours` converts them (UTC = broker time −
offset) and is applied to the request parameters too. A bar is final once its end is not after
the bridge's /time. Ticks: `last` 0 means "no last price" (FX) and is stored as NULL; volume is
volume_real when non-zero, else volume. Several ticks can share a millisecond: update_id is
time_msc × 1000 + the tick's position within its millisecond (stable, because a page always
restarts at the beginning of a millisecond).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from loaders.core.http import SourceError
from loaders.sources.base import (
    US_PER_MS, US_PER_S, CandleRow, Page, QuoteRow, Source, TIMEFRAME_SECONDS, number,
    parse_rows, raw_text, register,
)

log = logging.getLogger("loaders")
QUARTER_HOUR_S = 900
CLOCK_SLACK_S = 120  # a bridge clock this close to a whole quarter hour off UTC is a time zone, not drift

MT5_TIMEFRAMES = {"1m": "M1", "5m": "M5", "15m": "M15", "30m": "M30", "1h": "H1", "4h": "H4",
                  "1d": "D1", "1w": "W1", "1M": "MN1"}


@register
class MT5(Source):
    name = "mt5"
    source_tag = "mt5"
    datasets = ("candles", "quotes")
    timeframes = MT5_TIMEFRAMES
    default_page_size = 1000
    api_key_header = "X-API-Key"

    def __init__(self, http, *, page_size: int | None = None,
                 broker_utc_offset_hours: float | None = None) -> None:
        super().__init__(http, page_size=page_size or self.default_page_size)
        self.offset_configured = broker_utc_offset_hours is not None
        self.offset_us = round((broker_utc_offset_hours or 0.0) * 3600 * US_PER_S)
        self._clock_checked = False

    def exchange_symbol(self, symbol: str) -> str:
        return symbol.replace("/", "").upper()

    def _to_utc(self, broker_us: int) -> int:
        return broker_us - self.offset_us

    def _to_broker(self, utc_us: int) -> int:
        return utc_us + self.offset_us

    def server_time_us(self) -> int:
        body = self.http.get_json("/time")
        broker_us = round(number(body["time"]) * US_PER_S)
        if not self.offset_configured and not self._clock_checked:
            self._clock_checked = True
            warn_about_offset(broker_us / US_PER_S - time.time())
        return self._to_utc(broker_us)

    def _records(self, body: Any, key: str) -> Any:
        if not isinstance(body, dict) or key not in body:
            raise SourceError(f"the bridge answer has no {key!r} list")
        return body[key]

    def fetch_candles(self, symbol: str, timeframe: str, start_us: int, now_us: int) -> Page:
        mt5_tf = self.api_timeframe(timeframe)
        sym = self.exchange_symbol(symbol)
        body = self.http.get_json("/rates", {
            "symbol": sym, "timeframe": mt5_tf,
            "from": self._to_broker(start_us) // US_PER_S, "count": self.page_size,
        })
        records = self._records(body, "rates")
        rows, rejects = parse_rows(records, self._rate, sym)
        width_us = TIMEFRAME_SECONDS[timeframe] * US_PER_S
        final = [r for r in rows if r.open_time + width_us <= now_us]
        page = Page(rows=final, rejects=rejects, forming=len(rows) - len(final))
        if rows and len(records) >= self.page_size and len(final) == len(rows):
            page.next_cursor = rows[-1].open_time + width_us
        return page

    def fetch_quotes(self, symbol: str, since_us: int, now_us: int) -> Page:
        sym = self.exchange_symbol(symbol)
        body = self.http.get_json("/ticks", {
            "symbol": sym, "from_msc": self._to_broker(since_us) // US_PER_MS, "count": self.page_size,
        })
        records = self._records(body, "ticks")
        rows, rejects = parse_rows(records, self._tick, sym)
        rows = _number_within_millisecond(rows)
        page = Page(rows=rows, rejects=rejects)
        if rows and len(records) >= self.page_size:
            if rows[0].time == rows[-1].time:
                raise SourceError(f"more than {self.page_size} ticks share one millisecond; "
                                  "use a larger page size")
            page.next_cursor = rows[-1].time
        return page

    def _rate(self, rec: dict) -> CandleRow:
        real = number(rec.get("real_volume") or 0)
        return CandleRow(
            open_time=self._to_utc(int(rec["time"]) * US_PER_S), open=number(rec["open"]),
            high=number(rec["high"]), low=number(rec["low"]), close=number(rec["close"]),
            volume=real if real > 0 else number(rec["tick_volume"]), raw=raw_text(rec),
        )

    def _tick(self, rec: dict) -> QuoteRow:
        last = number(rec.get("last") or 0)
        real = number(rec.get("volume_real") or 0)
        time_msc = int(rec["time_msc"])
        return QuoteRow(
            time=self._to_utc(time_msc * US_PER_MS), update_id=time_msc, bid=number(rec["bid"]),
            ask=number(rec["ask"]), last=last if last > 0 else None,
            volume=real if real > 0 else number(rec.get("volume") or 0), raw=raw_text(rec),
        )


def warn_about_offset(ahead_s: float) -> None:
    """Brokers run their server clock in a time zone (often UTC+2/+3): a bridge whose clock is a
    whole number of quarter hours off UTC while no offset is configured would store every time that
    far off, so say which offset to set."""
    quarters = round(ahead_s / QUARTER_HOUR_S)
    if quarters and abs(ahead_s - quarters * QUARTER_HOUR_S) <= CLOCK_SLACK_S:
        hours = f"{quarters * QUARTER_HOUR_S / 3600:g}"
        log.warning("the MT5 bridge clock is %s h off UTC and no broker offset is configured, so its "
                    "times would be stored %s h off: pass --broker-offset %s "
                    "(broker_utc_offset_hours: %s in the config)", hours, hours, hours, hours)


def _number_within_millisecond(rows: list[QuoteRow]) -> list[QuoteRow]:
    out: list[QuoteRow] = []
    previous_msc, position = None, 0
    for row in rows:
        position = position + 1 if row.update_id == previous_msc else 0
        previous_msc = row.update_id
        out.append(row._replace(update_id=row.update_id * 1000 + position))
    return out
