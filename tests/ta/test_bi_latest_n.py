"""Latest-N and time-range queries on bi.candles_<tf> compute indicators only for the rows they
return (issue 9, item 9): checked on the executed plan (EXPLAIN ANALYZE, JSON), not on timings."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import psycopg

from tests.plans import rows_read

BARS = 400


def test_latest_n_and_ranges_read_indicators_of_the_returned_rows_only(db_url: str) -> None:
    end = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    with psycopg.connect(db_url, autocommit=True) as conn:
        iid = conn.execute("select market.register_instrument('binance', 'DOGEUSDT')").fetchone()[0]
        other = conn.execute("select market.register_instrument('binance', 'XRPUSDT')").fetchone()[0]
        for i in (iid, other):
            conn.execute(
                "insert into market.candles (instrument_id, timeframe, open_time, open, high, low, close, volume, source)"
                " select %s, '1h', %s - g * interval '1 hour', 100 + sin(g), 102 + sin(g), 98 + sin(g), 100 + cos(g), 5, 'test'"
                " from generate_series(0, %s - 1) as g", (i, end, BARS))
            conn.execute("select ta.maintain(%s, '1h', 'rsi')", (i,))
            conn.execute("select ta.maintain(%s, '1h', 'macd')", (i,))
        conn.execute("call market.refresh_rollups()")
        conn.execute("select ta.refresh_indicators()")
        conn.execute("analyze")

        latest, read = rows_read(
            conn, "select open_time, rsi_14, indicators, follows_gap from bi.candles_1h where instrument_id = %s"
            " order by open_time desc limit 5", (iid,))
        assert [r[0] for r in latest] == [end - timedelta(hours=k) for k in range(5)]
        want = conn.execute(
            "select v.open_time, v.value1 from ta.indicator_values as v join ta.maintained_indicators as m using (indicator_id)"
            " where m.instrument_id = %s and m.name = 'rsi_14' order by v.open_time desc limit 5", (iid,)).fetchall()
        assert [(r[0], r[1]) for r in latest] == [tuple(w) for w in want]
        assert all(set(r[2]) == {"rsi_14", "macd_12_26_9"} and r[3] is False for r in latest)
        # per returned row: two values for the jsonb — not the whole history
        assert read.get("indicator_values", 0) <= 2 * 5, read
        # rsi_14 and follows_gap of bars the refresh consumed: one ta.bar_values row per candle row
        # the plan reads — the 5 returned ones when the candle scan stops at the limit, all 400 in
        # TimescaleDB mode where the planner sorts this tiny history's 3 chunks instead
        candle_rows = sum(n for rel, n in read.items() if rel == "candles" or rel.startswith("_hyper_"))
        assert read.get("bar_values", 0) <= max(5, candle_rows) <= BARS, read

        in_range, read = rows_read(
            conn, "select open_time, indicators from bi.candles_1h where instrument_id = %s"
            " and open_time > %s and open_time <= %s order by open_time", (iid, end - timedelta(hours=10), end - timedelta(hours=2)))
        assert len(in_range) == 8
        assert read.get("indicator_values", 0) <= 2 * 8, read
