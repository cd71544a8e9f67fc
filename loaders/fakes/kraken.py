"""Fake Kraken REST: /0/public/Time, OHLC (latest 720, last row forming), Trades (ns cursor), Ticker.
Errors come inside HTTP 200 like the real API."""

from __future__ import annotations

from loaders.fakes.market import US, MarketData
from loaders.fakes.server import FakeServer, Reply, Request

PAIR_KEYS = {"XBTUSD": "XXBTZUSD", "XXBTZUSD": "XXBTZUSD", "ETHUSD": "XETHZUSD", "XETHZUSD": "XETHZUSD"}


def ok(result: dict) -> Reply:
    return Reply(body={"error": [], "result": result})


def make_kraken(markets: dict[str, MarketData], *, max_ohlc_rows: int = 720) -> FakeServer:
    """markets keyed by Kraken result key (XXBTZUSD)."""
    srv = FakeServer("kraken")
    now_us = next(iter(markets.values())).now_us

    def pair(req: Request) -> tuple[str, MarketData] | None:
        key = PAIR_KEYS.get(req.arg("pair", "").upper())
        return (key, markets[key]) if key in markets else None

    unknown = Reply(body={"error": ["EQuery:Unknown asset pair"]})

    def server_time(req: Request) -> Reply:
        return ok({"unixtime": now_us // US, "rfc1123": "Thu,  1 Aug 24 03:00:30 +0000"})

    def for_pair(handler):
        """Answer Kraken's unknown-pair error unless the pair is served."""
        def run(req: Request) -> Reply:
            found = pair(req)
            return unknown if found is None else handler(req, *found)
        return run

    def ohlc(req: Request, key: str, m: MarketData) -> Reply:
        width = req.arg("interval", 1, int) * 60
        since = req.arg("since", 0, int) * US
        rows = [c for c in m.candles(width, fill_quiet=True)][-max_ohlc_rows:]
        rows = [c for c in rows if c.open_time_us > since]
        body = [[c.open_time_us // US, *map(m.price_text, (c.open, c.high, c.low, c.close)),
                 f"{(c.quote_volume / c.volume) if c.volume else c.close:.1f}", f"{c.volume:.8f}", c.count]
                for c in rows]
        last = rows[-2].open_time_us // US if len(rows) > 1 else since // US
        return ok({key: body, "last": last})

    def trades(req: Request, key: str, m: MarketData) -> Reply:
        since = req.arg("since", 0, int)
        since_ns = since * 1_000_000_000 if since < 10**12 else since
        count = min(req.arg("count", 1000, int), 1000)
        rows = [t for t in m.trades if t.time_us * 1000 > since_ns][:count]
        body = [[m.price_text(t.price), f"{t.quantity:.8f}", t.time_us / US, "s" if t.buyer_is_maker else "b",
                 "m" if t.trade_id % 3 else "l", "", t.trade_id] for t in rows]
        last = str(rows[-1].time_us * 1000) if rows else str(since_ns)
        return ok({key: body, "last": last})

    def ticker(req: Request, key: str, m: MarketData) -> Reply:
        last = m.trades[-1]
        vol = sum(t.quantity for t in m.trades)
        vwap = sum(t.quantity * t.price for t in m.trades) / vol
        return ok({key: {
            "a": [f"{last.price + 0.1:.1f}", "1", "1.000"], "b": [f"{last.price - 0.1:.1f}", "2", "2.000"],
            "c": [m.price_text(last.price), f"{last.quantity:.8f}"], "v": [f"{vol:.8f}", f"{vol:.8f}"],
            "p": [f"{vwap:.1f}", f"{vwap:.1f}"], "t": [len(m.trades), len(m.trades)],
            "l": [f"{min(t.price for t in m.trades):.1f}"] * 2, "h": [f"{max(t.price for t in m.trades):.1f}"] * 2,
            "o": f"{m.trades[0].price:.1f}",
        }})

    srv.route("GET", "/0/public/Time", server_time)
    srv.route("GET", "/0/public/OHLC", for_pair(ohlc))
    srv.route("GET", "/0/public/Trades", for_pair(trades))
    srv.route("GET", "/0/public/Ticker", for_pair(ticker))
    return srv
