"""Helpers of the features/signals tests: native 1m candles from a seeded random walk, the
rollups and maintained feature indicators over them, a dbt run against one test database, and
the pandas oracle of features.candle_features (independent of the SQL: recomputed from the
stored candles and the maintained indicator values)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import psycopg

from db.dbt_runner import maintain_feature_indicators, run_dbt

START = pd.Timestamp("2024-03-04 00:00", tz="UTC")  # a Monday
BAR_SECONDS = {"1m": 60, "5m": 300, "15m": 900, "1h": 3600, "4h": 14400, "1d": 86400}
TIMEFRAMES = list(BAR_SECONDS)
ORIGIN = pd.Timestamp("2000-01-03", tz="UTC")
KEY = ["instrument_id", "timeframe", "open_time"]
FEATURES_QUERY = "select * from features.candle_features order by instrument_id, timeframe, open_time"


def random_walk_candles(n: int, *, seed: int, start: pd.Timestamp = START, price: float = 100.0,
                        gap_every: int | None = None, flat_volume_from: int | None = None) -> pd.DataFrame:
    """n native 1m candles (open_time, open, high, low, close, volume) of a random walk.
    gap_every: drop a block of 7 minutes every that many bars (gaps, also in the higher timeframes);
    flat_volume_from: identical volumes (0.1) from that bar on (the zero-std rule)."""
    rng = np.random.default_rng(seed)
    close = price * np.exp(np.cumsum(rng.normal(0, 0.002, n)))
    open_ = np.concatenate([[price], close[:-1]]) * np.exp(rng.normal(0, 0.0005, n))
    high = np.maximum(open_, close) * np.exp(np.abs(rng.normal(0, 0.001, n)))
    low = np.minimum(open_, close) * np.exp(-np.abs(rng.normal(0, 0.001, n)))
    volume = np.round(rng.gamma(2.0, 5.0, n), 6)
    if flat_volume_from is not None:
        volume[flat_volume_from:] = 0.1
    df = pd.DataFrame({
        "open_time": start + pd.to_timedelta(np.arange(n), unit="min"),
        "open": open_, "high": high, "low": low, "close": close, "volume": volume,
    })
    if gap_every:
        keep = (np.arange(n) % gap_every) >= 7
        keep[:gap_every] = True
        df = df[keep]
    return df.reset_index(drop=True)


def register(conn: psycopg.Connection, symbol: str, exchange: str = "testex") -> int:
    return conn.execute(
        "select market.register_instrument(%s, %s, p_candle_source => 'native')", (exchange, symbol)
    ).fetchone()[0]


def insert_candles(conn: psycopg.Connection, instrument_id: int, candles: pd.DataFrame) -> None:
    with conn.cursor().copy(
        "copy market.candles (instrument_id, timeframe, open_time, open, high, low, close, volume, source)"
        " from stdin"
    ) as cp:
        for r in candles.itertuples(index=False):
            cp.write_row((instrument_id, "1m", r.open_time.to_pydatetime(), r.open, r.high, r.low, r.close,
                          r.volume, "test"))


def refresh(conn: psycopg.Connection) -> None:
    """Rollups, then the maintained indicators (what `python -m loaders rollups` does)."""
    conn.execute("call market.refresh_rollups()")
    conn.execute("select count(*) from ta.refresh_indicators()")


def maintain(conn: psycopg.Connection, instrument_ids: list[int]) -> None:
    maintain_feature_indicators(conn, instrument_ids)


def dbt(url: str, tmp_path, *args: str) -> str:
    """Run dbt on the test database; fails the test with dbt's output when dbt fails."""
    proc = run_dbt(list(args), url, run_dir=tmp_path, capture=True)
    assert proc.returncode == 0, f"dbt {' '.join(args)} failed (exit {proc.returncode}):\n{proc.stdout[-6000:]}"
    return proc.stdout


def fetch(conn: psycopg.Connection, query: str, params=None) -> pd.DataFrame:
    cur = conn.execute(query, params)
    return pd.DataFrame(cur.fetchall(), columns=[d.name for d in cur.description])


# ---------------------------------------------------------------------------------------------
# The oracle

INDICATOR_OUTPUTS = {  # maintained name -> columns of value1..value3
    "rsi_14": ["rsi_14"], "macd_12_26_9": ["macd", "macd_signal", "macd_hist"],
    "bbands_20_2_2": ["bb_upper", "bb_middle", "bb_lower"], "atr_14": ["atr_14"], "natr_14": ["natr_14"],
    "adx_14": ["adx_14"], "plus_di_14": ["plus_di_14"], "minus_di_14": ["minus_di_14"],
    "stoch_14_3_3": ["stoch_k", "stoch_d"], "obv": ["obv"], "vwap": ["vwap"],
}


def window_stat(x: pd.Series, n: int, fn, **kwargs) -> pd.Series:
    """fn over each full window of the last n values ending at each row (NaN until n values, or
    when one is NaN): numpy's two-pass statistics per window, not a running update."""
    a = x.to_numpy(float)
    out = np.full(len(a), np.nan)
    if len(a) >= n:
        windows = np.lib.stride_tricks.sliding_window_view(a, n)
        out[n - 1:] = fn(windows, axis=1, **kwargs)
    return pd.Series(out, index=x.index)


