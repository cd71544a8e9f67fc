"""Grafana's provisioning files and dashboards (grafana/), checked without Grafana: every dashboard
parses and points at the provisioned datasource, and every query in it — template variables,
panels, annotations — runs as the datasource's read-only login against a test database with the
Grafana macros expanded as Grafana's PostgreSQL datasource expands them ($__timeFilter,
$__timeFrom/$__timeTo, $__timeGroup[Alias] in both database modes, $__interval, template
variables from their own queries). Panels return rows, the candles panel equals bi.candles_1h and
the drawdown panel equals a pandas recomputation."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import numpy as np
import psycopg
import pytest
import yaml
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from tests.surface_data import add_fresh_candles, load_market, seed_backtest, seed_signals, seed_trading

ROOT = Path(__file__).resolve().parents[1]
GRAFANA = ROOT / "grafana"
DASHBOARDS = sorted((GRAFANA / "dashboards").glob("*.json"))
DATASOURCE = yaml.safe_load((GRAFANA / "provisioning/datasources/tsquant.yaml").read_text())["datasources"][0]
INTERVAL = "1h"  # what Grafana would send for $__interval on a 7-day range at this width


def as_login(url: str, user: str) -> str:
    params = conninfo_to_dict(url)
    params.pop("password", None)
    params["user"] = user
    return make_conninfo(**params)


def _seconds(text: str) -> int:
    number, unit = re.fullmatch(r"(\d+)([smhdw])", text.strip().strip("'")).groups()
    return int(number) * {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}[unit]


def expand_macros(query: str, frm: dt.datetime, to: dt.datetime, timescaledb: bool) -> str:
    """Grafana's PostgreSQL macros (pkg/tsdb/grafana-postgresql-datasource/macros.go)."""
    rfc = lambda t: t.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")  # noqa: E731

    def one(match: re.Match) -> str:
        name, args = match.group(1), [a.strip() for a in match.group(2).split(",")] if match.group(2).strip() else []
        if name == "timeFilter":
            return f"{args[0]} BETWEEN '{rfc(frm)}' AND '{rfc(to)}'"
        if name == "timeFrom":
            return f"'{rfc(frm)}'"
        if name == "timeTo":
            return f"'{rfc(to)}'"
        if name in ("timeGroup", "timeGroupAlias"):
            s = _seconds(args[1])
            group = (f"time_bucket('{s}.000s',{args[0]})" if timescaledb
                     else f"floor(extract(epoch from {args[0]})/{s})*{s}")
            return group + (' AS "time"' if name == "timeGroupAlias" else "")
        if name == "time":
            return f'{args[0]} AS "time"'
        if name == "timeEpoch":
            return f'extract(epoch from {args[0]}) as "time"'
        raise AssertionError(f"macro $__{name} is not expanded by this test: add it")

    return re.sub(r"\$__(\w+)\(((?:[^()]|\([^()]*\))*)\)", one, query)


def interpolate(query: str, variables: dict[str, str]) -> str:
    query = query.replace("$__interval_ms", str(_seconds(INTERVAL) * 1000)).replace("$__interval", INTERVAL)
    for name, value in sorted(variables.items(), key=lambda kv: -len(kv[0])):
        query = query.replace(f"${{{name}}}", value).replace(f"[[{name}]]", value)
        query = re.sub(rf"\${name}\b", value, query)
    assert not re.search(r"\$(?!__)\w", query), f"an unknown template variable is left in: {query}"
    return query


def queries(board: dict):
    """(kind, title, target) for every SQL query of a dashboard, in order."""
    for p in board["panels"]:
        for t in p["targets"]:
            yield "panel", p["title"], t
    for a in board["annotations"]["list"]:
        if "target" in a:
            yield "annotation", a["name"], a["target"]


@pytest.fixture(scope="module")
def grafana_db(module_db_url, db_mode):
    load_market(module_db_url, instruments=2, days=3, trades_per_day=4000)
    add_fresh_candles(module_db_url)
    seed_signals(module_db_url)
    seed_trading(module_db_url)
    run_id = seed_backtest(module_db_url)
    with psycopg.connect(module_db_url, autocommit=True) as conn:
        conn.execute("insert into market.quarantine (source, dataset, reason, symbol, payload)"
                     " values ('binance', 'candles', 'high < low', 'BTCUSDT', '{}')")
        conn.execute("call perf.refresh_performance_metrics((now() at time zone 'UTC')::date)")
    return {"url": module_db_url, "login": as_login(module_db_url, DATASOURCE["user"]), "run_id": run_id,
            "timescaledb": db_mode == "timescaledb"}


def run_board(db: dict, board: dict) -> dict[str, list]:
    """Variables from their queries, then every query; {title: (columns, rows)}."""
    to = dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1)
    frm = to - dt.timedelta(days=7)
    results: dict[str, tuple[list[str], list[tuple]]] = {}
    with psycopg.connect(db["login"], autocommit=True) as conn:
        variables: dict[str, str] = {}
        for v in board["templating"]["list"]:
            cur = conn.execute(expand_macros(interpolate(v["query"], variables), frm, to, db["timescaledb"]))
            cols = [c.name for c in cur.description]
            rows = cur.fetchall()
            assert rows, f"variable {v['name']} offers no value"
            values = [r[cols.index("__value")] if "__value" in cols else r[0] for r in rows]
            preferred = {"exchange": "synthetic", "symbol": "BTC/USDT", "timeframe": "1h", "strategy": "rsi_reversion"}
            value = preferred.get(v["name"]) if preferred.get(v["name"]) in values else values[0]
            variables[v["name"]] = str(value)
        for kind, title, target in queries(board):
            sql = expand_macros(interpolate(target["rawSql"], variables), frm, to, db["timescaledb"])
            try:
                cur = conn.execute(sql)
            except psycopg.Error as exc:
                raise AssertionError(f"{board['title']} / {kind} {title!r} fails: {exc}\n{sql}") from None
            results[f"{kind}:{title}"] = ([c.name for c in cur.description], cur.fetchall(), target["format"])
    return results


