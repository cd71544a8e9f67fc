"""Coinbase Exchange REST (https://api.exchange.coinbase.com): candles, trades, ticker.

Quirks handled here:
- candle rows are **`[time, low, high, open, close, volume]`** (low before high!), newest first,
  at most 300 per request, and there is no row for an interval without trades: a window may come
  back partly or entirely empty, and the backfill simply moves to the next window;
- granularity is in seconds (60, 300, 900, 3600, 21600, 86400); start/end are ISO 8601;
- trades come newest first and page backwards with the `after` cursor (trade ids below it);
  trade ids are sequential per product, so an incremental run pages forwards with
  `after = last_id + limit + 1`; `side` is the **maker's** side (maker sell = taker buy);
- 10 public requests per second, 429 beyond (default spacing 0.1 s here).
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone

from loaders.sources.base import (
    US_PER_S, CandleRow, Page, Source, TickerRow, TradeCursor, TradeRow, number, optional_number,
    parse_rows, raw_text, register,
)

log = logging.getLogger("loaders.coinbase")

GRANULARITIES = {"1m": 60, "5m": 300, "15m": 900, "1h": 3600, "6h": 21600, "1d": 86400}
MAX_CANDLES = 300
MAX_BACKWARD_PAGES = 2000


def iso_to_us(text: str) -> int:
    moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    delta = moment - datetime(1970, 1, 1, tzinfo=timezone.utc)
    return (delta.days * 86_400 + delta.seconds) * US_PER_S + delta.microseconds


def us_to_iso(us: int) -> str:
    return datetime.fromtimestamp(us / US_PER_S, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@register
class Coinbase(Source):
    name = "coinbase"
    source_tag = "coinbase_rest"
    datasets = ("candles", "trades", "ticker")
    timeframes = GRANULARITIES
    default_page_size = MAX_CANDLES
    min_interval = 0.1

    def __init__(self, http, *, page_size: int | None = None) -> None:
        super().__init__(http, page_size=min(page_size or self.default_page_size, 1000))

    def exchange_symbol(self, symbol: str) -> str:
        return symbol.replace("/", "-").upper()

    def server_time_us(self) -> int:
        body = self.http.get_json("/time")
        return round(number(body["epoch"]) * US_PER_S)

    # Candles ---------------------------------------------------------------------------------
    def fetch_candles(self, symbol: str, timeframe: str, start_us: int, now_us: int) -> Page:
        granularity = self.api_timeframe(timeframe)
        width_us = granularity * US_PER_S
        buckets = min(self.page_size, MAX_CANDLES)
        end_us = start_us + (buckets - 1) * width_us
        product = self.exchange_symbol(symbol)
        body = self.http.get_json(f"/products/{product}/candles", {
            "granularity": granularity, "start": us_to_iso(start_us), "end": us_to_iso(end_us),
        })
        rows, rejects = parse_rows(body, _candle, product)
        rows = sorted((r for r in rows if start_us <= r.open_time <= end_us), key=lambda r: r.open_time)
        final = [r for r in rows if r.open_time + width_us <= now_us]
        next_start = end_us + width_us
        return Page(rows=final, rejects=rejects, forming=len(rows) - len(final),
                    next_cursor=next_start if next_start + width_us <= now_us else None)

    # Trades ----------------------------------------------------------------------------------
    def fetch_trades(self, symbol: str, cursor: TradeCursor, now_us: int) -> Page:
        product = self.exchange_symbol(symbol)
        if cursor.last_id is None:
            return self._trades_back_to(product, cursor.since_us)
        body = self.http.get_json(f"/products/{product}/trades", {
            "limit": self.page_size, "after": cursor.last_id + self.page_size + 1,
        })
        rows, rejects = parse_rows(body, _trade, product)
        rows = sorted((r for r in rows if r.trade_id > cursor.last_id), key=lambda r: r.trade_id)
        page = Page(rows=rows, rejects=rejects)
        if rows and rows[-1].trade_id >= cursor.last_id + self.page_size:
            page.next_cursor = TradeCursor(rows[-1].time, rows[-1].trade_id)
        return page

    def _trades_back_to(self, product: str, since_us: int) -> Page:
        """First run: walk back from the newest trade to `since_us`, return them oldest first."""
        collected: list[TradeRow] = []
        rejects = []
        after: int | None = None
        for _ in range(MAX_BACKWARD_PAGES):
            params = {"limit": self.page_size} | ({"after": after} if after is not None else {})
            rows, bad = parse_rows(self.http.get_json(f"/products/{product}/trades", params),
                                   _trade, product)
            rejects += bad
            collected += [r for r in rows if r.time >= since_us]
            if not rows or min(r.time for r in rows) < since_us or len(rows) + len(bad) < self.page_size:
                break
            after = min(r.trade_id for r in rows)
        else:
            log.warning("coinbase %s: stopped after %d pages walking back to %s; older trades "
                        "were not fetched", product, MAX_BACKWARD_PAGES, us_to_iso(since_us))
        unique = {r.trade_id: r for r in collected}
        return Page(rows=sorted(unique.values(), key=lambda r: r.trade_id), rejects=rejects)

    # Ticker ----------------------------------------------------------------------------------
    def fetch_ticker(self, symbol: str) -> TickerRow:
        product = self.exchange_symbol(symbol)
        tick = self.http.get_json(f"/products/{product}/ticker")
        stats = self.http.get_json(f"/products/{product}/stats")
        volume = optional_number(stats.get("volume"))
        last = optional_number(tick.get("price"))
        return TickerRow(
            time=iso_to_us(tick["time"]), bid=optional_number(tick.get("bid")),
            ask=optional_number(tick.get("ask")), last=last, open=optional_number(stats.get("open")),
            high=optional_number(stats.get("high")), low=optional_number(stats.get("low")),
            volume=volume, quote_volume=None, raw=raw_text({"ticker": tick, "stats": stats}),
        )


def _candle(row: list) -> CandleRow:
    if not isinstance(row, list) or len(row) < 6:
        raise ValueError("a candle is an array of 6 fields")
    time_s, low, high, open_, close, volume = row[:6]
    return CandleRow(open_time=int(time_s) * US_PER_S, open=number(open_), high=number(high),
                     low=number(low), close=number(close), volume=number(volume), raw=raw_text(row))


def _trade(rec: dict) -> TradeRow:
    maker = rec["side"]
    if maker not in ("buy", "sell"):
        raise ValueError(f"side {maker!r}")
    return TradeRow(time=iso_to_us(rec["time"]), trade_id=int(rec["trade_id"]),
                    price=number(rec["price"]), quantity=number(rec["size"]),
                    side="s" if maker == "buy" else "b", raw=raw_text(rec))
