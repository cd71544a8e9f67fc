"""Fake Binance spot REST: /api/v3/time, klines, aggTrades, trades, historicalTrades, ticker/24hr."""

from __future__ import annotations

from loaders.fakes.market import US, MarketData
from loaders.fakes.server import FakeServer, Reply, Request

INTERVAL_SECONDS = {"1m": 60, "3m": 180, "5m": 300, "15m": 900, "30m": 1800, "1h": 3600,
                    "2h": 7200, "4h": 14400, "6h": 21600, "8h": 28800, "12h": 43200, "1d": 86400}
INVALID_SYMBOL = Reply(400, {"code": -1121, "msg": "Invalid symbol."})


def _ms(us: int) -> int:
    return us // 1000


def make_binance(markets: dict[str, MarketData]) -> FakeServer:
    """markets: {"BTCUSDT": MarketData(...)}; all share the first market's clock."""
    srv = FakeServer("binance")
    now_us = next(iter(markets.values())).now_us
    weight = {"used": 0}

    def with_weight(reply: Reply, cost: int) -> Reply:
        weight["used"] += cost
        reply.headers["X-MBX-USED-WEIGHT-1M"] = str(weight["used"] % 5000)
        return reply

    def for_symbol(handler):
        """Answer Binance's invalid-symbol error unless the symbol is served."""
        def run(req: Request) -> Reply:
            m = markets.get(req.arg("symbol", ""))
            return INVALID_SYMBOL if m is None else handler(req, m)
        return run

    def server_time(req: Request) -> Reply:
        return with_weight(Reply(body={"serverTime": _ms(now_us)}), 1)

    def klines(req: Request, m: MarketData) -> Reply:
        width = INTERVAL_SECONDS[req.arg("interval")]
        limit = min(req.arg("limit", 500, int), 1000)
        start = req.arg("startTime", 0, int) * 1000
        end = req.arg("endTime", 2**62 // 1000, int) * 1000
        rows = [c for c in m.candles(width, fill_quiet=True) if start <= c.open_time_us <= end][:limit]
        body = [[_ms(c.open_time_us), *map(m.price_text, (c.open, c.high, c.low, c.close)),
                 f"{c.volume:.8f}", _ms(c.open_time_us + width * US) - 1, f"{c.quote_volume:.8f}",
                 c.count, f"{c.volume / 2:.8f}", f"{c.quote_volume / 2:.8f}", "0"] for c in rows]
        return with_weight(Reply(body=body), 2)

    def agg_trades(req: Request, m: MarketData) -> Reply:
        limit = min(req.arg("limit", 500, int), 1000)
        if "fromId" in req.query:
            rows = [t for t in m.trades if t.trade_id >= req.arg("fromId", 0, int)]
        else:
            start, end = req.arg("startTime", 0, int), req.arg("endTime", 0, int)
            if end - start >= 3_600_000:
                return Reply(400, {"code": -1127, "msg": "More than 1 hours between startTime and endTime."})
            rows = [t for t in m.trades if start <= _ms(t.time_us) <= end]
        body = [{"a": t.trade_id, "p": m.price_text(t.price), "q": f"{t.quantity:.5f}", "f": t.trade_id * 3,
                 "l": t.trade_id * 3 + 2, "T": _ms(t.time_us), "m": t.buyer_is_maker, "M": True}
                for t in rows[:limit]]
        return with_weight(Reply(body=body), 2)

    def plain_trades(req: Request, m: MarketData, *, historical: bool) -> Reply:
        limit = min(req.arg("limit", 500, int), 1000)
        rows = [t for t in m.trades if t.trade_id >= req.arg("fromId", 0, int)][:limit] if historical \
            else m.trades[-limit:]
        body = [{"id": t.trade_id, "price": m.price_text(t.price), "qty": f"{t.quantity:.5f}",
                 "quoteQty": f"{t.price * t.quantity:.8f}", "time": _ms(t.time_us),
                 "isBuyerMaker": t.buyer_is_maker, "isBestMatch": True} for t in rows]
        return with_weight(Reply(body=body), 25)

    def ticker(req: Request, m: MarketData) -> Reply:
        day = [t for t in m.trades if t.time_us > now_us - 86_400 * US]
        last = day[-1].price
        return with_weight(Reply(body={
            "symbol": req.arg("symbol"), "priceChange": m.price_text(last - day[0].price),
            "lastPrice": m.price_text(last), "bidPrice": m.price_text(last - m.tick),
            "askPrice": m.price_text(last + m.tick),
            "openPrice": m.price_text(day[0].price), "highPrice": m.price_text(max(t.price for t in day)),
            "lowPrice": m.price_text(min(t.price for t in day)), "volume": f"{sum(t.quantity for t in day):.8f}",
            "quoteVolume": f"{sum(t.quantity * t.price for t in day):.8f}",
            "openTime": _ms(now_us) - 86_400_000, "closeTime": _ms(now_us), "count": len(day),
        }), 2)

    srv.route("GET", "/api/v3/time", server_time)
    srv.route("GET", "/api/v3/klines", for_symbol(klines))
    srv.route("GET", "/api/v3/aggTrades", for_symbol(agg_trades))
    srv.route("GET", "/api/v3/trades", for_symbol(lambda r, m: plain_trades(r, m, historical=False)))
    srv.route("GET", "/api/v3/historicalTrades", for_symbol(lambda r, m: plain_trades(r, m, historical=True)))
    srv.route("GET", "/api/v3/ticker/24hr", for_symbol(ticker))
    return srv
