"""The read-only HTTP API over real HTTP on loopback: answers equal the same query run as the
analyst role in SQL, keyset pages are complete and disjoint, bad parameters get a 422 sentence,
unknown instruments a 404, the login can read and write nothing beyond tsq_analyst, and
schemathesis finds no server error or schema violation."""

from __future__ import annotations

import datetime as dt
import json
import math
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
import requests

from tests.api.conftest import api_url_for

ROOT = Path(__file__).resolve().parents[2]


def _sql_rows(db: str, query: str, *params) -> list[dict]:
    with psycopg.connect(db) as conn:
        conn.execute("set role tsq_analyst")
        cur = conn.cursor(row_factory=psycopg.rows.dict_row)
        return cur.execute(query, params).fetchall()


def _same(api_value, sql_value) -> bool:
    if isinstance(sql_value, dt.datetime):
        return dt.datetime.fromisoformat(api_value) == sql_value
    if isinstance(sql_value, float):
        return (api_value is None and not math.isfinite(sql_value)) or api_value == pytest.approx(sql_value, rel=1e-15)
    return api_value == sql_value


def test_latest_candles_equal_sql(api_server, api_db):
    got = requests.get(f"{api_server}/api/v1/candles", params={"symbol": "BTCUSDT", "timeframe": "1h", "limit": 5}, timeout=10)
    assert got.status_code == 200, got.text
    body = got.json()
    want = _sql_rows(api_db, "select * from bi.candles_1h where symbol = 'BTC/USDT' and exchange = 'synthetic'"
                             " order by open_time desc limit 5")
    assert len(body["data"]) == 5 and body["next_cursor"]
    for a, b in zip(body["data"], want):
        for k, v in b.items():
            assert _same(a[k], v), k
    assert body["data"][0]["rsi_14"] is not None or "indicators" in body["data"][0]


