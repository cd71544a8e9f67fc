"""Binance spot REST (https://api.binance.com): klines, aggTrades/trades, 24h ticker.

Quirks handled here:
- prices and quantities are strings; times are milliseconds;
- kline rows are arrays `[openTime, open, high, low, close, volume, closeTime, quoteVolume,
  numTrades, takerBuyBase, takerBuyQuote, ignore]`; the last row may still be forming (its
  closeTime is after the server time) and is never returned as a row;
- backfill: next startTime = last closeTime + 1 ms (works for 1M too), stop on a short page;
- aggTrades page by `fromId`; without an id yet, by one-hour startTime/endTime windows (the API
  refuses wider windows); plain trades (`trades_endpoint="trades"`) start from the most recent
  page and continue with historicalTrades?fromId;
- weight: the client watches `X-MBX-USED-WEIGHT-1M` against the 6,000/minute budget.
"""

from __future__ import annotations

from typing import Any

from loaders.core.http import HttpClient
from loaders.sources.base import (
    US_PER_MS, CandleRow, Page, Source, TickerRow, TradeCursor, TradeRow, UnsupportedRequest,
    number, optional_number, parse_rows, raw_text, register,
)

HOUR_MS = 3_600_000
KLINE_INTERVALS = ("1s", "1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h",
                   "1d", "3d", "1w", "1M")


@register
class Binance(Source):
    name = "binance"
    source_tag = "binance_rest"
    datasets = ("candles", "trades", "ticker")
    timeframes = {tf: tf for tf in KLINE_INTERVALS}
    default_page_size = 1000
    min_interval = 0.05
    weight_header = ("X-MBX-USED-WEIGHT-1M", 6000)

    def __init__(self, http: HttpClient, *, page_size: int | None = None,
                 trades_endpoint: str = "aggTrades") -> None:
        super().__init__(http, page_size=page_size or self.default_page_size)
        if trades_endpoint not in ("aggTrades", "trades"):
            raise UnsupportedRequest("binance trades_endpoint must be aggTrades or trades")
        self.trades_endpoint = trades_endpoint

    def exchange_symbol(self, symbol: str) -> str:
        return symbol.replace("/", "").replace("-", "").upper()

    def server_time_us(self) -> int:
        body = self.http.get_json("/api/v3/time")
        return int(number(body["serverTime"])) * US_PER_MS

    # Candles ---------------------------------------------------------------------------------
    def fetch_candles(self, symbol: str, timeframe: str, start_us: int, now_us: int) -> Page:
        interval = self.api_timeframe(timeframe)
        sym = self.exchange_symbol(symbol)
        body = self.http.get_json("/api/v3/klines", {
            "symbol": sym, "interval": interval, "startTime": start_us // US_PER_MS,
            "limit": self.page_size,
        })
        parsed, rejects = parse_rows(body, _kline, sym)
        final = [row for row, close_us in parsed if close_us < now_us]
        page = Page(rows=final, rejects=rejects, forming=len(parsed) - len(final))
        if len(parsed) + len(rejects) >= self.page_size and parsed:
            next_start = parsed[-1][1] + US_PER_MS
            page.next_cursor = next_start if next_start < now_us else None
        return page

    # Trades ----------------------------------------------------------------------------------
    def fetch_trades(self, symbol: str, cursor: TradeCursor, now_us: int) -> Page:
        sym = self.exchange_symbol(symbol)
        if self.trades_endpoint == "trades":
            return self._plain_trades(sym, cursor)
        params: dict[str, Any] = {"symbol": sym, "limit": self.page_size}
        by_window = cursor.last_id is None
        if by_window:
            params["startTime"] = cursor.since_us // US_PER_MS
            params["endTime"] = params["startTime"] + HOUR_MS - 1
        else:
            params["fromId"] = cursor.last_id + 1
        body = self.http.get_json("/api/v3/aggTrades", params)
        rows, rejects = parse_rows(body, _agg_trade, sym)
        page = Page(rows=rows, rejects=rejects)
        if rows:
            full = len(rows) + len(rejects) >= self.page_size
            if by_window or full:
                page.next_cursor = TradeCursor(rows[-1].time, rows[-1].trade_id)
        elif by_window and (params["endTime"] + 1) * US_PER_MS < now_us:
            page.next_cursor = TradeCursor((params["endTime"] + 1) * US_PER_MS)
        return page

    def _plain_trades(self, sym: str, cursor: TradeCursor) -> Page:
        if cursor.last_id is None:
            body = self.http.get_json("/api/v3/trades", {"symbol": sym, "limit": self.page_size})
            rows, rejects = parse_rows(body, _trade, sym)
            rows = [r for r in rows if r.time >= cursor.since_us]
            return Page(rows=rows, rejects=rejects)
        body = self.http.get_json("/api/v3/historicalTrades",
                                  {"symbol": sym, "limit": self.page_size, "fromId": cursor.last_id + 1})
        rows, rejects = parse_rows(body, _trade, sym)
        page = Page(rows=rows, rejects=rejects)
        if rows and len(rows) + len(rejects) >= self.page_size:
            page.next_cursor = TradeCursor(rows[-1].time, rows[-1].trade_id)
        return page

    # Ticker ----------------------------------------------------------------------------------
    def fetch_ticker(self, symbol: str) -> TickerRow:
        body = self.http.get_json("/api/v3/ticker/24hr", {"symbol": self.exchange_symbol(symbol)})
        return TickerRow(
            time=int(number(body["closeTime"])) * US_PER_MS,
            bid=optional_number(body.get("bidPrice")), ask=optional_number(body.get("askPrice")),
            last=optional_number(body.get("lastPrice")), open=optional_number(body.get("openPrice")),
            high=optional_number(body.get("highPrice")), low=optional_number(body.get("lowPrice")),
            volume=optional_number(body.get("volume")),
            quote_volume=optional_number(body.get("quoteVolume")), raw=raw_text(body),
        )


def _kline(row: list) -> tuple[CandleRow, int]:
    """(candle, close time in µs) from a kline array."""
    if not isinstance(row, list) or len(row) < 9:
        raise ValueError("a kline is an array of at least 9 fields")
    candle = CandleRow(
        open_time=int(row[0]) * US_PER_MS, open=number(row[1]), high=number(row[2]),
        low=number(row[3]), close=number(row[4]), volume=number(row[5]),
        quote_volume=number(row[7]), trade_count=int(row[8]), raw=raw_text(row),
    )
    return candle, int(row[6]) * US_PER_MS


def _agg_trade(rec: dict) -> TradeRow:
    return TradeRow(time=int(rec["T"]) * US_PER_MS, trade_id=int(rec["a"]), price=number(rec["p"]),
                    quantity=number(rec["q"]), side="s" if rec["m"] else "b", raw=raw_text(rec))


def _trade(rec: dict) -> TradeRow:
    return TradeRow(time=int(rec["time"]) * US_PER_MS, trade_id=int(rec["id"]),
                    price=number(rec["price"]), quantity=number(rec["qty"]),
                    side="s" if rec["isBuyerMaker"] else "b", raw=raw_text(rec))
