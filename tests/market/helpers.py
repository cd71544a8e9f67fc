"""Shared helpers of the market tests: independent oracles (pandas over the raw rows the test
generated or parsed) and small loaders. Not a conftest: fixtures come from tests/conftest.py."""

from __future__ import annotations


import numpy as np
import pandas as pd
import psycopg

from loaders.sources.binance_capture import bundled_capture_dir, bundled_captures

DATA = bundled_capture_dir()
CAPTURES = bundled_captures()
assert CAPTURES, f"the real Binance captures are missing from {DATA} (set TSQ_CAPTURE_DIR)"

ORIGIN_US = int(pd.Timestamp("2000-01-03", tz="UTC").value // 1000)
WIDTHS_US = {"1m": 60, "5m": 300, "15m": 900, "30m": 1800, "1h": 3600, "2h": 7200, "4h": 14400,
             "1d": 86400, "1w": 604800}
WIDTHS_US = {k: v * 1_000_000 for k, v in WIDTHS_US.items()}
TIMEFRAMES = list(WIDTHS_US)
CANDLE_COLUMNS = ["instrument_id", "open_time", "open", "high", "low", "close", "volume",
                  "quote_volume", "vwap", "trade_count"]


def oracle_candles(trades: pd.DataFrame, timeframe: str) -> pd.DataFrame:
    """Candles straight from trades (instrument_id, time µs, trade_id, price, quantity): open and
    close by (time, trade_id), volume = sum of sizes, vwap = sum(p*q)/sum(q)."""
    w = WIDTHS_US[timeframe]
    t = trades.sort_values(["instrument_id", "time", "trade_id"]).copy()
    t["open_time"] = ORIGIN_US + ((t["time"] - ORIGIN_US) // w) * w
    t["pq"] = t["price"] * t["quantity"]
    g = t.groupby(["instrument_id", "open_time"], sort=True)
    out = pd.DataFrame({
        "open": g["price"].first(), "high": g["price"].max(), "low": g["price"].min(),
        "close": g["price"].last(), "volume": g["quantity"].sum(), "quote_volume": g["pq"].sum(),
        "trade_count": g["price"].size(),
    }).reset_index()
    out["vwap"] = out["quote_volume"] / out["volume"]
    return out[CANDLE_COLUMNS]


def fetch_candles(conn: psycopg.Connection, relation: str) -> pd.DataFrame:
    rows = conn.execute(
        f"select instrument_id, (extract(epoch from open_time) * 1000000)::bigint, open, high, low, close,"
        f" volume, quote_volume, vwap, trade_count from {relation} order by instrument_id, open_time"
    ).fetchall()
    return pd.DataFrame(rows, columns=CANDLE_COLUMNS)


def assert_candles_equal(got: pd.DataFrame, want: pd.DataFrame, label: str) -> None:
    got = got.reset_index(drop=True)
    want = want.reset_index(drop=True)
    assert len(got) == len(want), f"{label}: {len(got)} candles, expected {len(want)}"
    for col in ("instrument_id", "open_time", "trade_count"):
        assert (got[col].astype(np.int64).to_numpy() == want[col].astype(np.int64).to_numpy()).all(), f"{label}: {col}"
    for col in ("open", "high", "low", "close"):
        bad = got[col].to_numpy(float) != want[col].to_numpy(float)
        assert not bad.any(), f"{label}: {col} differs at {got[bad].head(3).to_dict('records')} vs {want[bad].head(3).to_dict('records')}"
    for col in ("volume", "quote_volume", "vwap"):
        np.testing.assert_allclose(got[col].to_numpy(float), want[col].to_numpy(float), rtol=1e-9,
                                   err_msg=f"{label}: {col}")


def load_trades(conn: psycopg.Connection, trades: pd.DataFrame, *, batch_size: int = 5000,
                refresh_every: int | None = None, source: str = "test", job: str = "test_load"):
    """Load trades (with instrument_id) through a LoaderRun in batches, optionally refreshing the
    rollups every `refresh_every` batches. Returns the run's counts."""
    from loaders.core.ingest import TRADES
    from loaders.core.runs import LoaderRun

    with LoaderRun(conn, job=job, source=source, dataset="trades") as run:
        for i, start in enumerate(range(0, len(trades), batch_size)):
            run.load(TRADES, trades.iloc[start:start + batch_size], batch_size=batch_size)
            if refresh_every and (i + 1) % refresh_every == 0:
                conn.execute("call market.refresh_rollups()")
    return run.counts


def parsed_capture_trades(conn: psycopg.Connection, paths=CAPTURES) -> pd.DataFrame:
    """All trades of the captures as the oracle sees them (deduplicated on the key), with the
    instrument ids the database assigned."""
    from loaders.sources.binance_capture import parse_capture

    frames = [parse_capture(p).trades for p in paths]
    t = pd.concat(frames, ignore_index=True).drop_duplicates(["symbol", "time", "trade_id"])
    ids = dict(conn.execute("select exchange_symbol, instrument_id from market.instruments where exchange = 'binance'").fetchall())
    t["instrument_id"] = t["symbol"].map(ids)
    return t
