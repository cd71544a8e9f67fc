"""Common rows (loaders.sources.base) -> the DataFrames the ingest core loads, and the ticker
snapshot dataset (market.ticker_snapshots) described in the ingest core's terms."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from loaders.core.ingest import Dataset, Reject
from loaders.core.validate import Reasons, flag_common_problems
from loaders.sources.base import CandleRow, QuoteRow, TickerRow, TradeRow


def _frame(rows: Sequence[tuple], columns: Sequence[str], instrument_id: int, symbol: str) -> pd.DataFrame:
    df = pd.DataFrame(list(rows), columns=list(columns))
    df.insert(0, "instrument_id", np.full(len(df), instrument_id, dtype=np.int32))
    df["symbol"] = symbol
    return df


def candles_frame(rows: Sequence[CandleRow], *, instrument_id: int, symbol: str, timeframe: str,
                  source: str) -> pd.DataFrame:
    df = _frame(rows, CandleRow._fields, instrument_id, symbol)
    df = df.astype({"open_time": np.int64, "open": float, "high": float, "low": float,
                    "close": float, "volume": float, "quote_volume": float, "trade_count": float})
    df["timeframe"] = timeframe
    df["source"] = source
    return df


def trades_frame(rows: Sequence[TradeRow], *, instrument_id: int, symbol: str) -> pd.DataFrame:
    df = _frame(rows, TradeRow._fields, instrument_id, symbol)
    df = df.astype({"time": np.int64, "trade_id": np.int64, "price": float, "quantity": float})
    df["side"] = np.array([(s or "").encode("ascii") for s in df["side"]], dtype="S1")
    return df


def quotes_frame(rows: Sequence[QuoteRow], *, instrument_id: int, symbol: str) -> pd.DataFrame:
    df = _frame(rows, QuoteRow._fields, instrument_id, symbol)
    df = df.astype({"time": np.int64, "update_id": np.int64, "bid": float, "ask": float,
                    "last": float, "volume": float})
    df["bid_size"] = np.nan
    df["ask_size"] = np.nan
    return df


def tickers_frame(rows: Sequence[TickerRow], *, instrument_id: int, symbol: str) -> pd.DataFrame:
    df = _frame(rows, TickerRow._fields, instrument_id, symbol)
    df = df.rename(columns={"open": "open_24h", "high": "high_24h", "low": "low_24h",
                            "volume": "volume_24h", "quote_volume": "quote_volume_24h"})
    return df.astype({"time": np.int64, **{c: float for c in TICKER_VALUES}})


def with_symbol(rejects: Sequence[Reject], symbol: str) -> list[Reject]:
    return [r if r.symbol else Reject(r.reason, r.payload, symbol, r.record_time_us) for r in rejects]


TICKER_VALUES = ("bid", "ask", "last", "open_24h", "high_24h", "low_24h", "volume_24h", "quote_volume_24h")


def validate_tickers(df: pd.DataFrame, now_us: int | None = None) -> Reasons:
    """Same reasons as the market validators: impossible prices, negative volumes, crossed book."""
    r = Reasons(len(df))
    flag_common_problems(df, r, "time", now_us)
    for col in TICKER_VALUES:
        v = df[col].to_numpy(dtype=float)
        r.flag(np.isinf(v), "non_finite_value")
        r.flag(v <= 0 if not col.startswith(("volume", "quote")) else v < 0,
               "non_positive_price" if not col.startswith(("volume", "quote")) else "negative_volume")
    bid, ask = df["bid"].to_numpy(dtype=float), df["ask"].to_numpy(dtype=float)
    r.flag(ask < bid, "crossed_quote")
    return r


TICKERS = Dataset(
    name="tickers", table="market.ticker_snapshots",
    columns=(("time", "timestamptz"), ("instrument_id", "int4"),
             *((c, "float8") for c in TICKER_VALUES)),
    key=("instrument_id", "time"), series=("instrument_id",), time_col="time", id_col=None,
    values=TICKER_VALUES, nullable=TICKER_VALUES, validator=validate_tickers,
)
