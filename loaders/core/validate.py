"""Vectorised validation of parsed frames: one reason per rejected row, mirroring the CHECK
constraints of market.trades / market.quotes / market.candles (which stay the last line of
defence). Reasons are the ones listed in the comment of market.quarantine.reason."""

from __future__ import annotations

import time as _time

import numpy as np
import pandas as pd

#: Rows more than this far in the future are rejected (clock skew allowance).
FUTURE_TOLERANCE_US = 5 * 60 * 1_000_000
#: Rows before this instant are rejected as "far past" (2000-01-01 UTC).
MIN_TIME_US = 946_684_800_000_000


class Reasons:
    """Accumulates the first reason that applies to each row."""

    def __init__(self, n: int) -> None:
        self.codes = np.zeros(n, dtype=np.int16)
        self.names: list[str] = [""]

    def flag(self, mask: np.ndarray, reason: str) -> None:
        mask = np.asarray(mask, dtype=bool) & (self.codes == 0)
        if mask.any():
            if reason not in self.names:
                self.names.append(reason)
            self.codes[mask] = self.names.index(reason)

    @property
    def ok(self) -> np.ndarray:
        return self.codes == 0

    def reason_array(self) -> np.ndarray:
        return np.array(self.names, dtype=object)[self.codes]


def flag_common_problems(df: pd.DataFrame, r: Reasons, time_col: str, now_us: int | None) -> None:
    """Flags every dataset shares: unknown instrument, timestamps in the future or far past."""
    now_us = int(_time.time() * 1_000_000) if now_us is None else now_us
    inst = df["instrument_id"].to_numpy()
    r.flag(pd.isna(inst) | (inst < 0), "unknown_instrument")
    t = df[time_col].to_numpy()
    r.flag(t > now_us + FUTURE_TOLERANCE_US, "time_in_future")
    r.flag(t < MIN_TIME_US, "time_too_old")


def _finite(df: pd.DataFrame, cols: list[str]) -> np.ndarray:
    ok = np.ones(len(df), dtype=bool)
    for c in cols:
        ok &= np.isfinite(df[c].to_numpy(dtype=float))
    return ok


def validate_trades(df: pd.DataFrame, now_us: int | None = None) -> Reasons:
    r = Reasons(len(df))
    flag_common_problems(df, r, "time", now_us)
    price = df["price"].to_numpy(dtype=float)
    qty = df["quantity"].to_numpy(dtype=float)
    r.flag(~_finite(df, ["price", "quantity"]), "non_finite_value")
    r.flag(price <= 0, "non_positive_price")
    r.flag(qty <= 0, "non_positive_quantity")
    side = df["side"].to_numpy()
    r.flag(~np.isin(side, np.array([b"b", b"s", b""])) if side.dtype.kind == "S"
           else ~pd.Series(side).isin(["b", "s", "", None, b"b", b"s", b""]).to_numpy(), "invalid_side")
    return r


def validate_quotes(df: pd.DataFrame, now_us: int | None = None) -> Reasons:
    r = Reasons(len(df))
    flag_common_problems(df, r, "time", now_us)
    bid = df["bid"].to_numpy(dtype=float)
    ask = df["ask"].to_numpy(dtype=float)
    r.flag(~_finite(df, ["bid", "ask"]), "non_finite_value")
    r.flag((bid <= 0) | (ask <= 0), "non_positive_price")
    for c in ("bid_size", "ask_size", "volume"):
        if c in df:
            v = df[c].to_numpy(dtype=float)
            r.flag(np.isinf(v), "non_finite_value")
            r.flag(v < 0, "negative_volume")
    if "last" in df:
        v = df["last"].to_numpy(dtype=float)
        r.flag(np.isinf(v) | (v <= 0), "non_positive_price")
    r.flag(ask < bid, "crossed_quote")
    return r


def validate_candles(df: pd.DataFrame, now_us: int | None = None) -> Reasons:
    r = Reasons(len(df))
    flag_common_problems(df, r, "open_time", now_us)
    o, h, lo, c = (df[k].to_numpy(dtype=float) for k in ("open", "high", "low", "close"))
    vol = df["volume"].to_numpy(dtype=float)
    r.flag(~_finite(df, ["open", "high", "low", "close", "volume"]), "non_finite_value")
    r.flag((o <= 0) | (h <= 0) | (lo <= 0) | (c <= 0), "non_positive_price")
    r.flag(vol < 0, "negative_volume")
    if "quote_volume" in df:
        qv = df["quote_volume"].to_numpy(dtype=float)
        r.flag(np.isinf(qv), "non_finite_value")
        r.flag(qv < 0, "negative_volume")
    r.flag(h < lo, "high_below_low")
    r.flag(h < np.maximum(o, c), "high_below_open_close")
    r.flag(lo > np.minimum(o, c), "low_above_open_close")
    if "trade_count" in df:
        tc = df["trade_count"].to_numpy(dtype=float)
        r.flag(tc < 0, "negative_volume")
    return r
