"""Fake Coinbase Exchange REST: /time, /products/{id}/candles (≤ 300, newest first, gaps), trades
(newest first, `after` cursor), ticker, stats."""

from __future__ import annotations

from datetime import datetime, timezone

from loaders.fakes.market import US, MarketData
from loaders.fakes.server import FakeServer, Reply, Request

NOT_FOUND = Reply(404, {"message": "NotFound"})


def iso(us: int) -> str:
    return datetime.fromtimestamp(us / US, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_iso(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * US)


def make_coinbase(markets: dict[str, MarketData]) -> FakeServer:
    """markets keyed by product id (BTC-USD)."""
    srv = FakeServer("coinbase")
    now_us = next(iter(markets.values())).now_us

    def product(req: Request) -> tuple[MarketData | None, str]:
        parts = req.path.strip("/").split("/")   # products/BTC-USD/<what>
        return markets.get(parts[1]), parts[2] if len(parts) > 2 else ""

    def candles(req: Request, m: MarketData) -> Reply:
        granularity = req.arg("granularity", 60, int)
        start, end = parse_iso(req.arg("start")), parse_iso(req.arg("end"))
        if (end - start) // (granularity * US) + 1 > 300:
            return Reply(400, {"message": "granularity too small for the requested time range. "
                                          "Count of aggregations requested exceeds 300"})
        rows = [c for c in m.candles(granularity, fill_quiet=False) if start <= c.open_time_us <= end]
        return Reply(body=[[c.open_time_us // US, c.low, c.high, c.open, c.close, c.volume]
                           for c in reversed(rows)])

    def trades(req: Request, m: MarketData) -> Reply:
        limit = min(req.arg("limit", 100, int), 1000)
        after = req.arg("after", None, int)
        rows = [t for t in m.trades if after is None or t.trade_id < after]
        page = list(reversed(rows))[:limit]
        body = [{"time": iso(t.time_us), "trade_id": t.trade_id, "price": m.price_text(t.price),
                 "size": f"{t.quantity:.8f}", "side": "buy" if t.buyer_is_maker else "sell"} for t in page]
        headers = {"CB-AFTER": str(page[-1].trade_id)} if page else {}
        return Reply(body=body, headers=headers)

    def ticker(req: Request, m: MarketData) -> Reply:
        last = m.trades[-1]
        return Reply(body={"ask": m.price_text(last.price + m.tick), "bid": m.price_text(last.price - m.tick),
                           "volume": f"{sum(t.quantity for t in m.trades):.8f}", "trade_id": last.trade_id,
                           "price": m.price_text(last.price), "size": f"{last.quantity:.8f}", "time": iso(now_us)})

    def stats(req: Request, m: MarketData) -> Reply:
        prices = [t.price for t in m.trades]
        return Reply(body={"open": m.price_text(prices[0]), "high": m.price_text(max(prices)),
                           "low": m.price_text(min(prices)),
                           "last": m.price_text(prices[-1]), "volume": f"{sum(t.quantity for t in m.trades):.8f}",
                           "volume_30day": "0"})

    handlers = {"candles": candles, "trades": trades, "ticker": ticker, "stats": stats}

    def products(req: Request) -> Reply:
        m, what = product(req)
        if m is None or what not in handlers:
            return NOT_FOUND
        return handlers[what](req, m)

    srv.route("GET", "/time", lambda req: Reply(body={"iso": iso(now_us), "epoch": now_us / US}))
    srv.route_prefix("GET", "/products/", products)
    return srv
