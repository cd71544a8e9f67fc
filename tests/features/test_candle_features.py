"""features.candle_features built by dbt on a real database: every column against the pandas
oracle (1e-9 relative), incremental runs after random appended chunks == a full refresh (every
column), no look-ahead (changing and appending bars after t changes nothing at or before t),
the labels mart kept apart, and the roles (tsq_dbt creates only in its schemas; tsq_analyst and
tsq_trader read the marts).

One database for the package, built once (fixture `built`, tests/features/conftest.py)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import psycopg
import pytest

from tests.features import helpers as h

KEY = h.KEY
QUERY = h.FEATURES_QUERY


def assert_frames_equal(got: pd.DataFrame, want: pd.DataFrame, label: str, *, exact: bool = False) -> None:
    """Same rows (by key) and every column equal: exactly, or to 1e-9 relative for floats."""
    got = got.sort_values(KEY).reset_index(drop=True)
    want = want.sort_values(KEY).reset_index(drop=True)
    assert len(got) == len(want), f"{label}: {len(got)} rows, expected {len(want)}"
    checked = 0
    for col in got.columns:
        assert col in want.columns, f"{label}: column {col} has no expected value"
        g, w = got[col], want[col]
        if pd.api.types.is_float_dtype(g) or pd.api.types.is_float_dtype(w):
            ga, wa = g.astype(float).to_numpy(), w.astype(float).to_numpy()
            same_nan = np.isnan(ga) & np.isnan(wa)
            close = (ga == wa) if exact else np.isclose(ga, wa, rtol=1e-9, atol=0)
            bad = ~(close | same_nan)
        else:
            bad = ~((g == w) | (g.isna() & w.isna())).to_numpy()
        assert not bad.any(), (
            f"{label}: {col} differs in {int(bad.sum())} rows, e.g. "
            f"{got.loc[bad, KEY + [col]].head(3).to_dict('records')} vs {w[bad].head(3).tolist()}"
        )
        checked += 1
    assert checked == len(got.columns)


def test_every_column_matches_the_pandas_oracle(built):
    url, _, _ = built
    with psycopg.connect(url) as conn:
        got = h.fetch(conn, QUERY)
        want = h.oracle_features(conn)
        names = h.fetch(conn, "select instrument_id, exchange, symbol from market.instruments")
    want = want.merge(names, on="instrument_id")
    assert set(got["timeframe"]) == set(h.TIMEFRAMES)
    assert_frames_equal(got, want, "candle_features vs pandas")
    # the data were rich enough to exercise every rule
    assert got["gap_before"].any() and got["quarantined_rows"].max() == 2
    flat = got[(got["symbol"] == "BBB/USDT") & (got["timeframe"] == "1m") & got["volatility_20"].notna()]
    assert flat["volume_zscore_20"].isna().sum() > 100  # 20 identical volumes: NULL, not 0/0 noise
    for col in got.columns:  # (2 days of data: 4h/1d windows stay NULL)
        if not col.startswith(("mtf_4h_", "mtf_1d_")) or col.endswith(("_open_time", "_close")):
            assert got[col].notna().any(), f"{col} is never filled"


def test_incremental_runs_equal_a_full_refresh(built):
    url, _, history = built
    with psycopg.connect(url) as conn:
        full = h.fetch(conn, QUERY)
    assert_frames_equal(history["incremental"], full, "incremental vs full refresh", exact=True)


def test_no_feature_at_or_before_t_changes(built):
    _, _, history = built
    t, before, after = history["lookahead"]

    def closed_by_t(df):
        end = df["open_time"] + pd.to_timedelta(df["bar_seconds"], unit="s")
        return df[end <= t]

    old, new = closed_by_t(before), closed_by_t(after)
    assert len(old) > 1000
    assert_frames_equal(new, old, "rows closed by t after changing and appending bars after t", exact=True)
    # and the change did reach the bars after t
    changed = before.merge(after, on=KEY, suffixes=("_b", "_a"))
    changed = changed[changed["open_time"] >= t]
    assert (changed["close_b"] != changed["close_a"]).any()


def test_multi_timeframe_columns_come_from_closed_higher_bars(built):
    url, _, _ = built
    with psycopg.connect(url) as conn:
        bad = conn.execute(
            """
            select count(*) filter (where f.mtf_1h_open_time + interval '1 hour' > f.open_time + f.bar_seconds * interval '1 second'),
                   count(*) filter (where f.mtf_1h_open_time is not null),
                   count(*) filter (where f.timeframe in ('1h', '4h', '1d') and f.mtf_1h_open_time is not null),
                   count(*) filter (where f.mtf_1h_close is distinct from h.close and f.mtf_1h_open_time is not null)
            from features.candle_features as f
            left join features.candle_features as h
              on h.instrument_id = f.instrument_id and h.timeframe = '1h' and h.open_time = f.mtf_1h_open_time
            """
        ).fetchone()
    assert bad[0] == 0, "a 1h feature reached a bar before that hour closed"
    assert bad[1] > 1000 and bad[2] == 0 and bad[3] == 0
    with psycopg.connect(url) as conn:
        # a 1m bar at 10:59 closes at 11:00 with the 10:00 hour: it carries that hour; 10:58 the 9:00 one
        rows = dict(conn.execute(
            "select open_time::time::text, mtf_1h_open_time::time::text from features.candle_features"
            " where timeframe = '1m' and instrument_id = (select min(instrument_id) from market.instruments)"
            " and open_time in ('2024-03-05 10:58+00', '2024-03-05 10:59+00')"
        ).fetchall())
    assert rows == {"10:58:00": "09:00:00", "10:59:00": "10:00:00"}


def test_labels_look_ahead_in_their_own_mart(built):
    url, run_dir, _ = built
    manifest = json.loads((run_dir / "target" / "manifest.json").read_text())
    nodes = manifest["nodes"]

    def upstream(node_id, seen=None):
        seen = set() if seen is None else seen
        for parent in nodes.get(node_id, {}).get("depends_on", {}).get("nodes", []):
            if parent not in seen:
                seen.add(parent)
                upstream(parent, seen)
        return seen

    for model in ("candle_features", "int_bar_features"):
        assert "model.tsquant.candle_labels" not in upstream(f"model.tsquant.{model}")
    with psycopg.connect(url) as conn:
        labels = h.fetch(conn, "select * from features.candle_labels where timeframe = '5m' and horizon_bars = 5")
        c = h.fetch(conn, "select instrument_id, open_time, close from market.candles_5m order by 1, 2")
    assert labels["looks_ahead"].all()
    c["want"] = c.groupby("instrument_id")["close"].shift(-5) / c["close"] - 1
    m = labels.merge(c.dropna(), on=["instrument_id", "open_time"], how="outer", indicator=True)
    assert (m["_merge"] == "both").all()
    np.testing.assert_allclose(m["forward_return"], m["want"], rtol=1e-12)
    assert (m["forward_direction"] == np.sign(m["want"]).astype(int)).all()


def test_roles_dbt_creates_only_in_its_schemas_and_readers_read_the_marts(built):
    url, _, _ = built
    with psycopg.connect(url, autocommit=True) as conn:
        owner = conn.execute(
            "select tableowner from pg_tables where schemaname = 'features' and tablename = 'candle_features'"
        ).fetchone()
        assert owner == ("tsq_dbt",)
        for role in ("tsq_analyst", "tsq_trader"):
            conn.execute(f"set role {role}")
            assert conn.execute("select count(*) > 0 from features.candle_features").fetchone()[0]
            assert conn.execute("select count(*) > 0 from features.candle_labels").fetchone()[0]
            assert conn.execute("select count(*) > 0 from bi.trading_signals").fetchone()[0]
            assert conn.execute("select count(*) > 0 from signals.strategy_signals").fetchone()[0]
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute("delete from features.candle_features")
            conn.execute("reset role")
        conn.execute("set role tsq_dbt")
        for statement in (
            "create table market.dbt_was_here (x int)",
            "create table ta.dbt_was_here (x int)",
            "create table ops.dbt_was_here (x int)",
            "create schema dbt_was_here",
            "update market.instruments set symbol = symbol",
            "delete from ta.indicator_values",
            "drop table signals.raw_signals",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
        conn.execute("create table features.dbt_may (x int)")
        conn.execute("drop table features.dbt_may")
        conn.execute("reset role")


def test_signals_fire_where_the_features_cross_the_thresholds(built):
    """rsi_reversion_15m and macd_cross_1h (seed strategies) recomputed with pandas from the
    features: the same bars, directions and strengths."""
    url, _, _ = built
    with psycopg.connect(url) as conn:
        feats = h.fetch(conn, "select instrument_id, timeframe, open_time, rsi_14, macd_hist, atr_14 from"
                              " features.candle_features where timeframe in ('15m', '1h') order by 1, 2, 3")
        got = h.fetch(conn, "select signal_source, instrument_id, bar_time as open_time, direction, strength"
                            " from bi.trading_signals where signal_source in ('rsi_reversion_15m', 'macd_cross_1h')")
    want = []
    for (inst, tf), g in feats.groupby(["instrument_id", "timeframe"]):
        g = g.astype({"rsi_14": float, "macd_hist": float, "atr_14": float})
        if tf == "15m":
            prev = g["rsi_14"].shift(1)
            buy, sell = (prev >= 30) & (g["rsi_14"] < 30), (prev <= 70) & (g["rsi_14"] > 70)
            strength = np.where(buy, (30 - g["rsi_14"]) / 30, (g["rsi_14"] - 70) / 30)
            name = "rsi_reversion_15m"
        else:
            prev = g["macd_hist"].shift(1)
            buy, sell = (prev <= 0) & (g["macd_hist"] > 0), (prev >= 0) & (g["macd_hist"] < 0)
            strength = np.minimum(1, np.abs(g["macd_hist"]) / g["atr_14"])
            name = "macd_cross_1h"
        fired = g.assign(direction=np.where(buy, "BUY", "SELL"), strength=np.clip(strength, 0, 1))[buy | sell]
        want.append(fired.assign(signal_source=name)[["signal_source", "instrument_id", "open_time", "direction",
                                                       "strength"]])
    want = pd.concat(want)
    assert len(want) > 10
    key = ["signal_source", "instrument_id", "open_time"]
    m = got.merge(want, on=key, how="outer", suffixes=("", "_want"), indicator=True)
    assert (m["_merge"] == "both").all(), m[m["_merge"] != "both"].head()
    assert (m["direction"] == m["direction_want"]).all()
    np.testing.assert_allclose(m["strength"].astype(float), m["strength_want"].astype(float), rtol=1e-12)