def test_keyset_pages_cover_the_range_exactly(api_server, api_db):
    first = _sql_rows(api_db, "select min(open_time) as t from bi.candles_1m where symbol = 'BTC/USDT'")[0]["t"]
    start, end = first.isoformat(), (first + dt.timedelta(hours=3)).isoformat()
    seen, cursor, pages = [], None, 0
    while True:
        params = {"symbol": "BTC/USDT", "exchange": "synthetic", "timeframe": "1m", "start": start, "end": end, "limit": 37}
        if cursor:
            params["cursor"] = cursor
        body = requests.get(f"{api_server}/api/v1/candles", params=params, timeout=10).json()
        seen += [r["open_time"] for r in body["data"]]
        pages += 1
        cursor = body["next_cursor"]
        if not cursor:
            break
    want = [r["open_time"] for r in _sql_rows(
        api_db, "select open_time from bi.candles_1m where symbol = 'BTC/USDT' and open_time >= %s"
                " and open_time < %s order by open_time", first, first + dt.timedelta(hours=3))]
    assert [dt.datetime.fromisoformat(t) for t in seen] == want
    assert pages == -(-len(want) // 37)


def test_indicators_and_signals_endpoints(api_server, api_db):
    body = requests.get(f"{api_server}/api/v1/indicators",
                        params={"symbol": "BTC/USDT", "timeframe": "1h", "indicator": "rsi", "limit": 3}, timeout=10).json()
    want = _sql_rows(api_db, "select * from bi.indicator_values where symbol = 'BTC/USDT' and timeframe = '1h'"
                             " and indicator = 'rsi' order by open_time desc, indicator_id desc, output desc limit 3")
    assert [r["value"] for r in body["data"]] == [None if r["value"] is None or math.isnan(r["value"]) else r["value"] for r in want]
    raw = requests.get(f"{api_server}/api/v1/signals/raw", params={"symbol": "BTC/USDT", "limit": 10}, timeout=10).json()
    assert len(raw["data"]) == 10 and raw["data"][0]["value"] == 41.0


@pytest.mark.parametrize("params, fragment", [
    ({"symbol": "BTC/USDT", "timeframe": "7m"}, "timeframe"),
    ({"symbol": "BTC/USDT", "timeframe": "1h", "start": "yesterday"}, "start"),
    ({"symbol": "BTC/USDT", "timeframe": "1h", "limit": 0}, "limit"),
    ({"symbol": "BTC/USDT", "timeframe": "1h", "limit": 5001}, "limit"),
    ({"symbol": "BTC/USDT", "timeframe": "1h", "start": "2024-02-01", "end": "2024-01-01"}, "end must be later than start"),
    ({"symbol": "BTC/USDT", "timeframe": "1h", "cursor": "bm90IGEgY3Vyc29y"}, "cursor"),
    ({"symbol": "BTC\x00", "timeframe": "1h"}, "NUL"),
    ({"timeframe": "1h"}, "symbol"),
])
def test_bad_parameters_get_a_422_sentence(api_server, params, fragment):
    got = requests.get(f"{api_server}/api/v1/candles", params=params, timeout=10)
    assert got.status_code == 422, got.text
    assert isinstance(got.json()["detail"], str) and fragment in got.json()["detail"]


def test_unknown_instrument_is_404(api_server):
    got = requests.get(f"{api_server}/api/v1/candles", params={"symbol": "NOPE/USD", "timeframe": "1h"}, timeout=10)
    assert got.status_code == 404 and got.json()["detail"] == "unknown instrument NOPE/USD"


def test_openapi_and_docs_are_served(api_server):
    spec = requests.get(f"{api_server}/openapi.json", timeout=10).json()
    assert "/api/v1/candles" in spec["paths"] and "/health" in spec["paths"]
    props = spec["components"]["schemas"]["Candle"]["properties"]
    assert props["close"]["description"].startswith("Last price")
    assert requests.get(f"{api_server}/docs", timeout=10).status_code == 200


def test_the_api_login_reads_only_what_analysts_read(api_db):
    url = api_url_for(api_db)
    with psycopg.connect(url, autocommit=True) as conn:
        assert conn.execute("select current_user").fetchone()[0] == "tsq_api"
        conn.execute("select count(*) from bi.candles_1h").fetchone()
        for statement in ("insert into ops.events (source, event_type, message) values ('x', 'x', 'x')",
                          "create table public.x (i int)", "delete from market.trades"):
            with pytest.raises((psycopg.errors.InsufficientPrivilege, psycopg.errors.ReadOnlySqlTransaction)):
                conn.execute(statement)
        conn.execute("set default_transaction_read_only = off")  # a client can lift the GUC...
        with pytest.raises(psycopg.errors.InsufficientPrivilege):  # ...not the grants
            conn.execute("insert into ops.events (source, event_type, message) values ('x', 'x', 'x')")
        has_orders = conn.execute("select exists (select from pg_class c join pg_namespace n on n.oid = c.relnamespace"
                                  " where n.nspname = 'trading' and c.relname = 'orders')").fetchone()[0]
        if has_orders:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute("select * from trading.orders")
        member = conn.execute("select array_agg(b.rolname order by b.rolname) from pg_auth_members m"
                              " join pg_roles b on b.oid = m.roleid join pg_roles u on u.oid = m.member"
                              " where u.rolname = 'tsq_api'").fetchone()[0]
        assert member == ["tsq_analyst"]


def test_health_is_200_when_fresh_and_503_when_stale(api_server, api_db):
    got = requests.get(f"{api_server}/health", timeout=10)
    body = got.json()
    assert got.status_code == 200, body
    assert body["database"] == "reachable" and {c["name"] for c in body["checks"]} >= {"loader", "quarantine"}
    with psycopg.connect(api_db, autocommit=True) as conn:
        conn.execute("select ops.set_setting('health.stale_after', '1 microsecond')")
        try:
            got = requests.get(f"{api_server}/api/v1/historical/health", timeout=10)
            assert got.status_code == 503
            assert any(c["status"] == "stale" and c["name"] == "loader" for c in got.json()["checks"])
        finally:
            conn.execute("select ops.set_setting('health.stale_after', '2 hours')")


def test_schemathesis_finds_no_server_error_or_schema_violation(api_server, tmp_path):
    done = subprocess.run(
        [str(Path(sys.executable).parent / "schemathesis"), "run", f"{api_server}/openapi.json",
         "--checks", "not_a_server_error,response_schema_conformance,content_type_conformance",
         "--max-examples", "15", "--seed", "7", "--workers", "2", "--max-time", "40",
         "--exclude-path-regex", "health",  # health answers 503 by design when data is stale
         "--report", "junit", "--report-dir", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=400,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "passed" in done.stdout, done.stdout[-2000:]
