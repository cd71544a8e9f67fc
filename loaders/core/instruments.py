"""Instrument lookup/registration for loaders (through market.resolve_instrument and the
security-definer market.register_instrument; loaders cannot write market.instruments)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import psycopg


def resolve(conn: psycopg.Connection, exchange: str, symbols, *, register: bool = False) -> dict[str, int]:
    """{symbol: instrument_id} for the given spellings; unknown symbols map to -1 unless
    `register` is set, in which case they are registered (base/quote derived from the symbol)."""
    out: dict[str, int] = {}
    for sym in sorted(set(symbols)):
        iid = conn.execute("select market.resolve_instrument(%s, %s)", (exchange, sym)).fetchone()[0]
        if iid is None and register:
            iid = conn.execute("select market.register_instrument(%s, %s)", (exchange, sym)).fetchone()[0]
        out[sym] = -1 if iid is None else int(iid)
    return out


def attach_ids(df: pd.DataFrame, ids: dict[str, int]) -> pd.DataFrame:
    """Adds an int32 instrument_id column from the symbol column (-1 = unknown)."""
    df = df.copy()
    df["instrument_id"] = df["symbol"].map(ids).fillna(-1).astype(np.int32)
    return df
