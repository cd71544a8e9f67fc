"""Fake taapi.io: single-indicator GETs and POST /bulk (≤ 20 calculations), secret checked,
optional plan rate limit (429 with taapi's message)."""

from __future__ import annotations

import threading
import time

from loaders.fakes.server import FakeServer, Reply, Request

RATE_LIMIT_BODY = {"error": "429: You have exceeded your request limit (TAAPI.IO rate-limit)!"}
INTERVAL_S = {"1m": 60, "5m": 300, "15m": 900, "30m": 1800, "1h": 3600, "2h": 7200, "4h": 14400,
              "12h": 43200, "1d": 86400, "1w": 604800}


def value_of(indicator: str, symbol: str, interval: str, backtrack: int, period: int | None) -> dict:
    base = (sum(map(ord, f"{symbol}{interval}{indicator}{period}")) % 1000) / 1000.0 + backtrack * 0.001
    if indicator == "macd":
        return {"valueMACD": 12.5 + base, "valueMACDSignal": 10.25 + base, "valueMACDHist": 2.25}
    if indicator == "bbands":
        return {"valueUpperBand": 65_000 + base, "valueMiddleBand": 64_000 + base, "valueLowerBand": 63_000 + base}
    if indicator == "rsi":
        return {"value": 40 + 20 * base}
    if indicator == "atr":
        return {"value": 150 + base}
    return {"value": 64_000 + 100 * base}


def make_taapi(*, secret: str, now_s: int = 1_722_481_230, requests_per_15s: int | None = None) -> FakeServer:
    srv = FakeServer("taapi")
    window: list[float] = []
    lock = threading.Lock()

    def over_limit() -> bool:
        if requests_per_15s is None:
            return False
        with lock:
            now = time.monotonic()
            window[:] = [t for t in window if now - t < 15]
            if len(window) >= requests_per_15s:
                return True
            window.append(now)
            return False

    def result(indicator: str, symbol: str, interval: str, backtrack: int, period, stamp: bool) -> dict:
        width = INTERVAL_S[interval]
        body = value_of(indicator, symbol, interval, backtrack, period)
        if stamp:
            body["timestamp"] = (now_s // width - backtrack) * width
        return body

    def single(req: Request) -> Reply:
        if req.arg("secret") != secret:
            return Reply(401, {"errors": ["Permission denied: invalid secret"]})
        if over_limit():
            return Reply(429, RATE_LIMIT_BODY)
        indicator = req.path.strip("/")
        return Reply(body=result(indicator, req.arg("symbol"), req.arg("interval"),
                                 req.arg("backtrack", 0, int), req.arg("period"),
                                 req.arg("addResultTimestamp") == "true"))

    def bulk(req: Request) -> Reply:
        body = req.json()
        if body.get("secret") != secret:
            return Reply(401, {"errors": ["Permission denied: invalid secret"]})
        if over_limit():
            return Reply(429, RATE_LIMIT_BODY)
        constructs = body["construct"] if isinstance(body["construct"], list) else [body["construct"]]
        if sum(len(c["indicators"]) for c in constructs) > 20:
            return Reply(400, {"errors": ["Too many calculations: max 20 per request"]})
        data = []
        for c in constructs:
            for n, ind in enumerate(c["indicators"]):
                ident = ind.get("id") or f"{c['exchange']}_{c['symbol']}_{c['interval']}_{ind['indicator']}_{n}"
                if c["symbol"] == "NOPE/USDT":
                    data.append({"id": ident, "result": {}, "errors": ["Symbol NOPE/USDT not supported"]})
                    continue
                data.append({"id": ident, "errors": [], "result": result(
                    ind["indicator"], c["symbol"], c["interval"], int(ind.get("backtrack", 0)),
                    ind.get("period"), bool(ind.get("addResultTimestamp")))})
        return Reply(body={"data": data})

    srv.route("POST", "/bulk", bulk)
    srv.route_prefix("GET", "/", single)
    return srv
