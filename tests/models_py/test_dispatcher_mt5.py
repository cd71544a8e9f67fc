"""The dispatcher against the fake MT5 bridge on a real database: the order and its dispatch row
before the request, the broker's verdicts as order states (accepted, rejected, partly filled,
placed then filled), throttling (sent again after the wait, one order), unknown outcomes settled
from the broker's history (executed: acknowledged; not executed: sent again after the deadline),
a bridge that fails mid-run (exit 1, the next run reconciles), a wrong key, DRY_RUN (no request
at all, the would-be orders recorded), the lock, and no traceback or secret anywhere."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import psycopg
import pytest

from loaders.fakes.server import Fault
from models_py import dispatcher
from models_py.fakes.mt5_bridge import FakeBridge, Script, SymbolSpec
from tests.models_py import dispatch_helpers as h

KEY = "mt5-key-never-in-any-output-42"


@pytest.fixture
def scene(db_url, monkeypatch):
    """EURUSD (100.00) and GBPUSD (200.00) on the mt5 exchange with fresh candles, a bridge with
    those prices and 100000 of balance, and a signal table."""
    monkeypatch.setenv("MT5_API_KEY", KEY)
    monkeypatch.delenv("DRY_RUN", raising=False)
    monkeypatch.delenv("TSQ_SECRETS_FILE", raising=False)
    with psycopg.connect(db_url, autocommit=True) as conn:
        eur, gbp = h.market_with_signals(conn, "mt5", {"EURUSD": 100.0, "GBPUSD": 200.0})
    bridge = FakeBridge({"EURUSD": SymbolSpec(Decimal("99.99"), Decimal("100.01")),
                         "GBPUSD": SymbolSpec(Decimal("199.98"), Decimal("200.02"))},
                        api_key=KEY, balance=Decimal(100_000))
    with bridge:
        yield {"url": db_url, "eur": eur, "gbp": gbp, "bridge": bridge}


def signal(scene, key: str, direction: str, minutes_ago: int = 2, **kw) -> None:
    price = {"eur": 100.0, "gbp": 200.0}[key]
    with psycopg.connect(scene["url"], autocommit=True) as conn:
        h.add_signal(conn, scene[key], direction, h.minute(datetime.now(timezone.utc)) - timedelta(minutes=minutes_ago),
                     close=price, **kw)


def run(scene, capsys, *extra: str) -> tuple[int, str, str]:
    code = dispatcher.run_main(dispatcher.main, [
        "--once", "--broker", "mt5", "--base-url", scene["bridge"].url, "--url", scene["url"],
        "--signals", h.SIGNAL_TABLE, "--since", "2000-01-01", "--risk-per-trade", "0.001", "--retries", "1",
        *extra])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err and KEY not in out + err
    return code, out, err


def rows(scene, query: str, params=()) -> list[tuple]:
    with psycopg.connect(scene["url"]) as conn:
        return conn.execute(query, params).fetchall()


def ledger(scene) -> list[tuple]:
    return rows(scene, "select d.status, d.attempts, o.status, o.quantity, o.filled_quantity, o.broker_order_id"
                       " from trading.dispatches as d join trading.orders as o using (client_order_id)"
                       " order by d.dispatch_id")


def no_secret_stored(scene) -> None:
    text = json.dumps(rows(scene, "select row_to_json(x)::text from (select * from trading.dispatches) as x"
                                  " union all select row_to_json(x)::text from (select * from ops.loader_runs) as x"
                                  " union all select row_to_json(x)::text from (select * from ops.events) as x"
                                  " union all select row_to_json(x)::text from (select * from trading.orders) as x"))
    assert KEY not in text


def test_entry_and_exit_reach_the_broker_and_the_ledger_follows(scene, capsys):
    signal(scene, "eur", "BUY", 3)
    signal(scene, "eur", "SELL", 2)
    code, out, _ = run(scene, capsys)
    assert code == 0
    bridge = scene["bridge"]
    entry, exit_ = bridge.all_orders()
    # equity 100000 × 0.001 = 100 at risk; stop 1 % below 100 → 1 per lot: 100 lots, take profit 2 %
    assert (entry["type"], entry["volume_initial"], entry["sl"], entry["tp"]) == ("BUY", 100.0, 99.0, 102.0)
    assert (exit_["type"], exit_["volume_initial"], exit_["sl"]) == ("SELL", 100.0, None)
    assert ledger(scene) == [("acknowledged", 1, "filled", Decimal(100), Decimal(100), str(entry["ticket"])),
                             ("acknowledged", 1, "filled", Decimal(100), Decimal(100), str(exit_["ticket"]))]
    # fills are the broker's deals; the round trip lost the spread: (99.99 − 100.01) × 100
    assert rows(scene, "select realized_pnl, quantity from trading.positions") == [(Decimal("-2.00"), Decimal(0))]
    assert bridge.balance == Decimal(100_000) - 2
    snapshots = rows(scene, "select source, balance, equity from trading.portfolio_snapshots order by snapshot_id")
    assert snapshots[0] == ("broker", Decimal(100_000), Decimal(100_000))
    assert [c for c in rows(scene, "select status, rows_in, rows_loaded from ops.loader_runs")] == [("succeeded", 2, 2)]
    assert "2 orders" in out.splitlines()[-1]


def test_a_rejection_is_the_order_state_and_a_cancelled_round_trip(scene, capsys):
    signal(scene, "eur", "BUY")
    scene["bridge"].script(Script(retcode=10019))
    code, out, _ = run(scene, capsys)
    assert code == 0 and "10019 NO_MONEY" in out
    assert ledger(scene) == [("rejected", 1, "rejected", Decimal(100), Decimal(0), None)]
    assert rows(scene, "select status from trading.round_trips") == [("CANCELLED",)]
    assert rows(scene, "select status_reason from trading.orders")[0][0].startswith("MT5 rejected the order: 10019")


def test_partial_fill_leaves_the_remainder_cancelled(scene, capsys):
    signal(scene, "gbp", "SELL")
    scene["bridge"].script(Script(fill_ratio=Decimal("0.4")))
    assert run(scene, capsys)[0] == 0
    # 100000 × 0.001 / (2.00 stop distance) = 50 lots, 40 % filled
    assert ledger(scene)[0][2:5] == ("cancelled", Decimal(50), Decimal("20.0"))
    assert rows(scene, "select quantity from trading.positions") == [(Decimal("-20.0"),)]


def test_a_limit_order_is_placed_and_its_fill_recorded_by_a_later_pass(scene, capsys):
    signal(scene, "eur", "BUY")
    assert run(scene, capsys, "--order-type", "limit", "--limit-offset-bps", "50")[0] == 0
    bridge = scene["bridge"]
    (placed,) = bridge.open_orders.values()
    assert (placed["type"], placed["price_open"]) == ("BUY_LIMIT", 99.5)
    assert ledger(scene)[0][2] == "submitted"
    bridge.set_price("EURUSD", "99.48", "99.50")
    assert run(scene, capsys)[0] == 0
    assert ledger(scene)[0][2:5] == ("filled", Decimal(100), Decimal(100))
    assert rows(scene, "select price from trading.fills") == [(Decimal("99.5"),)]


def test_throttled_orders_are_sent_again_after_the_wait(scene, capsys):
    signal(scene, "eur", "BUY")
    scene["bridge"].throttle(2, retry_after=0.2)
    code, out, _ = run(scene, capsys)
    assert code == 0 and out.count("not_sent") == 2
    assert ledger(scene)[0][:3] == ("acknowledged", 3, "filled")
    assert len(scene["bridge"].all_orders()) == 1


@pytest.mark.parametrize("executes, attempts", [(True, 1), (False, 2)])
def test_a_timeout_is_settled_by_the_broker_history_not_by_a_blind_retry(scene, capsys, executes, attempts):
    signal(scene, "eur", "BUY")
    signal(scene, "gbp", "BUY", 1)
    scene["bridge"].script(Script(delay=1.2, execute=executes))
    code, out, _ = run(scene, capsys, "--timeout", "0.5", "--grace", "0.2")
    assert code == 0 and "unknown" in out and "reconciled" in out
    bridge = scene["bridge"]
    assert sorted(o["symbol"] for o in bridge.all_orders()) == ["EURUSD", "GBPUSD"]   # one each
    assert [r[:3] for r in ledger(scene)] == [("acknowledged", attempts, "filled"), ("acknowledged", 1, "filled")]
    no_secret_stored(scene)


def test_a_bridge_failing_mid_run_stops_the_run_and_the_next_one_reconciles(scene, capsys):
    signal(scene, "eur", "BUY")
    signal(scene, "gbp", "BUY", 1)
    bridge = scene["bridge"]
    bridge.script(Script(status=503, execute=True))                # executed, answered 503
    bridge.server.inject("/orders", *[Fault.server_error(503)] * 4, after=1)   # then the reads fail
    code, out, err = run(scene, capsys, "--timeout", "0.5", "--grace", "0.1")
    assert code == 1 and err.startswith("error: ") and "could not be reconciled" not in err
    assert [r[:3] for r in ledger(scene)] == [("sending", 1, "new")]      # nothing new was sent
    assert rows(scene, "select status from ops.loader_runs") == [("failed",)]
    bridge.server.clear_faults()
    code, out, _ = run(scene, capsys, "--timeout", "0.5", "--grace", "0.1")
    assert code == 0 and "found (filled)" in out
    assert [r[:3] for r in ledger(scene)] == [("acknowledged", 1, "filled"), ("acknowledged", 1, "filled")]
    assert len(bridge.all_orders()) == 2


def test_a_wrong_key_fails_the_run_in_one_sentence_without_the_key(scene, capsys, monkeypatch):
    signal(scene, "eur", "BUY")
    monkeypatch.setenv("MT5_API_KEY", "not-the-right-key-77")
    code, out, err = run(scene, capsys)
    assert code == 1 and err.strip() == ("error: the MT5 bridge rejected the API key (set MT5_API_KEY, or the "
                                         "secrets file)")
    assert "not-the-right-key-77" not in out + err
    assert rows(scene, "select count(*) from trading.orders") == [(0,)]
    assert rows(scene, "select status, error from ops.loader_runs")[0][0] == "failed"


def test_missing_key_and_missing_signals_are_usage_errors(scene, capsys, monkeypatch):
    monkeypatch.delenv("MT5_API_KEY")
    code, _, err = run(scene, capsys)
    assert code == 2 and "MT5_API_KEY" in err
    monkeypatch.setenv("MT5_API_KEY", KEY)
    code, _, err = run(scene, capsys, "--signals", "bi.trading_signals")
    assert code == 2 and "bi.trading_signals does not exist" in err and "dbt" in err


def test_dry_run_sends_nothing_and_records_what_would_have_been_sent(scene, capsys, monkeypatch):
    with psycopg.connect(scene["url"], autocommit=True) as conn:
        conn.execute("select trading.record_portfolio_snapshot(50000, 50000)")
    signal(scene, "eur", "BUY")
    signal(scene, "gbp", "SELL", 1)
    monkeypatch.setenv("DRY_RUN", "1")
    code, out, _ = run(scene, capsys)
    assert code == 0 and out.count("DRY_RUN") == 2
    bridge = scene["bridge"]
    assert bridge.server.requests == []
    assert rows(scene, "select count(*) from trading.orders") == [(0,)]
    assert rows(scene, "select count(*) from trading.portfolio_snapshots") == [(1,)]
    recorded = rows(scene, "select status, dry_run, request from trading.dispatches order by dispatch_id")
    assert [(s, d) for s, d, _ in recorded] == [("dry_run", True), ("dry_run", True)]
    eur = recorded[0][2]
    # 50000 × 0.001 = 50 at risk over a 1.00 stop: 50 lots
    assert (eur["symbol"], eur["side"], eur["quantity"], eur["stop_loss"], eur["take_profit"]) == \
        ("EURUSD", "buy", "50.00", "99.00", "102.00")
    assert run(scene, capsys)[0] == 0 and rows(scene, "select count(*) from trading.dispatches") == [(2,)]
    monkeypatch.delenv("DRY_RUN")
    assert run(scene, capsys)[0] == 0
    assert sorted((o["symbol"], o["type"]) for o in bridge.all_orders()) == [("EURUSD", "BUY"), ("GBPUSD", "SELL")]
    assert rows(scene, "select count(*) from trading.dispatches where not dry_run") == [(2,)]


def test_a_second_dispatcher_skips_while_the_lock_is_held(scene, capsys):
    signal(scene, "eur", "BUY")
    with psycopg.connect(scene["url"], autocommit=True) as holder:
        holder.execute("select pg_advisory_lock(hashtextextended('tsquant.loader:dispatcher', 0))")
        code, _, err = run(scene, capsys)
    assert code == 3 and "another run of job 'dispatcher'" in err
    assert scene["bridge"].server.requests == []
