"""Maintained indicator values (ta.maintained_indicators / ta.indicator_values / ta.refresh_indicators).

Candles are fed as native 1m rows of market.candles and rolled up with market.refresh_rollups()
(outside a transaction, as TimescaleDB requires), so both database modes run the same path. The
maintained values must equal, bit for bit, one call of the public ta.* function over every closed
bar, whatever the chunks the bars arrived in; TA-Lib is the independent oracle (relative 1e-9).
"""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta, timezone

import numpy as np
import psycopg
import pytest
import talib

STANDARD = [
    ("sma", {}), ("ema", {"timeperiod": 10}), ("rsi", {}), ("macd", {}), ("bbands", {}), ("atr", {}),
    ("natr", {}), ("stoch", {}), ("adx", {}), ("plus_di", {}), ("minus_di", {}), ("obv", {}), ("vwap", {}),
]

# the public function over arrays h, l, c, v (one query per configuration)
PUBLIC = {
    "sma": "select ta.sma(c, timeperiod => {timeperiod}), null::float8[], null::float8[]",
    "ema": "select ta.ema(c, timeperiod => {timeperiod}), null::float8[], null::float8[]",
    "rsi": "select ta.rsi(c, timeperiod => {timeperiod}), null::float8[], null::float8[]",
    "macd": "select (m).macd, (m).macdsignal, (m).macdhist from (select ta.macd(c, {fastperiod}, {slowperiod}, {signalperiod}) as m) as q",
    "bbands": "select (b).upperband, (b).middleband, (b).lowerband from (select ta.bbands(c, {timeperiod}, {nbdevup}, {nbdevdn}) as b) as q",
    "atr": "select ta.atr(h, l, c, {timeperiod}), null::float8[], null::float8[]",
    "natr": "select ta.natr(h, l, c, {timeperiod}), null::float8[], null::float8[]",
    "stoch": "select (s).slowk, (s).slowd, null::float8[] from (select ta.stoch(h, l, c, {fastk_period}, {slowk_period}, {slowd_period}) as s) as q",
    "adx": "select ta.adx(h, l, c, {timeperiod}), null::float8[], null::float8[]",
    "plus_di": "select ta.plus_di(h, l, c, {timeperiod}), null::float8[], null::float8[]",
    "minus_di": "select ta.minus_di(h, l, c, {timeperiod}), null::float8[], null::float8[]",
    "obv": "select ta.obv(c, v), null::float8[], null::float8[]",
    "vwap": "select ta.vwap(h, l, c, v), null::float8[], null::float8[]",
}


def talib_outputs(ind: str, p: dict, h, l, c, v) -> list:
    f = {
        "sma": lambda: [talib.SMA(c, p["timeperiod"])],
        "ema": lambda: [talib.EMA(c, p["timeperiod"])],
        "rsi": lambda: [talib.RSI(c, p["timeperiod"])],
        "macd": lambda: list(talib.MACD(c, p["fastperiod"], p["slowperiod"], p["signalperiod"])),
        "bbands": lambda: list(talib.BBANDS(c, p["timeperiod"], p["nbdevup"], p["nbdevdn"], 0)),
        "atr": lambda: [talib.ATR(h, l, c, p["timeperiod"])],
        "natr": lambda: [talib.NATR(h, l, c, p["timeperiod"])],
        "stoch": lambda: list(talib.STOCH(h, l, c, p["fastk_period"], p["slowk_period"], 0, p["slowd_period"], 0)),
        "adx": lambda: [talib.ADX(h, l, c, p["timeperiod"])],
        "plus_di": lambda: [talib.PLUS_DI(h, l, c, p["timeperiod"])],
        "minus_di": lambda: [talib.MINUS_DI(h, l, c, p["timeperiod"])],
        "obv": lambda: [talib.OBV(c, v)],
        "vwap": lambda: [talib.VWAP(h, l, c, v)],
    }[ind]
    return f()


def make_bars(n: int, seed: int) -> list[tuple]:
    rng = random.Random(seed)
    price = 100.0
    bars = []
    for _ in range(n):
        o = price
        price = max(1.0, price * math.exp(rng.gauss(0, 0.004)))
        c = price
        h = max(o, c) * (1 + abs(rng.gauss(0, 0.002)))
        lo = min(o, c) * (1 - abs(rng.gauss(0, 0.002)))
        v = rng.choice([0.0, rng.lognormvariate(1, 1)]) if rng.random() < 0.05 else rng.lognormvariate(1, 1)
        bars.append((o, h, lo, c, v))
    return bars


