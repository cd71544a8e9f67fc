"""taapi.io (seed 000's taapi_client): indicator values by the single and the bulk endpoint.

- single: `GET /{indicator}?secret=…&exchange=…&symbol=…&interval=…&backtrack=…&addResultTimestamp=true`
  plus the indicator's parameters (period …);
- bulk: `POST /bulk {"secret": …, "construct": [{exchange, symbol, interval, indicators: [...]}]}`,
  at most 20 calculations per request (requests are split here);
- results: rsi/ema/sma/atr `{"value"}`, macd `{valueMACD, valueMACDSignal, valueMACDHist}`,
  bbands `{valueUpperBand, valueMiddleBand, valueLowerBand}`, plus `timestamp` (candle open, s);
- the key travels as the `secret` query parameter / body field: the HTTP client redacts it from
  every message, and it is never stored;
- DRY_RUN (no HTTP call) is simulated from the stored candles by loaders/jobs/taapi.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from loaders.core.config import IndicatorSpec
from loaders.core.http import HttpClient, SourceError
from loaders.sources.base import TIMEFRAME_SECONDS, US_PER_S, UnsupportedRequest

TAAPI_INTERVALS = ("1m", "5m", "15m", "30m", "1h", "2h", "4h", "12h", "1d", "1w")
MAX_BULK_CALCULATIONS = 20
MAIN_OUTPUT = {"macd": "valueMACD", "bbands": "valueMiddleBand"}


@dataclass(frozen=True)
class Request:
    """One indicator calculation for one exchange/symbol/interval."""

    exchange: str
    symbol: str
    interval: str
    spec: IndicatorSpec
    backtrack: int

    @property
    def id(self) -> str:
        return f"{self.exchange}_{self.symbol}_{self.interval}_{self.spec.key}_{self.backtrack}"

    def params(self) -> dict[str, Any]:
        return {**self.spec.params, "backtrack": self.backtrack}


@dataclass
class Result:
    request: Request
    body: Any = None
    error: str | None = None


def check_interval(interval: str) -> str:
    if interval not in TAAPI_INTERVALS:
        raise UnsupportedRequest(f"taapi has no interval {interval!r} (use one of {', '.join(TAAPI_INTERVALS)})")
    return interval


class Taapi:
    name = "taapi"

    def __init__(self, http: HttpClient, secret: str) -> None:
        self.http = http
        self.secret = secret

    def fetch_single(self, req: Request) -> Result:
        params = {"secret": self.secret, "exchange": req.exchange, "symbol": req.symbol,
                  "interval": req.interval, "addResultTimestamp": "true", **req.params()}
        try:
            return Result(req, self.http.get_json(f"/{req.spec.indicator}", params))
        except SourceError as exc:
            return Result(req, error=str(exc))

    def fetch_bulk(self, requests: list[Request]) -> Iterator[Result]:
        """Results of every request, at most 20 calculations per HTTP call."""
        for start in range(0, len(requests), MAX_BULK_CALCULATIONS):
            chunk = requests[start:start + MAX_BULK_CALCULATIONS]
            body = self.http.post_json("/bulk", {"secret": self.secret, "construct": _constructs(chunk)})
            yield from _bulk_results(chunk, body)


def _constructs(chunk: list[Request]) -> list[dict[str, Any]]:
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for req in chunk:
        groups.setdefault((req.exchange, req.symbol, req.interval), []).append(
            {"id": req.id, "indicator": req.spec.indicator, "addResultTimestamp": True, **req.params()})
    return [{"exchange": e, "symbol": s, "interval": i, "indicators": inds}
            for (e, s, i), inds in groups.items()]


def _bulk_results(chunk: list[Request], body: Any) -> Iterator[Result]:
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        raise SourceError("taapi bulk answer has no data list")
    by_id = {item.get("id"): item for item in body["data"] if isinstance(item, dict)}
    for req in chunk:
        item = by_id.get(req.id)
        if item is None:
            yield Result(req, error="missing from the bulk answer")
        elif item.get("errors"):
            yield Result(req, body=item, error="; ".join(str(e) for e in item["errors"]))
        else:
            yield Result(req, body=item.get("result"))


def outputs_of(body: Any) -> dict[str, float]:
    """Numeric outputs of a result (everything numeric except the timestamp)."""
    if not isinstance(body, dict):
        raise ValueError("a taapi result is an object")
    out = {k: float(v) for k, v in body.items()
           if k != "timestamp" and isinstance(v, (int, float)) and not isinstance(v, bool)}
    if not out:
        raise ValueError("the result has no numeric value")
    return out


def main_value(indicator: str, outputs: dict[str, float]) -> float | None:
    return outputs.get(MAIN_OUTPUT.get(indicator, "value"))


def candle_open_us(interval: str, now_us: int, backtrack: int) -> int:
    width = TIMEFRAME_SECONDS[interval] * US_PER_S
    return (now_us // width - backtrack) * width