def oracle_features(conn: psycopg.Connection) -> pd.DataFrame:
    """features.candle_features recomputed with pandas from market.candles_<tf>, the maintained
    values (ta.indicator_values) and market.quarantine, following the definitions of the issue."""
    frames = []
    for tf in TIMEFRAMES:
        c = fetch(conn, f"select instrument_id, open_time, open, high, low, close, volume from market.candles_{tf}"
                        " order by instrument_id, open_time")
        c["timeframe"] = tf
        frames.append(c)
    bars = pd.concat(frames, ignore_index=True)
    iv = fetch(conn, """
        select m.instrument_id, m.timeframe, m.name, v.open_time, v.value1, v.value2, v.value3
        from ta.indicator_values as v join ta.maintained_indicators as m using (indicator_id)""")
    for name, outputs in INDICATOR_OUTPUTS.items():
        part = iv[iv["name"] == name]
        cols = {f"value{k + 1}": out for k, out in enumerate(outputs)}
        part = part[["instrument_id", "timeframe", "open_time", *cols]].rename(columns=cols)
        bars = bars.merge(part, on=["instrument_id", "timeframe", "open_time"], how="left")
    q = fetch(conn, """
        select i.instrument_id, q.record_time from market.quarantine as q join market.instruments as i
          on i.instrument_id = coalesce(substring(q.payload from '"instrument_id": ?([0-9]+)')::integer,
                                        case when q.symbol in (i.symbol, i.exchange_symbol) then i.instrument_id end)
        where q.record_time is not null""")

    out = []
    for (inst, tf), g in bars.groupby(["instrument_id", "timeframe"], sort=True):
        g = g.sort_values("open_time").reset_index(drop=True).copy()
        secs = BAR_SECONDS[tf]
        c = g["close"].astype(float)
        for k in (1, 5, 20):
            g[f"ret_{k}"] = c / c.shift(k) - 1
            g[f"log_ret_{k}"] = np.log(c / c.shift(k))
        g["volatility_20"] = window_stat(g["log_ret_1"], 20, np.std, ddof=1)
        g["volatility_60"] = window_stat(g["log_ret_1"], 60, np.std, ddof=1)
        g["volatility_20_annual"] = g["volatility_20"] * np.sqrt(365 * 86400 / secs)
        v = g["volume"].astype(float)
        z = (v - window_stat(v, 20, np.mean)) / window_stat(v, 20, np.std, ddof=1)
        g["volume_zscore_20"] = z.where(window_stat(v, 20, np.ptp) > 0)
        g["volume_price_ratio"] = v / c
        g["range_pct"] = (g["high"] - g["low"]) / g["open"]
        g["body_pct"] = (g["close"] - g["open"]) / g["open"]
        width = g["bb_upper"] - g["bb_lower"]
        g["bb_pctb_20"] = (c - g["bb_lower"]) / width.where(width != 0)
        g["bb_width_20"] = width / g["bb_middle"]
        g["obv_change"] = g["obv"] - g["obv"].shift(1)
        g["vwap_distance"] = c / g["vwap"] - 1
        step = g["open_time"].diff()
        g["gap_before"] = (step > pd.Timedelta(seconds=secs)).fillna(False).astype(bool)
        times = q.loc[q["instrument_id"] == inst, "record_time"]
        starts = g["open_time"]
        g["quarantined_rows"] = [int(((times >= s) & (times < s + pd.Timedelta(seconds=secs))).sum()) for s in starts] \
            if len(times) else 0
        g["bar_seconds"] = secs
        out.append(g)
    feats = pd.concat(out, ignore_index=True)

    # multi-timeframe: the latest closed bar of each longer timeframe = the bar of that timeframe
    # whose end is the latest bucket boundary at or before this bar's end, if stored
    for h in TIMEFRAMES[1:]:
        hs = BAR_SECONDS[h]
        hi = feats[feats["timeframe"] == h][["instrument_id", "open_time", "close", "ret_1", "rsi_14", "macd_hist",
                                             "volatility_20"]]
        hi = hi.rename(columns={c: f"mtf_{h}_{c}" for c in hi.columns if c not in ("instrument_id",)})
        hi = hi.rename(columns={f"mtf_{h}_open_time": f"mtf_{h}_open_time"})
        end = feats["open_time"] + pd.to_timedelta(feats["bar_seconds"], unit="s")
        key = ORIGIN + ((end - ORIGIN) // pd.Timedelta(seconds=hs)) * pd.Timedelta(seconds=hs) - pd.Timedelta(seconds=hs)
        feats["_key"] = key.where(feats["bar_seconds"] < hs)
        feats = feats.merge(hi, left_on=["instrument_id", "_key"], right_on=["instrument_id", f"mtf_{h}_open_time"],
                            how="left").drop(columns="_key")
    return feats
