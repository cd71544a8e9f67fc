"""ta.bar_values, the per-bar projection bi.candles_<tf> reads rsi_14, atr_14, adx_14 and follows_gap
from (issue 9, item 9). Whatever happened to the candles and the configurations, the view must
return exactly what an independent recomputation gives: the gap flag from the candle times, the
named values from ta.indicator_values — and what the same view returns with the projection emptied
(its live fallback, the path of bars the refresh has not consumed yet)."""

from __future__ import annotations

from datetime import timedelta

import psycopg
from test_maintained import Feed, make_bars

NAMED = [("rsi", {}), ("atr", {}), ("adx", {})]
COLUMNS = "open_time, follows_gap, rsi_14, atr_14, adx_14"


def view_rows(conn: psycopg.Connection, iid: int, timeframe: str) -> list[tuple]:
    return conn.execute(
        f"select {COLUMNS} from bi.candles_{timeframe} where instrument_id = %s order by open_time", (iid,)
    ).fetchall()


def live_rows(conn: psycopg.Connection, iid: int, timeframe: str) -> list[tuple]:
    """The view with the projection emptied (rolled back): every bar through the live probes."""
    with conn.transaction(force_rollback=True):
        conn.execute("delete from ta.bar_values")
        return view_rows(conn, iid, timeframe)


def recomputed(conn: psycopg.Connection, iid: int, timeframe: str) -> list[tuple]:
    """Independent oracle: gaps from the bar times in Python, values straight from ta.indicator_values."""
    width = conn.execute("select bucket_width from market.timeframes where timeframe = %s", (timeframe,)).fetchone()[0]
    times = [r[0] for r in conn.execute(
        f"select open_time from market.candles_{timeframe} where instrument_id = %s order by open_time", (iid,))]
    values: dict[str, dict] = {}
    for name, open_time, value in conn.execute(
        "select m.name, v.open_time, v.value1 from ta.indicator_values as v join ta.maintained_indicators as m"
        " using (indicator_id) where m.instrument_id = %s and m.timeframe = %s", (iid, timeframe)):
        values.setdefault(name, {})[open_time] = value
    return [
        (t, k > 0 and t - times[k - 1] != width,
         *(values.get(name, {}).get(t) for name in ("rsi_14", "atr_14", "adx_14")))
        for k, t in enumerate(times)
    ]


def projected(conn: psycopg.Connection, iid: int, timeframe: str) -> int:
    return conn.execute(
        "select count(*) from ta.bar_values as b join market.timeframes as t"
        " on b.timeframe_seconds = extract(epoch from t.bucket_width) where b.instrument_id = %s and t.timeframe = %s",
        (iid, timeframe)).fetchone()[0]


def consumed(conn: psycopg.Connection, iid: int, timeframe: str) -> int:
    """Bars up to the last one the group's indicators consumed: what the projection must hold."""
    return conn.execute(
        f"select count(*) from market.candles_{timeframe} as c where c.instrument_id = %s and c.open_time <= ("
        " select max(s.last_open_time) from ta.indicator_state as s join ta.maintained_indicators as m using (indicator_id)"
        " where m.instrument_id = %s and m.timeframe = %s)", (iid, iid, timeframe)).fetchone()[0]


def check(feed: Feed, timeframes=("1m", "5m")) -> None:
    for tf in timeframes:
        got = view_rows(feed.conn, feed.iid, tf)
        assert got == recomputed(feed.conn, feed.iid, tf), tf
        assert got == live_rows(feed.conn, feed.iid, tf), tf
        assert projected(feed.conn, feed.iid, tf) == consumed(feed.conn, feed.iid, tf), tf


def test_projection_follows_appends_gaps_late_bars_and_corrections(db_url: str) -> None:
    feed = Feed(db_url)
    n = 400
    bars = make_bars(n, seed=4)
    feed.maintain(NAMED)
    feed.maintain([("rsi", {})], timeframe="5m")
    holes = {n - 40, n - 39, n - 20, 37}  # a two-bar gap and two single ones, inside the window but one
    feed.insert([(feed.time_of(j, n), bars[j]) for j in range(n - 100) if j not in holes])
    feed.refresh()
    check(feed)
    rows = dict((r[0], r[1]) for r in view_rows(feed.conn, feed.iid, "1m"))
    assert rows[feed.time_of(38, n)] is True and sum(rows.values()) == 1

    feed.insert([(feed.time_of(j, n), bars[j]) for j in range(n - 100, n) if j not in holes])
    feed.refresh()
    check(feed)
    rows = dict((r[0], r[1]) for r in view_rows(feed.conn, feed.iid, "1m"))
    assert rows[feed.time_of(n - 38, n)] is True and rows[feed.time_of(n - 19, n)] is True

    # late bars inside the correction window fill two gaps: the flags after them change
    feed.insert([(feed.time_of(j, n), bars[j]) for j in (n - 40, n - 39, n - 20)])
    result = feed.refresh()
    assert all(r[3] is not None for r in result)  # rewound
    check(feed)
    rows = dict((r[0], r[1]) for r in view_rows(feed.conn, feed.iid, "1m"))
    assert rows[feed.time_of(n - 38, n)] is False and rows[feed.time_of(n - 19, n)] is False

    # a corrected bar and a deleted one (which opens a gap)
    o, h, lo, c, v = bars[n - 30]
    feed.insert([(feed.time_of(n - 30, n), (o, h * 1.01, lo, c * 1.004, v))])
    feed.conn.execute("delete from market.candles where instrument_id = %s and open_time = %s",
                      (feed.iid, feed.time_of(n - 10, n)))
    feed.refresh()
    check(feed)
    assert dict((r[0], r[1]) for r in view_rows(feed.conn, feed.iid, "1m"))[feed.time_of(n - 9, n)] is True


