"""Seed 003's historical trading endpoints and /metrics over real HTTP: answers equal the ledger
read in SQL (the trade summary is recomputed here from the round trips), pages are keyset-complete,
unknown ids are 404, bad parameters 422 sentences, and the API login reads the ledger only through
the bi views."""

from __future__ import annotations

import datetime as dt
import decimal

import psycopg
import pytest
import requests

from tests.api.conftest import api_url_for
from tests.api.test_api import _sql_rows

H = "/api/v1/historical"


def _get(base: str, path: str, **params):
    got = requests.get(f"{base}{path}", params=params, timeout=10)
    assert got.status_code == 200, got.text
    return got.json()


def _pages(base: str, path: str, limit: int, **params) -> tuple[list[dict], int]:
    rows, cursor, pages = [], None, 0
    while True:
        body = _get(base, path, limit=limit, **params, **({"cursor": cursor} if cursor else {}))
        rows += body["data"]
        pages += 1
        cursor = body["next_cursor"]
        if not cursor:
            return rows, pages


def _dec(value) -> decimal.Decimal | None:
    return None if value is None else decimal.Decimal(str(value))


def test_orders_pages_equal_the_ledger(api_server, api_db):
    rows, pages = _pages(api_server, f"{H}/orders", 2)
    want = _sql_rows(api_db, "select * from bi.orders order by created_at desc, order_id desc")
    assert len(want) == 5 and pages == 3
    assert [r["order_id"] for r in rows] == [w["order_id"] for w in want]
    for got, w in zip(rows, want):
        assert _dec(got["quantity"]) == w["quantity"] and _dec(got["average_fill_price"]) == w["average_fill_price"]
        assert got["status"] == "filled" and got["strategy"] == "rsi_reversion"
        assert dt.datetime.fromisoformat(got["created_at"]) == w["created_at"]
    sells = _get(api_server, f"{H}/orders", side="sell", symbol="BTC/USDT")["data"]
    assert sorted(r["order_id"] for r in sells) == sorted(w["order_id"] for w in want if w["side"] == "sell")


def test_one_order_by_id_and_404(api_server, api_db):
    want = _sql_rows(api_db, "select * from bi.orders order by order_id limit 1")[0]
    got = _get(api_server, f"{H}/orders/{want['order_id']}")
    assert got["client_order_id"] == want["client_order_id"] and _dec(got["fees"]) == want["fees"]
    missing = requests.get(f"{api_server}{H}/orders/987654321", timeout=10)
    assert missing.status_code == 404 and missing.json()["detail"] == "unknown order 987654321"
    for bad in ("abc", "0", "99999999999999999999"):
        r = requests.get(f"{api_server}{H}/orders/{bad}", timeout=10)
        assert r.status_code == 422 and "order_id" in r.json()["detail"], (bad, r.text)


def test_positions_open_and_closed(api_server, api_db):
    open_ = _get(api_server, f"{H}/positions", status="open")["data"]
    assert [(p["symbol"], p["status"]) for p in open_] == [("ETH/USDT", "open")]
    want = _sql_rows(api_db, "select * from bi.open_positions where symbol = 'ETH/USDT'")[0]
    assert _dec(open_[0]["open_quantity"]) == want["quantity"] == decimal.Decimal("0.5")
    assert _dec(open_[0]["unrealized_pnl"]) == want["unrealized_pnl"]
    closed = _get(api_server, f"{H}/positions", status="closed")["data"]
    assert len(closed) == 2 and all(p["status"] == "closed" and p["closed_at"] for p in closed)
    # realized P/L of the first round trip by hand: (103.25 − 100.5) × 0.01 − 0.01 − 0.01
    first = min(closed, key=lambda p: p["position_id"])
    assert _dec(first["realized_pnl"]) == decimal.Decimal("0.0075")
    r = requests.get(f"{api_server}{H}/positions", params={"status": "half"}, timeout=10)
    assert r.status_code == 422 and "status" in r.json()["detail"]


