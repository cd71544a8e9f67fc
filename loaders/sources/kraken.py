"""Kraken spot REST (https://api.kraken.com): OHLC, Trades, Ticker.

Quirks handled here:
- pair names: BTC/USD is asked as XBTUSD and answered under Kraken's own key (XXBTZUSD); the
  result object holds that key plus `last`;
- errors, throttling included, arrive inside HTTP 200 as `{"error": ["EAPI:Rate limit exceeded"]}`
  (`EGeneral:Temporary lockout`, `EService:Busy`, `EService:Unavailable` likewise): retried with
  backoff by the client; other errors (`EQuery:Unknown asset pair`) end the run with that text;
- OHLC rows `[time s, "open", "high", "low", "close", "vwap", "volume", count]`, only the latest
  720 candles are served, and **the last row is the forming candle** (always dropped);
- Trades rows `[price, volume, time (float s), "b"/"s", "m"/"l", misc, trade_id]`; `last` is a
  nanosecond cursor for the next page;
- ~1 request per second is safe (the default rate limit of this source).
"""

from __future__ import annotations

from typing import Any

from loaders.core.http import SourceError, Throttled
from loaders.sources.base import (
    US_PER_S, CandleRow, Page, Source, TickerRow, TradeCursor, TradeRow, number, parse_rows,
    raw_text, register,
)

OHLC_INTERVALS = {"1m": 1, "5m": 5, "15m": 15, "30m": 30, "1h": 60, "4h": 240, "1d": 1440,
                  "1w": 10080}
OHLC_MAX_ROWS = 720
THROTTLE_ERRORS = {
    "EAPI:Rate limit exceeded": None,
    "EGeneral:Temporary lockout": 15.0,
    "EService:Busy": None,
    "EService:Unavailable": None,
}
ASSET_CODES = {"BTC": "XBT", "DOGE": "XDG"}


def check_body(body: Any) -> None:
    """Kraken reports errors in the body of an HTTP 200."""
    if not isinstance(body, dict) or "error" not in body:
        raise SourceError("answer is not a Kraken response object")
    errors = [str(e) for e in body.get("error") or []]
    for error in errors:
        for prefix, delay in THROTTLE_ERRORS.items():
            if error.startswith(prefix):
                raise Throttled(error, delay)
    if errors:
        raise SourceError("; ".join(errors))
    if not isinstance(body.get("result"), dict):
        raise SourceError("answer has no result object")


@register
class Kraken(Source):
    name = "kraken"
    source_tag = "kraken_rest"
    datasets = ("candles", "trades", "ticker")
    timeframes = OHLC_INTERVALS
    default_page_size = 1000
    min_interval = 1.0
    body_check = staticmethod(check_body)

    def __init__(self, http, *, page_size: int | None = None) -> None:
        super().__init__(http, page_size=page_size or self.default_page_size)

    def exchange_symbol(self, symbol: str) -> str:
        if "/" not in symbol and "-" not in symbol:
            return symbol.upper()
        base, quote = symbol.replace("-", "/").upper().split("/", 1)
        return ASSET_CODES.get(base, base) + ASSET_CODES.get(quote, quote)

    def server_time_us(self) -> int:
        body = self.http.get_json("/0/public/Time")
        return int(number(body["result"]["unixtime"])) * US_PER_S

    @staticmethod
    def _series(body: dict) -> tuple[str, Any]:
        keys = [k for k in body["result"] if k != "last"]
        if len(keys) != 1:
            raise SourceError(f"expected one pair in the result, got {len(keys)}")
        return keys[0], body["result"][keys[0]]

    def fetch_candles(self, symbol: str, timeframe: str, start_us: int, now_us: int) -> Page:
        interval = self.api_timeframe(timeframe)
        pair = self.exchange_symbol(symbol)
        body = self.http.get_json("/0/public/OHLC", {
            "pair": pair, "interval": interval, "since": start_us // US_PER_S - 1,
        })
        key, records = self._series(body)
        rows, rejects = parse_rows(records, _ohlc, key)
        forming = 0
        if rows:
            rows, forming = rows[:-1], 1           # the last row is always the forming candle
        width_us = interval * 60 * US_PER_S
        final = [r for r in rows if r.open_time + width_us <= now_us]
        # Kraken answers with at most the latest 720 candles: one request is the whole history.
        return Page(rows=final, rejects=rejects, forming=forming + len(rows) - len(final))

    def fetch_trades(self, symbol: str, cursor: TradeCursor, now_us: int) -> Page:
        pair = self.exchange_symbol(symbol)
        body = self.http.get_json("/0/public/Trades", {
            "pair": pair, "since": cursor.since_us * 1000, "count": self.page_size,
        })
        key, records = self._series(body)
        rows, rejects = parse_rows(records, _trade, key)
        if cursor.last_id is not None:
            rows = [r for r in rows if r.trade_id > cursor.last_id]
        page = Page(rows=rows, rejects=rejects)
        last = body["result"].get("last")
        if rows and len(records) >= self.page_size and last is not None:
            page.next_cursor = TradeCursor(int(last) // 1000, rows[-1].trade_id)
        return page

    def fetch_ticker(self, symbol: str) -> TickerRow:
        now_us = self.server_time_us()
        body = self.http.get_json("/0/public/Ticker", {"pair": self.exchange_symbol(symbol)})
        _, t = self._series(body)
        return TickerRow(
            time=now_us, bid=number(t["b"][0]), ask=number(t["a"][0]), last=number(t["c"][0]),
            open=number(t["o"]), high=number(t["h"][1]), low=number(t["l"][1]),
            volume=number(t["v"][1]), quote_volume=number(t["v"][1]) * number(t["p"][1]),
            raw=raw_text(t),
        )


def _ohlc(row: list) -> CandleRow:
    if not isinstance(row, list) or len(row) < 8:
        raise ValueError("an OHLC row is an array of 8 fields")
    volume = number(row[6])
    return CandleRow(open_time=int(row[0]) * US_PER_S, open=number(row[1]), high=number(row[2]),
                     low=number(row[3]), close=number(row[4]), volume=volume,
                     quote_volume=volume * number(row[5]), trade_count=int(row[7]), raw=raw_text(row))


def _trade(row: list) -> TradeRow:
    if not isinstance(row, list) or len(row) < 7:
        raise IndexError("trade_id (field 7)")
    if row[3] not in ("b", "s"):
        raise ValueError(f"side {row[3]!r}")
    return TradeRow(time=round(number(row[2]) * US_PER_S), trade_id=int(row[6]), price=number(row[0]),
                    quantity=number(row[1]), side=row[3], raw=raw_text(row))
