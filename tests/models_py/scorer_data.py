"""Data of the scorer tests: a migrated database with two instruments of seeded 1m random-walk
candles (one with an injected abnormal bar), rolled up, the feature indicators maintained, and the
dbt marts built (features, labels, signals). Oracles read the marts with plain SQL into pandas,
not through the binary COPY path under test."""

from __future__ import annotations

import numpy as np
import pandas as pd
import psycopg

from tests.features import helpers as h

BARS = 2000
SPIKE_BAR = 1500  # AAA's abnormal 1m bar: a 6% range and 40x the volume
DBT_SELECT = ["build", "--select", "+candle_features", "+candle_labels", "+ml_signals", "+trading_signals",
              "--exclude", "analysis_results"]


def build(url: str, run_dir) -> dict[str, int]:
    aaa = h.random_walk_candles(BARS, seed=11)
    bbb = h.random_walk_candles(BARS, seed=12, price=0.5)
    i = SPIKE_BAR
    aaa.loc[i, "high"] = aaa.loc[i, ["open", "close"]].max() * 1.03
    aaa.loc[i, "low"] = aaa.loc[i, ["open", "close"]].min() * 0.97
    aaa.loc[i, "volume"] = aaa["volume"].iloc[i] * 40
    with psycopg.connect(url, autocommit=True) as conn:
        ids = {"AAA/USDT": h.register(conn, "AAA/USDT"), "BBB/USDT": h.register(conn, "BBB/USDT")}
        h.insert_candles(conn, ids["AAA/USDT"], aaa)
        h.insert_candles(conn, ids["BBB/USDT"], bbb)
        h.maintain(conn, list(ids.values()))
        h.refresh(conn)
    h.dbt(url, run_dir, *DBT_SELECT)
    return ids


def spike_time() -> pd.Timestamp:
    return h.START + pd.Timedelta(minutes=SPIKE_BAR)


def labeled_oracle(conn: psycopg.Connection, timeframe: str, ids: list[int], features: list[str], horizon: int,
                   end=None) -> pd.DataFrame:
    """Features joined with labels, one query through psycopg's ordinary row path."""
    cols = ", ".join(f"f.{c}" for c in features)
    cond = " and l.known_at <= %s" if end is not None else ""
    params = [timeframe, ids, horizon] + ([end] if end is not None else [])
    df = h.fetch(conn, f"""
        select f.instrument_id, f.open_time, {cols}, l.forward_return, l.known_at
        from features.candle_features as f join features.candle_labels as l using (instrument_id, timeframe, open_time)
        where f.timeframe = %s and f.instrument_id = any(%s) and l.horizon_bars = %s{cond}
        order by f.open_time, f.instrument_id""", params)
    for c in features:
        df[c] = df[c].astype(float)
    return df


def features_oracle(conn: psycopg.Connection, timeframe: str, ids: list[int], features: list[str]) -> pd.DataFrame:
    cols = ", ".join(features)
    df = h.fetch(conn, f"""
        select instrument_id, open_time, {cols} from features.candle_features
        where timeframe = %s and instrument_id = any(%s) order by open_time, instrument_id""", (timeframe, ids))
    for c in features:
        df[c] = df[c].astype(float)
    return df


def direction(forward_return: np.ndarray, dead_zone: float = 0.0) -> np.ndarray:
    r = np.asarray(forward_return, dtype=float)
    return np.select([r > dead_zone, r < -dead_zone], [1, -1], 0)