def test_trades_and_their_summary_recomputed(api_server, api_db):
    trades, _ = _pages(api_server, f"{H}/trades", 1)
    assert [t["status"] for t in trades] == ["OPEN", "CLOSED", "CLOSED"]
    closed = [_dec(t["pnl"]) for t in trades if t["status"] == "CLOSED"]
    today = dt.datetime.now(dt.timezone.utc).date()
    summary = _get(api_server, f"{H}/trades/summary", start_date=(today - dt.timedelta(days=1)).isoformat())
    wins, losses = [p for p in closed if p > 0], [p for p in closed if p < 0]
    assert summary["total_trades"] == 2 and summary["winning_trades"] == len(wins) == 1
    assert summary["losing_trades"] == len(losses) == 1 and summary["win_rate"] == 0.5
    assert _dec(summary["net_pnl"]) == sum(closed)
    assert abs(_dec(summary["profit_factor"]) - sum(wins) / -sum(losses)) < decimal.Decimal("1e-15")
    assert _dec(summary["best_trade"]) == max(closed) and _dec(summary["worst_trade"]) == min(closed)
    later = _get(api_server, f"{H}/trades/summary", start_date=(today + dt.timedelta(days=1)).isoformat())
    assert later["total_trades"] == 0 and _dec(later["net_pnl"]) == 0 and later["win_rate"] is None
    bad = requests.get(f"{api_server}{H}/trades/summary", params={"start_date": "2024-13-01"}, timeout=10)
    assert bad.status_code == 422 and "start_date" in bad.json()["detail"]
    bad = requests.get(f"{api_server}{H}/trades/summary",
                       params={"start_date": "2024-02-01", "end_date": "2024-01-01"}, timeout=10)
    assert bad.status_code == 422 and bad.json()["detail"] == "end_date must not be before start_date"


def test_portfolio_snapshots_and_latest(api_server, api_db):
    snaps, pages = _pages(api_server, f"{H}/portfolio/snapshots", 2)
    want = _sql_rows(api_db, "select * from bi.portfolio order by taken_at desc, snapshot_id desc")
    assert [s["snapshot_id"] for s in snaps] == [w["snapshot_id"] for w in want]
    assert pages == -(-len(want) // 2)
    latest = _get(api_server, f"{H}/portfolio/latest")
    assert latest["snapshot_id"] == want[0]["snapshot_id"] and _dec(latest["equity"]) == want[0]["equity"]
    start = (want[-1]["taken_at"] + dt.timedelta(microseconds=1)).isoformat()
    later = _get(api_server, f"{H}/portfolio/snapshots", start=start)["data"]
    assert len(later) == len(want) - 1


def test_metrics_of_a_backtest_run(api_server, api_db):
    want = _sql_rows(api_db, "select * from perf.performance_metrics where run_id is not null")
    body = _get(api_server, "/api/v1/metrics", run_id=want[0]["run_id"])
    assert len(body["data"]) == 1
    got = body["data"][0]
    for k in ("total_trades", "win_rate", "net_profit", "total_return", "max_drawdown", "exposure"):
        assert got[k] == want[0][k], k
    assert _get(api_server, "/api/v1/metrics", live="true")["data"] == []
    assert len(_get(api_server, "/api/v1/metrics", live="false", symbol="all")["data"]) == 1
    r = requests.get(f"{api_server}/api/v1/metrics", params={"start_date": "2024-02-01", "end_date": "2024-01-01"},
                     timeout=10)
    assert r.status_code == 422


def test_the_api_login_reads_the_ledger_only_through_bi(api_db):
    with psycopg.connect(api_url_for(api_db), autocommit=True) as conn:
        for view in ("bi.orders", "bi.positions", "bi.trade_history", "bi.portfolio", "perf.performance_metrics"):
            conn.execute(f"select count(*) from {view}").fetchone()
        conn.execute("select * from bi.trade_summary()").fetchone()
        assert conn.execute("select trading_state from bi.risk_state").fetchone()[0] == "ACTIVE"
        for table in ("trading.orders", "trading.fills", "trading.portfolio_snapshots", "risk.limits"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(f"select 1 from {table} limit 1")
        for call in ("select trading.record_portfolio_snapshot(1, 1)",
                     "select trading.register_strategy('x', 'x')"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(call)


def test_trading_paths_are_in_the_openapi_schema(api_server):
    paths = requests.get(f"{api_server}/openapi.json", timeout=10).json()["paths"]
    for path in (f"{H}/orders", f"{H}/orders/{{order_id}}", f"{H}/positions", f"{H}/trades", f"{H}/trades/summary",
                 f"{H}/portfolio/snapshots", f"{H}/portfolio/latest", "/api/v1/metrics"):
        assert path in paths, path
