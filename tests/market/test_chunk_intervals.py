"""TimescaleDB mode: market.candles is chunked by month, so a query over a long candle history
names few chunks (issue 9, item 9: the latest-N cost of a year of history against a month).

Every chunk a plan names is opened at executor startup; queries of one instrument's candles
carry no time bound to exclude chunks with. With the 7-day chunks of V0105, a year of 1h candles
made 53 chunks and the latest-N read of bi.candles_1h named 159 chunk scans."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import psycopg
import pytest

from tests.plans import plan_nodes

YEAR_OF_HOURS = 365 * 24


def test_a_year_of_candles_spans_about_twelve_chunks(db_url: str, db_mode: str) -> None:
    if db_mode != "timescaledb":
        pytest.skip("TimescaleDB mode")
    end = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    with psycopg.connect(db_url, autocommit=True) as conn:
        iid = conn.execute("select market.register_instrument('binance', 'DOGEUSDT')").fetchone()[0]
        conn.execute(
            "insert into market.candles (instrument_id, timeframe, open_time, open, high, low, close, volume, source)"
            " select %s, '1h', %s - g * interval '1 hour', 100, 101, 99, 100, 5, 'test'"
            " from generate_series(0, %s - 1) as g", (iid, end, YEAR_OF_HOURS))
        conn.execute("analyze market.candles")
        chunks = conn.execute(
            "select count(*) from timescaledb_information.chunks"
            " where hypertable_schema = 'market' and hypertable_name = 'candles'").fetchone()[0]
        assert chunks <= 14, chunks
        plan = conn.execute(
            "explain (format json) select open_time, rsi_14, follows_gap from bi.candles_1h"
            " where instrument_id = %s order by open_time desc limit 500", (iid,)).fetchone()[0][0]["Plan"]
        scans = sum(1 for node in plan_nodes(plan) if node.get("Relation Name", "").startswith("_hyper_"))
        # every reference to market.candles in the view names each chunk once
        assert 0 < scans <= 3 * chunks, (scans, chunks)