def test_provisioning_files_parse_and_agree():
    provider = yaml.safe_load((GRAFANA / "provisioning/dashboards/tsquant.yaml").read_text())["providers"][0]
    assert provider["type"] == "file" and provider["options"]["path"] == "/var/lib/grafana/dashboards"
    assert DATASOURCE["type"] == "grafana-postgresql-datasource" and DATASOURCE["user"] == "tsq_grafana"
    assert DATASOURCE["jsonData"]["timescaledb"] is True and "database" in DATASOURCE["jsonData"]
    assert DATASOURCE["secureJsonData"]["password"] == "${TSQ_GRAFANA_DB_PASSWORD}"
    assert {p.stem for p in DASHBOARDS} == {"candles", "loader-health", "equity", "risk"}
    uids = set()
    for path in DASHBOARDS:
        board = json.loads(path.read_text())
        assert board["uid"] not in uids and board["title"].startswith("tsquant")
        uids.add(board["uid"])
        for p in board["panels"]:
            assert p["datasource"]["uid"] == DATASOURCE["uid"], (path.name, p["title"])
            g = p["gridPos"]
            assert 0 <= g["x"] and g["x"] + g["w"] <= 24 and g["h"] > 0
            assert p["targets"] and all(t["rawSql"].strip() and t["rawQuery"] for t in p["targets"])


@pytest.mark.parametrize("path", DASHBOARDS, ids=[p.stem for p in DASHBOARDS])
def test_every_query_runs_as_the_datasource_login_and_returns_rows(grafana_db, path):
    board = json.loads(path.read_text())
    results = run_board(grafana_db, board)
    for name, (cols, rows, fmt) in results.items():
        assert rows, f"{path.name} {name} returns no row on the test data"
        if fmt == "time_series":
            assert cols[0] == "time", f"{name}: a time series starts with a time column, got {cols}"
            times = [r[0] for r in rows]
            assert times == sorted(times), f"{name}: rows are not ordered by time"


def test_candles_panel_equals_the_candles_view(grafana_db):
    board = json.loads((GRAFANA / "dashboards/candles.json").read_text())
    (cols, rows, _), = [v for k, v in run_board(grafana_db, board).items() if k.startswith("panel:$symbol")]
    assert cols == ["time", "open", "high", "low", "close", "volume"]
    with psycopg.connect(grafana_db["url"]) as conn:
        want = conn.execute("select open_time, open, high, low, close, volume from bi.candles_1h"
                            " where symbol = 'BTC/USDT' and open_time > now() - interval '7 days 1 hour'"
                            " order by open_time").fetchall()
    assert rows == want and len(rows) > 48


def test_backtest_drawdown_panel_equals_pandas(grafana_db):
    board = json.loads((GRAFANA / "dashboards/equity.json").read_text())
    results = run_board(grafana_db, board)
    (_, rows, _), = [v for k, v in results.items() if k.startswith("panel:Backtest drawdown")]
    with psycopg.connect(grafana_db["url"]) as conn:
        init_cash = conn.execute("select init_cash from perf.backtest_runs where run_id = %s",
                                 (grafana_db["run_id"],)).fetchone()[0]
        equity = np.array([r[0] for r in conn.execute("select equity from perf.backtest_equity where run_id = %s"
                                                      " order by bar_time", (grafana_db["run_id"],)).fetchall()])
    peak = np.maximum.accumulate(np.concatenate([[init_cash], equity]))[1:]
    assert np.allclose([r[1] for r in rows], equity / peak - 1, rtol=1e-12, atol=1e-15)
    risk = run_board(grafana_db, json.loads((GRAFANA / "dashboards/risk.json").read_text()))
    (_, state, _), = [v for k, v in risk.items() if k == "panel:Trading state"]
    assert state[0][0] == "ACTIVE"


def test_the_datasource_login_reads_like_an_analyst_and_writes_nothing(grafana_db):
    with psycopg.connect(grafana_db["login"], autocommit=True) as conn:
        assert conn.execute("select current_user").fetchone()[0] == "tsq_grafana"
        member = conn.execute("select array_agg(b.rolname) from pg_auth_members as m join pg_roles as b on b.oid = m.roleid"
                              " join pg_roles as u on u.oid = m.member where u.rolname = 'tsq_grafana'").fetchone()[0]
        assert member == ["tsq_analyst"]
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("select 1 from trading.orders limit 1")
        conn.execute("set default_transaction_read_only = off")  # the GUC can be lifted, the grants not
        for statement in ("insert into ops.events (source, event_type, message) values ('x', 'x', 'x')",
                          "delete from market.candles", "create table public.grafana_was_here (i int)"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
