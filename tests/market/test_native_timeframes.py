"""Native candles of every timeframe in the candle views (issue 9, item 3), the 30m / 2h / 1w
views, and the follows_gap flag of the bi candle views (item 13).

Precedence per bucket (docs/market-data.md): trade-built candle > exchange candle of exactly that
timeframe > rollup of exchange 1m candles; candle_source = trades / native restricts the choice.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import psycopg
import pytest

from loaders.core.ingest import CANDLES, TRADES, load_batch

from .helpers import ORIGIN_US, WIDTHS_US, assert_candles_equal, fetch_candles, oracle_candles

US = 1_000_000
MIN = 60 * US
HOUR = 3600 * US
T0 = int(pd.Timestamp("2024-05-06 00:00", tz="UTC").value // 1000)  # a Monday


def _candles(iid: int, tf: str, rows: list[tuple[int, float]]) -> pd.DataFrame:
    """Candles (open_time µs, close) with open = close - 0.5, high/low = close ± 1."""
    return pd.DataFrame(
        [(iid, tf, t, c - 0.5, c + 1.0, c - 1.0, c, 2.0, 2.0 * c, 7, "test") for t, c in rows],
        columns=CANDLES.names)


def _load(conn: psycopg.Connection, *frames: pd.DataFrame, trades: pd.DataFrame | None = None) -> None:
    with conn.transaction():
        for f in frames:
            load_batch(conn, CANDLES, f, source="test")
        if trades is not None:
            load_batch(conn, TRADES, trades, source="test")
    conn.execute("call market.refresh_rollups()")


def _view(conn: psycopg.Connection, tf: str, iid: int) -> list[tuple]:
    return [tuple(r) for r in conn.execute(
        f"select ((extract(epoch from open_time) * 1e6)::bigint - {T0}) / {HOUR}, source, close"
        f" from market.candles_{tf} where instrument_id = %s order by open_time", (iid,)).fetchall()]


def test_native_candles_of_each_timeframe_reach_the_views_with_one_precedence_rule(db_url: str) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        a = conn.execute("select market.register_instrument('binance', 'ETHUSDT')").fetchone()[0]
        b = conn.execute("select market.register_instrument('binance', 'SOLUSDT')").fetchone()[0]
        # a: hour 0 has trades, native 1h and native 1m; hour 1 native 1h and 1m; hour 2 native 1m
        # only; hour 3 native 1h only.
        native_1h = _candles(a, "1h", [(T0, 500.0), (T0 + HOUR, 501.0), (T0 + 3 * HOUR, 503.0)])
        native_1m = _candles(a, "1m", [(T0 + h * HOUR + m * MIN, 100.0 + 10 * h + m) for h in range(3) for m in range(3)])
        trades = pd.DataFrame({"time": [T0 + 5, T0 + 10 * MIN], "instrument_id": a, "trade_id": [1, 2],
                               "price": [200.0, 201.0], "quantity": [1.0, 1.0], "side": np.array([b"b", b"s"])})
        # b: no trades, no 1m: native 4h and 1d candles only
        native_4h = _candles(b, "4h", [(T0 + i * 4 * HOUR, 40.0 + i) for i in range(6)])
        native_1d = _candles(b, "1d", [(T0 + i * 24 * HOUR, 10.0 + i) for i in range(3)])
        _load(conn, native_1h, native_1m, native_4h, native_1d, trades=trades)

        assert _view(conn, "1h", a) == [(0, "trades", 201.0), (1, "native", 501.0), (2, "native_1m", 122.0),
                                        (3, "native", 503.0)]
        assert _view(conn, "4h", b) == [(4 * i, "native", 40.0 + i) for i in range(6)]
        assert _view(conn, "1d", b) == [(24 * i, "native", 10.0 + i) for i in range(3)]
        assert conn.execute("select count(*) from bi.candles_4h where instrument_id = %s", (b,)).fetchone()[0] == 6
        conn.execute("select ta.maintain(%s, '4h', 'sma', '{\"timeperiod\": 2}')", (b,))
        assert conn.execute("select sum(new_bars) from ta.refresh_indicators()").fetchone()[0] == 6

        conn.execute("update market.instruments set candle_source = 'native' where instrument_id = %s", (a,))
        assert _view(conn, "1h", a) == [(0, "native", 500.0), (1, "native", 501.0), (2, "native_1m", 122.0),
                                        (3, "native", 503.0)]
        conn.execute("update market.instruments set candle_source = 'trades' where instrument_id = %s", (a,))
        assert _view(conn, "1h", a) == [(0, "trades", 201.0)]


def test_30m_2h_1w_are_rolled_up_from_trades_stored_natively_and_maintainable(db_url: str) -> None:
    rng = np.random.default_rng(5)
    with psycopg.connect(db_url, autocommit=True) as conn:
        t = conn.execute("select market.register_instrument('binance', 'ADAUSDT')").fetchone()[0]
        n = conn.execute("select market.register_instrument('mt5', 'GBPUSD', p_candle_source => 'native')").fetchone()[0]
        # trades every 7 minutes from Wednesday 2024-05-01 for 20 days: three Monday-aligned weeks
        start = int(pd.Timestamp("2024-05-01 00:00", tz="UTC").value // 1000)
        times = start + np.arange(0, 20 * 24 * 60, 7) * MIN + rng.integers(0, MIN, size=len(range(0, 20 * 24 * 60, 7)))
        trades = pd.DataFrame({"time": times, "instrument_id": t, "trade_id": np.arange(len(times)),
                               "price": 100 + np.cumsum(rng.normal(size=len(times))), "quantity": rng.uniform(0.1, 2, len(times)),
                               "side": np.array([b"b"] * len(times))})
        native = [_candles(n, "30m", [(T0 + i * 30 * MIN, 1.1 + i / 100) for i in range(4)]),
                  _candles(n, "2h", [(T0 + i * 2 * HOUR, 2.2 + i / 100) for i in range(3)]),
                  _candles(n, "1w", [(T0 + i * 7 * 24 * HOUR, 3.3 + i / 100) for i in range(2)]),
                  # native 1m in a half hour without a native 30m candle: rolled up
                  _candles(n, "1m", [(T0 + 5 * 30 * MIN + m * MIN, 1.5 + m / 100) for m in range(3)])]
        _load(conn, *native, trades=trades)

        for tf in ("30m", "2h", "1w"):
            want = oracle_candles(trades, tf)
            assert_candles_equal(fetch_candles(conn, f"market.candles_{tf} where instrument_id = {t}"), want, tf)
        weeks = conn.execute("select distinct extract(isodow from open_time) from market.candles_1w").fetchall()
        assert weeks == [(1,)]  # Monday 00:00 UTC, as Binance's 1w klines
        assert [r[1:] for r in _view(conn, "30m", n)] == [("native", 1.1 + i / 100) for i in range(4)] + [("native_1m", 1.52)]
        assert [r[1:] for r in _view(conn, "2h", n)] == [("native", 2.2 + i / 100) for i in range(3)]
        assert [r[1:] for r in _view(conn, "1w", n)] == [("native", 3.3 + i / 100) for i in range(2)]
        assert conn.execute("select count(*) from bi.candles_2h where instrument_id = %s", (n,)).fetchone()[0] == 3
        for tf in ("30m", "2h", "1w"):
            conn.execute("select ta.maintain(%s, %s, 'sma', '{\"timeperiod\": 2}')", (t, tf))
        got = dict(conn.execute("select m.timeframe, r.new_bars from ta.refresh_indicators() as r"
                                " join ta.maintained_indicators as m using (indicator_id)").fetchall())
        assert got == {tf: len(oracle_candles(trades, tf)) for tf in ("30m", "2h", "1w")}


def test_follows_gap_counts_only_the_kinds_the_candle_source_allows(db_url: str) -> None:
    # trades in hours 0, 1, 3; exchange 1h candles in hours 0, 2, 5; exchange 1m candles in hour 4
    with psycopg.connect(db_url, autocommit=True) as conn:
        iid = conn.execute("select market.register_instrument('binance', 'ADAUSDT')").fetchone()[0]
        trades = pd.DataFrame({"time": [T0 + 5, T0 + HOUR + 5, T0 + 3 * HOUR + 5], "instrument_id": iid,
                               "trade_id": [1, 2, 3], "price": [1.0, 1.1, 1.2], "quantity": 1.0,
                               "side": np.array([b"b", b"s", b"b"])})
        _load(conn, _candles(iid, "1h", [(T0, 5.0), (T0 + 2 * HOUR, 5.2), (T0 + 5 * HOUR, 5.5)]),
              _candles(iid, "1m", [(T0 + 4 * HOUR + m * MIN, 4.0) for m in range(3)]), trades=trades)
        want = {"auto": [(0, False), (1, False), (2, False), (3, False), (4, False), (5, False)],
                # the trade of hour 3 is not a bar for 'native'; the 1m rollup of hour 4 is
                "native": [(0, False), (2, True), (4, True), (5, False)],
                "trades": [(0, False), (1, False), (3, True)]}

        def flags() -> list[tuple]:
            return [tuple(r) for r in conn.execute(
                f"select ((extract(epoch from open_time) * 1e6)::bigint - {T0}) / {HOUR}, follows_gap"
                " from bi.candles_1h where instrument_id = %s order by open_time", (iid,)).fetchall()]

        conn.execute("select ta.maintain(%s, '1h', 'sma', '{\"timeperiod\": 2}')", (iid,))
        for source in ("native", "trades", "auto"):
            conn.execute("update market.instruments set candle_source = %s where instrument_id = %s", (source, iid))
            # live right after the change (the projection of the other source is dropped) …
            assert conn.execute("select count(*) from ta.bar_values where instrument_id = %s", (iid,)).fetchone()[0] == 0
            assert flags() == want[source], source
            # … and from ta.bar_values once the refresh consumed the bars
            conn.execute("select ta.rebuild_indicators(indicator_id) from ta.maintained_indicators"
                         " where instrument_id = %s", (iid,))
            assert conn.execute("select count(*) from ta.bar_values where instrument_id = %s", (iid,)).fetchone()[0] \
                == len(want[source])
            assert flags() == want[source], source


@pytest.mark.parametrize("tf", ["1h", "1m"])
def test_follows_gap_flags_a_bar_after_a_missing_bar(db_url: str, tf: str) -> None:
    w = WIDTHS_US[tf]
    present = [0, 1, 2, 5, 6, 8, 9]
    with psycopg.connect(db_url, autocommit=True) as conn:
        iid = conn.execute("select market.register_instrument('kraken', 'XBTUSD')").fetchone()[0]
        base = ORIGIN_US + ((T0 - ORIGIN_US) // w) * w
        _load(conn, _candles(iid, tf, [(base + i * w, 50.0 + i) for i in present]))
        rows = conn.execute(f"select ((extract(epoch from open_time) * 1e6)::bigint - %s) / %s, follows_gap"
                            f" from bi.candles_{tf} where instrument_id = %s order by open_time", (base, w, iid)).fetchall()
        assert rows == [(0, False), (1, False), (2, False), (5, True), (6, False), (8, True), (9, False)]
        # a range that starts at a bar after a gap still looks at the bar before the range
        latest = conn.execute(f"select follows_gap from bi.candles_{tf} where instrument_id = %s"
                              f" and open_time >= to_timestamp(%s / 1e6) order by open_time desc limit 3",
                              (iid, base + 5 * w)).fetchall()
        assert latest == [(False,), (True,), (False,)]
        comment = conn.execute(f"select col_description('bi.candles_{tf}'::regclass, a.attnum) from pg_attribute as a"
                               f" where a.attrelid = 'bi.candles_{tf}'::regclass and a.attname = 'follows_gap'").fetchone()
        assert comment and comment[0]
