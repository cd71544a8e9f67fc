"""Latest-N reads of market.candles_<tf>, the relation downstream code reads, cost the rows they
return, not the instrument's history (issue 9, item 9), in both database modes.

In TimescaleDB mode the planner sized the candle union from the empty hypertable parents (about
one row), so a Gather over a Parallel Append looked cheaper than the merge of backward index
scans, and it sorted the whole history under the limit (db/market/R__candle_kind.sql). The same
misestimate can still make bi.candles_<tf>, which adds two joins, sort a small history
(tests/ta/test_bi_latest_n.py)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import psycopg

from tests.plans import rows_read

BARS = 3000  # 1h bars: 125 days, five 30-day chunks in TimescaleDB mode
LIMIT = 50


def test_a_latest_n_read_of_one_instrument_stops_at_the_limit(db_url: str) -> None:
    end = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    with psycopg.connect(db_url, autocommit=True) as conn:
        ids = [conn.execute("select market.register_instrument('binance', %s)", (s,)).fetchone()[0]
               for s in ("DOGEUSDT", "XRPUSDT", "ADAUSDT")]
        for iid in ids:
            conn.execute(
                "insert into market.candles (instrument_id, timeframe, open_time, open, high, low, close, volume, source)"
                " select %s, '1h', %s - g * interval '1 hour', 100 + sin(g), 102, 98, 100 + cos(g), 5, 'test'"
                " from generate_series(0, %s - 1) as g", (iid, end, BARS))
        conn.execute("analyze")
        rows, read = rows_read(
            conn, f"select open_time, close from market.candles_1h where instrument_id = %s order by open_time desc limit {LIMIT}",
            (ids[1],))
        candle_rows = sum(n for rel, n in read.items() if rel == "candles" or rel.startswith("_hyper_"))
        assert [r[0] for r in rows] == [end - timedelta(hours=k) for k in range(LIMIT)]
        # the merge stops at the limit; a sort would have read all 3,000 bars
        assert candle_rows <= LIMIT + 1, read