class Feed:
    """A test instrument fed with native 1m candles, rolled up and refreshed like a load does."""

    def __init__(self, url: str, n_history: int = 0):
        self.conn = psycopg.connect(url, autocommit=True)
        self.iid = self.conn.execute(
            "select market.register_instrument('testex', 'AAAUSDT', p_candle_source => 'native')"
        ).fetchone()[0]
        # the last bar of the series closes one minute before now(): every bar is closed
        self.end = datetime.now(timezone.utc).replace(second=0, microsecond=0) - timedelta(minutes=1)

    def time_of(self, i: int, n: int) -> datetime:
        return self.end - timedelta(minutes=n - 1 - i)

    def insert(self, rows: list[tuple[datetime, tuple]]) -> None:
        with self.conn.cursor() as cur:
            cur.executemany(
                "insert into market.candles (instrument_id, timeframe, open_time, open, high, low, close, volume, source)"
                " values (%s, '1m', %s, %s, %s, %s, %s, %s, 'test')"
                " on conflict (instrument_id, timeframe, open_time) do update set open = excluded.open,"
                " high = excluded.high, low = excluded.low, close = excluded.close, volume = excluded.volume",
                [(self.iid, t, *b) for t, b in rows],
            )

    def refresh(self) -> list[tuple]:
        self.conn.execute("call market.refresh_rollups()")
        return self.conn.execute("select * from ta.refresh_indicators()").fetchall()

    def maintain(self, configs=STANDARD, timeframe="1m") -> dict[int, tuple[str, dict]]:
        out = {}
        for ind, params in configs:
            iid = self.conn.execute(
                "select ta.maintain(%s, %s, %s, %s::jsonb)", (self.iid, timeframe, ind, psycopg.types.json.Jsonb(params))
            ).fetchone()[0]
            full = self.conn.execute("select params from ta.maintained_indicators where indicator_id = %s", (iid,)).fetchone()[0]
            out[iid] = (ind, full)
        return out

    def full(self, ind: str, params: dict, timeframe: str = "1m"):
        """The public ta.* function over every closed bar, and TA-Lib over the same bars."""
        rows = self.conn.execute(
            f"select open_time, high, low, close, volume from market.candles_{timeframe}"
            f" where instrument_id = %s and open_time <= now() - interval '1 minute' order by open_time",
            (self.iid,),
        ).fetchall()
        times = [r[0] for r in rows]
        q = PUBLIC[ind].format(**params)
        arrays = self.conn.execute(
            f"with s as (select %s::float8[] as h, %s::float8[] as l, %s::float8[] as c, %s::float8[] as v) {q.replace('from (', 'from s, lateral (') if 'from (' in q else q + ' from s'}",
            ([r[1] for r in rows], [r[2] for r in rows], [r[3] for r in rows], [r[4] for r in rows]),
        ).fetchone()
        h, l, c, v = (np.array([r[k] for r in rows], dtype=float) for k in (1, 2, 3, 4))
        return times, arrays, talib_outputs(ind, params, h, l, c, v)

    def stored(self, indicator_id: int) -> dict:
        return {
            r[0]: r[1:]
            for r in self.conn.execute(
                "select open_time, value1, value2, value3 from ta.indicator_values where indicator_id = %s", (indicator_id,)
            )
        }

    def assert_equal_full(self, configs: dict, oracle: bool = False) -> None:
        for iid, (ind, params) in configs.items():
            times, arrays, tl = self.full(ind, params)
            stored = self.stored(iid)
            expected = {}
            for i, t in enumerate(times):
                vals = tuple(a[i] if a is not None else None for a in arrays)
                if any(x is not None for x in vals):
                    expected[t] = vals
            assert set(stored) == set(expected), f"{ind}: stored bars differ from the full computation"
            for t, vals in expected.items():
                assert stored[t] == vals, f"{ind} at {t}: {stored[t]} != {vals} (bit for bit)"
            if oracle:
                for k, series in enumerate(tl):
                    for i, t in enumerate(times):
                        if math.isnan(series[i]):
                            assert t not in expected or expected[t][k] is None
                        else:
                            ours = expected[t][k]
                            assert ours == pytest.approx(series[i], rel=1e-9, abs=1e-9 * max(1.0, abs(series[i]))), (ind, t)


@pytest.fixture
def feed(db_url):
    f = Feed(db_url)
    yield f
    f.conn.close()


def test_chunked_appends_equal_one_full_computation(feed):
    n = 420
    bars = make_bars(n, seed=11)
    configs = feed.maintain()
    rng = random.Random(5)
    i = 0
    sizes = []
    while i < n:
        size = rng.choice([1, 1, 1, 2, 3, 7, 19, 40, 64])
        rows = [(feed.time_of(j, n), bars[j]) for j in range(i, min(n, i + size))]
        feed.insert(rows)
        feed.refresh()
        sizes.append(len(rows))
        i += size
    assert sizes.count(1) >= 3 and len(sizes) >= 15
    feed.assert_equal_full(configs, oracle=True)
    # a refresh without new bars consumes nothing
    assert all(r[2] == 0 and r[3] is None for r in feed.refresh())


