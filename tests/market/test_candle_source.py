"""The rule between native candles and trade-derived ones (market.instruments.candle_source), and
the native chain 1m -> 1d rolled up from exchange 1m candles."""

from __future__ import annotations

import numpy as np
import pandas as pd
import psycopg

from loaders.core.ingest import CANDLES, TRADES, load_batch

from .helpers import ORIGIN_US, WIDTHS_US

T0 = int(pd.Timestamp("2024-05-06 10:00", tz="UTC").value // 1000)
MIN = 60_000_000


def _native(iid: int, minutes: range, rng) -> pd.DataFrame:
    rows = []
    for m in minutes:
        o = 100 + rng.normal()
        c = o + rng.normal()
        h = max(o, c) + abs(rng.normal())
        lo = min(o, c) - abs(rng.normal())
        v = float(rng.integers(1, 50))
        rows.append((iid, "1m", T0 + m * MIN, o, h, lo, c, v, v * (o + c) / 2, int(rng.integers(1, 9)), "test"))
    return pd.DataFrame(rows, columns=CANDLES.names)


def test_auto_native_and_trades_rules(db_url: str) -> None:
    rng = np.random.default_rng(1)
    with psycopg.connect(db_url, autocommit=True) as conn:
        iid = conn.execute("select market.register_instrument('binance', 'BTCUSDT')").fetchone()[0]
        native = _native(iid, range(0, 10), rng)
        trades = pd.DataFrame({"time": [T0 + 2 * MIN + 5, T0 + 2 * MIN + 9, T0 + 7 * MIN], "instrument_id": iid,
                               "trade_id": [1, 2, 3], "price": [101.0, 102.0, 99.0], "quantity": [1.0, 2.0, 3.0],
                               "side": np.array([b"b", b"s", b"b"])})
        with conn.transaction():
            load_batch(conn, CANDLES, native, source="test")
            load_batch(conn, TRADES, trades, source="test")
        conn.execute("call market.refresh_rollups()")

        def sources():
            return conn.execute("select (extract(epoch from open_time) * 1e6)::bigint, source, close"
                                " from market.candles_1m where instrument_id = %s order by 1", (iid,)).fetchall()

        auto = sources()
        assert len(auto) == 10
        by_minute = {(t - T0) // MIN: (s, c) for t, s, c in auto}
        assert by_minute[2] == ("trades", 102.0) and by_minute[7] == ("trades", 99.0)
        assert {m for m, (s, _) in by_minute.items() if s == "native"} == set(range(10)) - {2, 7}
        conn.execute("update market.instruments set candle_source = 'native' where instrument_id = %s", (iid,))
        assert {s for _, s, _ in sources()} == {"native"} and len(sources()) == 10
        conn.execute("update market.instruments set candle_source = 'trades' where instrument_id = %s", (iid,))
        assert [s for _, s, _ in sources()] == ["trades", "trades"]


def test_native_chain_rolls_up_exchange_1m_candles(db_url: str) -> None:
    rng = np.random.default_rng(2)
    with psycopg.connect(db_url, autocommit=True) as conn:
        iid = conn.execute("select market.register_instrument('mt5', 'EURUSD', p_candle_source => 'native')").fetchone()[0]
        native = _native(iid, range(0, 600), rng)
        native = native.drop(index=[5, 6, 300])  # gaps
        with conn.transaction():
            load_batch(conn, CANDLES, native.sample(frac=1.0, random_state=3), source="test")
        conn.execute("call market.refresh_rollups()")
        for tf in ("5m", "15m", "1h", "4h"):
            w = WIDTHS_US[tf]
            n = native.assign(b=ORIGIN_US + ((native["open_time"] - ORIGIN_US) // w) * w).sort_values("open_time")
            g = n.groupby("b")
            want = pd.DataFrame({"open": g["open"].first(), "high": g["high"].max(), "low": g["low"].min(),
                                 "close": g["close"].last(), "volume": g["volume"].sum(),
                                 "trade_count": g["trade_count"].sum()}).reset_index()
            got = pd.DataFrame(conn.execute(
                "select (extract(epoch from open_time) * 1e6)::bigint, open, high, low, close, volume, trade_count, source"
                " from market.candles_" + tf + " where instrument_id = %s order by open_time", (iid,)).fetchall(),
                columns=["b", "open", "high", "low", "close", "volume", "trade_count", "source"])
            assert len(got) == len(want), tf
            assert (got["b"].to_numpy() == want["b"].to_numpy()).all()
            for col in ("open", "high", "low", "close"):
                assert (got[col].to_numpy() == want[col].to_numpy()).all(), (tf, col)
            np.testing.assert_allclose(got["volume"], want["volume"], rtol=1e-12)
            assert (got["trade_count"].to_numpy() == want["trade_count"].to_numpy()).all()
            assert set(got["source"]) == {"native_1m"}  # rolled up from the exchange 1m candles
