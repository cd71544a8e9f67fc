"""What every REST source module provides, the row shapes it returns, and the registry that picks
a source by name (seed 004's ExchangeFactory).

A source only knows its API: URLs, parameters, paging cursors and how to parse an answer into
the common rows below. It never touches the database; the jobs in loaders/jobs/ drive it.

Common rows (times are int Unix microseconds, UTC):
- `CandleRow`  ccxt's unified OHLCV plus quote volume and trade count;
- `TradeRow`   trade id, price, quantity, aggressor side (b/s/None);
- `QuoteRow`   bid/ask (MT5 ticks);
- `TickerRow`  a 24h ticker snapshot.
Records that cannot be parsed become `Reject`s (reason malformed / missing_field) and are
quarantined by the job with their raw text.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from loaders.core.http import HttpClient
from loaders.core.ingest import Reject

US_PER_S = 1_000_000
US_PER_MS = 1_000

# Candle widths of the timeframes sources can serve (1M is handled as 31 days for "forming").
TIMEFRAME_SECONDS: dict[str, int] = {
    "1s": 1, "1m": 60, "3m": 180, "5m": 300, "15m": 900, "30m": 1800, "1h": 3600, "2h": 7200,
    "4h": 14400, "6h": 21600, "8h": 28800, "12h": 43200, "1d": 86400, "3d": 259200,
    "1w": 604800, "1M": 2678400,
}


class UnsupportedRequest(ValueError):
    """The source cannot serve this (timeframe, dataset, symbol form): a user error."""

    exit_code = 2  # a usage error (db/errors.py)


class CandleRow(NamedTuple):
    open_time: int
    open: float
    high: float
    low: float
    close: float
    volume: float
    quote_volume: float | None = None
    trade_count: int | None = None
    raw: str = ""


class TradeRow(NamedTuple):
    time: int
    trade_id: int
    price: float
    quantity: float
    side: str | None
    raw: str = ""


class QuoteRow(NamedTuple):
    time: int
    update_id: int
    bid: float
    ask: float
    last: float | None
    volume: float | None
    raw: str = ""


class TickerRow(NamedTuple):
    time: int
    bid: float | None
    ask: float | None
    last: float | None
    open: float | None
    high: float | None
    low: float | None
    volume: float | None
    quote_volume: float | None
    raw: str = ""


@dataclass
class Page:
    """One answer of a paged endpoint, parsed. `next_cursor` None = nothing more to fetch now.
    `forming` holds rows the source knows are not final (never stored)."""

    rows: list = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    next_cursor: Any = None
    forming: int = 0


@dataclass(frozen=True)
class TradeCursor:
    """Where a trade backfill continues: after trade `last_id` (when known) or from `since_us`."""

    since_us: int
    last_id: int | None = None


class Source:
    """Base of every REST source. Subclasses set the class attributes and implement the
    `fetch_*` methods of the datasets they serve."""

    name: str = ""
    source_tag: str = ""          # market.candles.source / ops.loader_runs.source
    datasets: tuple[str, ...] = ()
    timeframes: dict[str, Any] = {}
    min_interval: float = 0.0                       # default spacing between requests, seconds
    weight_header: tuple[str, int] | None = None    # (usage header, budget per minute)
    body_check: Callable[[Any], None] | None = None  # inspects 200 bodies (errors inside 200)
    api_key_header: str | None = None               # header carrying the key, for keyed sources

    def __init__(self, http: HttpClient, *, page_size: int | None = None) -> None:
        self.http = http
        self.page_size = page_size

    # Symbols ---------------------------------------------------------------------------------
    def exchange_symbol(self, symbol: str) -> str:
        """The API's spelling of a canonical BASE/QUOTE symbol (an exchange spelling passes)."""
        return symbol

    def instrument_aliases(self, symbol: str) -> list[str]:
        """Other spellings to register with the instrument (e.g. Kraken's result key)."""
        return []

    def api_timeframe(self, timeframe: str) -> Any:
        if timeframe not in self.timeframes:
            raise UnsupportedRequest(
                f"{self.name} has no {timeframe} candles (it serves {', '.join(self.timeframes)})"
            )
        return self.timeframes[timeframe]

    # Data ------------------------------------------------------------------------------------
    def server_time_us(self) -> int:
        raise NotImplementedError

    def fetch_candles(self, symbol: str, timeframe: str, start_us: int, now_us: int) -> Page:
        """Candles with open_time >= start_us, oldest first; next_cursor = next start_us."""
        raise UnsupportedRequest(f"{self.name} does not serve candles")

    def fetch_trades(self, symbol: str, cursor: TradeCursor, now_us: int) -> Page:
        """Trades after the cursor, oldest first; next_cursor = TradeCursor or None."""
        raise UnsupportedRequest(f"{self.name} does not serve trades")

    def fetch_quotes(self, symbol: str, since_us: int, now_us: int) -> Page:
        raise UnsupportedRequest(f"{self.name} does not serve quotes")

    def fetch_ticker(self, symbol: str) -> TickerRow:
        raise UnsupportedRequest(f"{self.name} does not serve tickers")


SourceFactory = Callable[..., Source]
_REGISTRY: dict[str, type[Source]] = {}


def register(cls: type[Source]) -> type[Source]:
    """Class decorator: make a source available by its name."""
    _REGISTRY[cls.name] = cls
    return cls


def source_class(name: str) -> type[Source]:
    """The source class called `name` (binance, kraken, coinbase, mt5)."""
    _import_all()
    try:
        return _REGISTRY[name.lower()]
    except KeyError:
        raise UnsupportedRequest(
            f"unknown exchange {name!r} (known: {', '.join(sorted(_REGISTRY))})"
        ) from None


def source_names() -> list[str]:
    _import_all()
    return sorted(_REGISTRY)


def _import_all() -> None:
    from loaders.sources import binance, coinbase, kraken, mt5  # noqa: F401  (they register)


# Parsing helpers shared by the source modules ------------------------------------------------

def raw_text(record: Any) -> str:
    return record if isinstance(record, str) else json.dumps(record, separators=(",", ":"))


def malformed(record: Any, why: str, symbol: str | None = None) -> Reject:
    reason = "missing_field" if why.startswith("missing") else "malformed"
    return Reject(reason=reason, payload=raw_text(record)[:4000], symbol=symbol)


def number(value: Any) -> float:
    """A float from an API number or numeric string (Binance/Kraken send prices as strings)."""
    if isinstance(value, bool) or value is None:
        raise ValueError(f"not a number: {value!r}")
    return float(value)


def optional_number(value: Any) -> float | None:
    return None if value is None or value == "" else number(value)


def parse_rows(records: Any, parse_one: Callable[[Any], Any], symbol: str) -> tuple[list, list[Reject]]:
    """Parse each record; a record that fails becomes a reject instead of failing the page."""
    rows, rejects = [], []
    if not isinstance(records, list):
        return rows, [malformed(records, "expected a list of records", symbol)]
    for record in records:
        try:
            rows.append(parse_one(record))
        except (KeyError, IndexError) as exc:
            rejects.append(malformed(record, f"missing field {exc}", symbol))
        except (TypeError, ValueError) as exc:
            rejects.append(malformed(record, str(exc), symbol))
    return rows, rejects