def test_forming_bar_is_not_consumed(feed):
    n = 60
    bars = make_bars(n + 1, seed=3)
    configs = feed.maintain([("sma", {"timeperiod": 5})])
    feed.insert([(feed.time_of(j, n), bars[j]) for j in range(n)])
    forming = feed.end + timedelta(minutes=1)
    feed.insert([(forming, bars[n])])
    feed.refresh()
    (iid,) = configs
    last = feed.conn.execute("select last_open_time from ta.indicator_state where indicator_id = %s", (iid,)).fetchone()[0]
    assert last == feed.end
    assert forming not in feed.stored(iid)
    feed.assert_equal_full(configs)


def test_late_and_corrected_bars_inside_the_window(feed):
    n = 300
    bars = make_bars(n, seed=21)
    configs = feed.maintain()
    gap = n - 30
    feed.insert([(feed.time_of(j, n), bars[j]) for j in range(n) if j != gap])
    feed.refresh()
    # a corrected bar (late trades re-aggregated) and a late bar, both inside the window
    o, h, lo, c, v = bars[n - 50]
    feed.insert([(feed.time_of(n - 50, n), (o, h * 1.01, lo, c * 1.005, v + 3.0))])
    feed.insert([(feed.time_of(gap, n), bars[gap])])
    result = feed.refresh()
    assert all(r[3] is not None and not r[4] for r in result)  # rewound, not rebuilt
    feed.assert_equal_full(configs)
    # a deleted bar is a correction too
    feed.conn.execute(
        "delete from market.candles where instrument_id = %s and open_time = %s", (feed.iid, feed.time_of(n - 5, n))
    )
    feed.refresh()
    feed.assert_equal_full(configs)


def test_correction_outside_the_window_needs_rebuild(feed):
    n = 200
    bars = make_bars(n, seed=8)
    configs = feed.maintain([("ema", {"timeperiod": 10}), ("rsi", {})])
    feed.conn.execute("select ops.set_setting('ta.correction_window_bars', '10')")
    feed.insert([(feed.time_of(j, n), bars[j]) for j in range(n)])
    feed.refresh()
    o, h, lo, c, v = bars[n - 60]
    feed.insert([(feed.time_of(n - 60, n), (o, h * 1.02, lo, c * 1.01, v))])
    feed.refresh()
    with pytest.raises(AssertionError):
        feed.assert_equal_full(configs)  # older than the window: not seen by a refresh
    for iid in configs:
        feed.conn.execute("select * from ta.rebuild_indicators(%s, %s)", (iid, feed.time_of(n - 60, n)))
    feed.assert_equal_full(configs)
    for iid in configs:
        feed.conn.execute("select * from ta.rebuild_indicators(%s)", (iid,))
    feed.assert_equal_full(configs)


def test_refresh_reads_only_the_window_and_new_bars(feed):
    n = 600
    bars = make_bars(n + 1, seed=2)
    configs = feed.maintain([("rsi", {})])
    feed.conn.execute("select ops.set_setting('ta.correction_window_bars', '20')")
    feed.insert([(feed.time_of(j, n), bars[j]) for j in range(n)])
    feed.refresh()
    (iid,) = configs
    with feed.conn.transaction():
        feed.conn.execute("set local enable_seqscan = off")
        before = feed.conn.execute(
            "select coalesce(sum(coalesce(idx_tup_fetch, 0) + coalesce(seq_tup_read, 0)), 0) from pg_stat_xact_all_tables"
            " where schemaname in ('market', '_timescaledb_internal', 'ta')"
        ).fetchone()[0]
        feed.conn.execute("select * from ta.refresh_indicators()")
        after = feed.conn.execute(
            "select coalesce(sum(coalesce(idx_tup_fetch, 0) + coalesce(seq_tup_read, 0)), 0) from pg_stat_xact_all_tables"
            " where schemaname in ('market', '_timescaledb_internal', 'ta')"
        ).fetchone()[0]
    # window + 1 checkpoints and as many candles, a few state/config rows; never the 600-bar history
    assert after - before < 4 * 21 + 20, after - before
    plan = "\n".join(
        r[0] for r in feed.conn.execute(
            "explain select open_time, close from market.candles_1m where instrument_id = %s and open_time > %s"
            " and open_time <= now() - interval '1 minute'", (feed.iid, feed.end - timedelta(minutes=1)),
        )
    )
    assert "Index" in plan, plan