def test_bars_not_consumed_yet_are_computed_live(db_url: str) -> None:
    feed = Feed(db_url)
    n = 200
    bars = make_bars(n + 1, seed=9)
    feed.maintain(NAMED)
    feed.insert([(feed.time_of(j, n), bars[j]) for j in range(n - 30)])
    feed.refresh()
    # closed bars rolled up but not refreshed yet (one after a gap), and the forming bar
    feed.insert([(feed.time_of(j, n), bars[j]) for j in range(n - 30, n) if j != n - 12])
    feed.insert([(feed.end + timedelta(minutes=1), bars[n])])
    feed.conn.execute("call market.refresh_rollups()")
    got = view_rows(feed.conn, feed.iid, "1m")
    assert got == recomputed(feed.conn, feed.iid, "1m") == live_rows(feed.conn, feed.iid, "1m")
    assert projected(feed.conn, feed.iid, "1m") == n - 30
    assert got[-1][0] == feed.end + timedelta(minutes=1) and got[-1][2:] == (None, None, None)
    assert [r[1] for r in got if r[0] == feed.time_of(n - 11, n)] == [True]
    feed.refresh()
    check(feed, ("1m",))


def test_rebuild_removed_configuration_and_upgrade(db_url: str) -> None:
    feed = Feed(db_url)
    n = 240
    bars = make_bars(n, seed=13)
    configs = feed.maintain(NAMED)
    feed.conn.execute("select ops.set_setting('ta.correction_window_bars', '10')")
    feed.insert([(feed.time_of(j, n), bars[j]) for j in range(n)])
    feed.refresh()
    # a late bar older than the window: neither the values nor the projection see it …
    feed.conn.execute("delete from market.candles where instrument_id = %s and open_time = %s",
                      (feed.iid, feed.time_of(n - 80, n)))
    feed.refresh()
    assert view_rows(feed.conn, feed.iid, "1m") != recomputed(feed.conn, feed.iid, "1m")
    # … until ta.rebuild_indicators, which rewrites both
    for iid in configs:
        feed.conn.execute("select * from ta.rebuild_indicators(%s, %s)", (iid, feed.time_of(n - 80, n)))
    check(feed, ("1m",))
    assert dict((r[0], r[1]) for r in view_rows(feed.conn, feed.iid, "1m"))[feed.time_of(n - 79, n)] is True
    feed.conn.execute("select * from ta.rebuild_indicators(%s)", (min(configs),))
    check(feed, ("1m",))

    # a deleted configuration takes its values out of the view, projected or live
    rsi = next(i for i, (ind, _) in configs.items() if ind == "rsi")
    feed.conn.execute("delete from ta.maintained_indicators where indicator_id = %s", (rsi,))
    check(feed, ("1m",))
    assert all(r[2] is None for r in view_rows(feed.conn, feed.iid, "1m"))
    assert any(r[3] is not None for r in view_rows(feed.conn, feed.iid, "1m"))
    # maintained again: the next refresh computes it from the first bar and projects it
    feed.maintain([("rsi", {})])
    feed.refresh()
    check(feed, ("1m",))
    assert any(r[2] is not None for r in view_rows(feed.conn, feed.iid, "1m"))

    # a database upgraded with values but an empty projection: live until the next refresh fills it
    before = view_rows(feed.conn, feed.iid, "1m")
    feed.conn.execute("delete from ta.bar_values")
    assert view_rows(feed.conn, feed.iid, "1m") == before
    assert all(r[2] == 0 for r in feed.refresh())
    assert projected(feed.conn, feed.iid, "1m") == n - 1
    check(feed, ("1m",))
    feed.conn.close()
