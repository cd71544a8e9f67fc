"""Fake MT5 REST bridge implementing the project's contract (docs/loaders.md): /time, /rates,
/ticks, in broker server time (UTC + offset), behind an X-API-Key header."""

from __future__ import annotations

from loaders.fakes.market import US, MarketData
from loaders.fakes.server import FakeServer, Reply, Request

TIMEFRAMES = {"M1": 60, "M5": 300, "M15": 900, "M30": 1800, "H1": 3600, "H4": 14400, "D1": 86400}


def make_mt5(markets: dict[str, MarketData], *, api_key: str, broker_offset_hours: float = 2.0) -> FakeServer:
    """Ticks are the market's trades as bid/ask around the trade price, `MarketData.spread` apart,
    on the market's tick (`MarketData.decimals`)."""
    srv = FakeServer("mt5")
    offset_us = int(broker_offset_hours * 3600 * US)
    now_us = next(iter(markets.values())).now_us

    def guarded(handler):
        def run(req: Request) -> Reply:
            if req.headers.get("X-API-Key") != api_key:
                return Reply(401, {"error": {"code": "UNAUTHORIZED", "message": "invalid API key"}})
            return handler(req)
        return run

    def market(req: Request) -> MarketData | None:
        return markets.get(req.arg("symbol", ""))

    unknown = Reply(404, {"error": {"code": "UNKNOWN_SYMBOL", "message": "symbol not found"}})

    def rates(req: Request) -> Reply:
        m = market(req)
        if m is None:
            return unknown
        width = TIMEFRAMES[req.arg("timeframe")]
        start = req.arg("from", 0, int) * US - offset_us
        count = req.arg("count", 1000, int)
        rows = [c for c in m.candles(width, fill_quiet=False) if c.open_time_us >= start][:count]
        return Reply(body={"symbol": req.arg("symbol"), "timeframe": req.arg("timeframe"), "rates": [
            {"time": (c.open_time_us + offset_us) // US, "open": c.open, "high": c.high, "low": c.low,
             "close": c.close, "tick_volume": c.count,
             "spread": round(m.spread * 10 ** m.decimals), "real_volume": 0} for c in rows]})

    def ticks(req: Request) -> Reply:
        m = market(req)
        if m is None:
            return unknown
        start_ms = req.arg("from_msc", 0, int)
        count = req.arg("count", 1000, int)
        rows = [t for t in m.trades if (t.time_us + offset_us) // 1000 >= start_ms][:count]
        half = m.spread / 2
        return Reply(body={"symbol": req.arg("symbol"), "ticks": [
            {"time": (t.time_us + offset_us) // US, "bid": round(t.price - half, m.decimals),
             "ask": round(t.price + half, m.decimals), "last": 0.0, "volume": 0,
             "time_msc": (t.time_us + offset_us) // 1000, "flags": 6, "volume_real": 0.0} for t in rows]})

    srv.route("GET", "/time", guarded(lambda req: Reply(body={"time": (now_us + offset_us) // US})))
    srv.route("GET", "/rates", guarded(rates))
    srv.route("GET", "/ticks", guarded(ticks))
    return srv