def test_bi_views_series_and_crosscheck(feed):
    n = 120
    bars = make_bars(n, seed=4)
    configs = feed.maintain([("rsi", {}), ("macd", {}), ("bbands", {}), ("ema", {"timeperiod": 20})])
    feed.insert([(feed.time_of(j, n), bars[j]) for j in range(n)])
    feed.refresh()
    ids = {ind: iid for iid, (ind, _) in configs.items()}
    t = feed.time_of(n - 1, n)
    stored_rsi = feed.stored(ids["rsi"])[t][0]
    stored_macd = feed.stored(ids["macd"])[t]
    row = feed.conn.execute(
        "select indicators, rsi_14, exchange, symbol, close from bi.candles_1m where instrument_id = %s and open_time = %s",
        (feed.iid, t),
    ).fetchone()
    assert row[0]["rsi_14"] == stored_rsi and row[1] == stored_rsi
    assert row[0]["macd_12_26_9"] == {"macd": stored_macd[0], "macdsignal": stored_macd[1], "macdhist": stored_macd[2]}
    assert (row[2], row[3]) == ("testex", "AAA/USDT")
    long = dict(
        feed.conn.execute(
            "select output, value from bi.indicator_values where symbol = 'AAA/USDT' and timeframe = '1m'"
            " and indicator = 'macd_12_26_9' and open_time = %s", (t,)
        ).fetchall()
    )
    assert long == {"macd": stored_macd[0], "macdsignal": stored_macd[1], "macdhist": stored_macd[2]}
    series = feed.conn.execute(
        "select open_time, value1 from ta.indicator_series(%s, '1m', 'rsi', '{}', %s)", (feed.iid, feed.time_of(n - 10, n))
    ).fetchall()
    assert len(series) == 10 and series[-1] == (t, stored_rsi)
    # taapi cross-check: rows as loaders/jobs/taapi.py stores them
    feed.conn.execute(
        "insert into signals.raw_signals (exchange, symbol, timeframe, indicator, indicator_key, params, value,"
        " outputs, source_time, raw_json, simulated) values"
        " ('testex', 'AAA/USDT', '1m', 'rsi', 'rsi_14', '{\"period\": 14, \"backtrack\": 0}', %s,"
        "  jsonb_build_object('value', %s::float8), %s, '{}', false),"
        " ('testex', 'AAA/USDT', '1m', 'macd', 'macd', '{\"backtrack\": 1}', %s,"
        "  jsonb_build_object('valueMACD', %s::float8, 'valueMACDSignal', %s::float8, 'valueMACDHist', %s::float8), %s, '{}', true),"
        " ('testex', 'AAA/USDT', '1m', 'ema', 'ema_50', '{\"period\": 50}', 1, '{\"value\": 1}', %s, '{}', false)",
        (stored_rsi + 0.5, stored_rsi + 0.5, t, stored_macd[0], stored_macd[0], stored_macd[1] * 2, stored_macd[2], t, t),
    )
    rows = feed.conn.execute(
        "select indicator, output, ours, theirs, abs_diff, rel_diff, simulated from bi.taapi_crosscheck"
        " where symbol = 'AAA/USDT' order by indicator, output"
    ).fetchall()
    got = {(r[0], r[1]): r for r in rows}
    assert set(got) == {("rsi_14", "rsi"), ("macd_12_26_9", "macd"), ("macd_12_26_9", "macdsignal"), ("macd_12_26_9", "macdhist")}
    assert got[("rsi_14", "rsi")][4] == pytest.approx(-0.5) and got[("rsi_14", "rsi")][6] is False
    assert got[("macd_12_26_9", "macd")][4] == 0 and got[("macd_12_26_9", "macd")][6] is True
    assert got[("macd_12_26_9", "macdsignal")][5] == pytest.approx(abs(stored_macd[1]) / abs(2 * stored_macd[1]))


def test_permissions(conn):
    for rel in ("bi.candles_1m", "bi.candles_1d", "bi.indicator_values", "bi.taapi_crosscheck"):
        assert conn.execute("select has_table_privilege('tsq_analyst', %s, 'select')", (rel,)).fetchone()[0], rel
    for rel in ("ta.maintained_indicators", "ta.indicator_values", "ta.indicator_state", "ta.indicator_checkpoints"):
        assert conn.execute("select has_table_privilege('tsq_analyst', %s, 'select')", (rel,)).fetchone()[0]
        for priv in ("insert", "update", "delete"):
            assert not conn.execute("select has_table_privilege('tsq_analyst', %s, %s)", (rel, priv)).fetchone()[0]
    assert not conn.execute(
        "select has_function_privilege('tsq_analyst', 'ta.refresh_indicators(integer)', 'execute')"
    ).fetchone()[0]
    assert conn.execute(
        "select has_function_privilege('tsq_analyst', 'ta.indicator_series(integer, text, text, jsonb, timestamptz, timestamptz)', 'execute')"
    ).fetchone()[0]
