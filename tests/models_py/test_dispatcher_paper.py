"""The paper broker end to end on a real database, from dbt signals to fills, positions and
metrics: two instruments of random-walk 1m candles up to now, the feature indicators maintained,
dbt building bi.trading_signals, and the dispatcher (as tsq_trader) replaying every signal.
Independent oracles: the decision rule and MetaTrader sizing recomputed in Python from the
signals, fills at the next 1m bar's open with slippage and fees recomputed from the candles, and
an average-cost book of positions, realized P/L, equity and round trips. Also limit orders
(partial fills capped by the bar volume, expiry), the risk state refusing entries but not exits,
DRY_RUN, the demo, and the loop mode stopped by SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from decimal import ROUND_FLOOR, ROUND_HALF_EVEN, Decimal
from pathlib import Path

import pandas as pd
import psycopg
import pytest

from db.dbt_runner import run_dbt
from models_py import dispatcher
from tests.conftest import _clone, _drop_database
from tests.features import helpers as fh
from tests.models_py import dispatch_helpers as h

BARS = 2400
TICK, STEP = Decimal("0.01"), Decimal("0.001")
FEE, SLIP = Decimal(10) / 10_000, Decimal(5) / 10_000
CASH = Decimal(10_000)


def close_to(a: Decimal, b: Decimal, rel: Decimal = Decimal("1e-12")) -> bool:
    return abs(a - b) <= rel * max(abs(a), abs(b), Decimal(1))


def as_trader(url: str) -> str:
    return url + ("&" if "?" in url else "?") + "options=-c%20role%3Dtsq_trader"


@pytest.fixture(scope="module")
def built(template_db, worker_tag, tmp_path_factory):
    """A database with signals from dbt over candles that end now; yields (url, start)."""
    name = f"tsq_paper_{worker_tag}"
    url = _clone(template_db, name)
    # 4-hour aligned (40 h of bars), so every run sees the same 15m/1h/4h bars and signals
    end = pd.Timestamp(datetime.now(timezone.utc)).floor("4h")
    start = end - pd.Timedelta(minutes=BARS)
    with psycopg.connect(url, autocommit=True) as conn:
        ids = []
        for symbol, seed, price in (("AAA/USDT", 1, 100.0), ("BBB/USDT", 2, 25.0)):
            iid = h.register(conn, "testex", symbol, tick=str(TICK), step=str(STEP), volume_min=str(STEP))
            fh.insert_candles(conn, iid, fh.random_walk_candles(BARS, seed=seed, start=start, price=price))
            ids.append(iid)
        fh.maintain(conn, ids)
        fh.refresh(conn)
    proc = run_dbt(["build", "--select", "+trading_signals", "--resource-type", "model", "--resource-type", "seed"],
                   url, run_dir=tmp_path_factory.mktemp("dbt"), capture=True)
    assert proc.returncode == 0, proc.stdout[-4000:]
    with psycopg.connect(url, autocommit=True) as conn:
        # prices stay fresh for the checks however long the build took; the loss rules are
        # tested on their own (tests/pgtap/4*_risk_*): here they stay out of the replay
        conn.execute("select risk.set_limit('max_price_age', '1 day')")
        conn.execute("select risk.set_limit('max_daily_loss_pct', '1')")
        conn.execute("select risk.set_limit('max_drawdown_pct', null)")
    yield url, start.to_pydatetime()
    _drop_database(name)


def oracle(conn: psycopg.Connection, signals: list[dict]) -> dict:
    """Decisions, orders and fills of the documented rule, from the signals and the candles."""
    candles = {}
    for iid, t, o in conn.execute("select instrument_id, open_time, open from market.candles_1m order by 1, 2"):
        candles.setdefault(iid, []).append((t, Decimal(str(o))))
    last_close = {iid: Decimal(str(c)) for iid, c in conn.execute(
        "select distinct on (instrument_id) instrument_id, close from market.candles_1m order by instrument_id, open_time desc")}
    books = {iid: h.AverageCost() for iid in candles}
    pending = {iid: Decimal(0) for iid in candles}   # ordered without a fill (no bar after the signal yet)
    decisions = []
    for s in signals:
        iid, buy = s["instrument_id"], s["direction"] == "BUY"
        book = books[iid]
        position = book.quantity + pending[iid]
        realized = sum(b.realized for b in books.values())
        unrealized = sum(b.quantity * (last_close[i] - b.average) for i, b in books.items() if b.quantity)
        if position and (position > 0) != buy:
            quantity, kind, stop = abs(position), "exit", None
        elif position:
            decisions.append({"status": "refused", "reason": "already"})
            continue
        else:
            inputs = s["parameters"].get("inputs", {})
            entry = Decimal(str(inputs["close"])) if "close" in inputs else last_close[iid]
            atr = Decimal(str(inputs.get("atr_14", 0)))
            distance = atr * 2 if atr > 0 else entry * Decimal("0.01")
            stop = ((entry - distance if buy else entry + distance) / TICK).to_integral_value(ROUND_HALF_EVEN) * TICK
            equity = CASH + realized + unrealized
            quantity = (equity * Decimal("0.01") / abs(entry - stop) / STEP).to_integral_value(ROUND_FLOOR) * STEP
            kind = "entry"
            if quantity < STEP:
                decisions.append({"status": "refused", "reason": "position size is 0"})
                continue
        bar = next(((t, o) for t, o in candles[iid] if t >= s["signal_time"]), None)
        d = {"status": "order", "kind": kind, "side": "buy" if buy else "sell", "quantity": quantity, "stop": stop}
        if kind == "entry":
            d["equity"] = CASH + realized + unrealized
        if bar is None:
            pending[iid] += quantity if buy else -quantity
        else:
            price = bar[1] * (1 + SLIP) if buy else bar[1] * (1 - SLIP)
            fee = quantity * price * FEE
            book.fill(d["side"], quantity, price, fee)
            d["fill"] = (bar[0], price, fee)
        decisions.append(d)
    return {"decisions": decisions, "books": books, "last_close": last_close}


def test_paper_dispatch_from_dbt_signals_to_fills_positions_and_metrics(built, capsys):
    url, start = built
    with psycopg.connect(as_trader(url)) as conn:
        assert conn.execute("select current_user").fetchone() == ("tsq_trader",)
    code = dispatcher.run_main(dispatcher.main, ["--once", "--broker", "paper", "--url", as_trader(url),
                                                 "--since", start.isoformat()])
    out, err = capsys.readouterr()
    assert code == 0, err
    with psycopg.connect(url) as conn:
        cur = conn.execute(
            "select signal_source, instrument_id, direction, parameters, bar_time, signal_time from bi.trading_signals"
            " where direction in ('BUY', 'SELL') order by signal_time, bar_time, signal_source, instrument_id")
        signals = [dict(zip([c.name for c in cur.description], r)) for r in cur.fetchall()]
        want = oracle(conn, signals)
        got = conn.execute(
            "select d.status, d.reason, d.request, o.side, o.quantity, o.stop_loss, o.status, o.created_by,"
            " f.filled_at, f.price, f.fee, f.quantity"
            " from trading.dispatches as d left join trading.orders as o using (client_order_id)"
            " left join trading.fills as f on f.order_id = o.order_id order by d.dispatch_id").fetchall()
        positions = {r[0]: r[1:] for r in conn.execute(
            "select instrument_id, quantity, average_entry_price, realized_pnl from trading.positions")}
        metrics = conn.execute("select last_balance, equity from risk.metrics()").fetchone()
        closed = [r[0] for r in conn.execute("select pnl from trading.round_trips where status = 'CLOSED' order by trade_id")]
        stats = conn.execute("select total_trades, net_profit from perf.trade_stats(%s::float8[])", (closed,)).fetchone()
        open_view = {r[0]: r[1] for r in conn.execute("select instrument_id, quantity from bi.open_positions")}
        run = conn.execute("select status, rows_in, rows_loaded, rows_quarantined from ops.loader_runs").fetchone()
    decisions = want["decisions"]
    assert len(signals) >= 20 and len(got) == len(signals)
    assert sum(d["status"] == "order" for d in decisions) >= 10
    assert any(d.get("kind") == "exit" for d in decisions) and any(d["status"] == "refused" for d in decisions)
    for d, (status, reason, request, side, quantity, stop, o_status, created_by, at, price, fee, fq) in zip(decisions, got):
        if d["status"] == "refused":
            assert status == "refused" and reason.startswith(d["reason"]) and side is None
            continue
        assert status == "acknowledged" and created_by == "postgres" and (side, quantity) == (d["side"], d["quantity"])
        assert stop == d["stop"]
        if d["kind"] == "entry":
            assert close_to(Decimal(request["sizing"]["equity"]), d["equity"])
        if "fill" in d:
            assert o_status == "filled" and fq == quantity
            assert (at, price) == d["fill"][:2] and close_to(fee, d["fill"][2])
        else:
            assert o_status == "submitted" and at is None
    books = want["books"]
    for iid, book in books.items():
        qty, avg, realized = positions.get(iid, (Decimal(0), None, Decimal(0)))
        assert qty == book.quantity and close_to(realized, book.realized)
        assert (avg is None) == (book.average is None) and (avg is None or close_to(avg, book.average))
        assert open_view.get(iid, Decimal(0)) == book.quantity
    realized = sum(b.realized for b in books.values())
    unrealized = sum(b.quantity * (want["last_close"][i] - b.average) for i, b in books.items() if b.quantity)
    assert close_to(metrics[0], CASH + realized) and close_to(metrics[1], CASH + realized + unrealized)
    oracle_closed = [p for b in books.values() for p in b.closed_pnl]
    assert stats[0] == len(oracle_closed) and abs(stats[1] - float(sum(oracle_closed))) < 1e-9
    n_orders = sum(d["status"] == "order" for d in decisions)
    assert run == ("succeeded", len(signals), n_orders, len(signals) - n_orders)
    assert out.splitlines()[-1].startswith(f"dispatcher (paper, live): {n_orders} orders")
    # a second pass finds nothing new to do
    assert dispatcher.run_main(dispatcher.main, ["--once", "--url", as_trader(url), "--since", start.isoformat()]) == 0
    with psycopg.connect(url) as conn:
        assert conn.execute("select count(*) from trading.dispatches").fetchone()[0] == len(signals)


@pytest.fixture
def limit_scene(db_url):
    """One instrument with 10 hand-made 1m bars after a signal at t0."""
    t0 = h.minute(datetime.now(timezone.utc)) - timedelta(minutes=30)
    with psycopg.connect(db_url, autocommit=True) as conn:
        iid = h.register(conn, "testex", "CCC/USDT", step="1", volume_min="1")
        bars = [(t0 + timedelta(minutes=k), 100, 101, low, 100, volume) for k, (low, volume) in enumerate(
            [(99.5, 50), (98.9, 30), (99.0, 45), (98.0, 200), (99.6, 500), (97.0, 10)])]
        h.insert_candles(conn, iid, bars)
        h.flat_candles(conn, iid, 100.0, minutes=5)
        h.create_signal_table(conn)
        h.add_signal(conn, iid, "BUY", t0, close=100.0)
        conn.execute("select trading.record_portfolio_snapshot(100000, 100000)")
    return db_url, iid, t0


def test_paper_limit_orders_fill_partly_per_bar_volume_then_expire(limit_scene, capsys):
    url, iid, t0 = limit_scene
    # 100000 × 0.01 / 1.00 stop = 1000 lots, limit 99.00 (100 bps inside); each bar fills ≤ 10 % of its volume
    args = ["--once", "--url", url, "--signals", h.SIGNAL_TABLE, "--since", "2000-01-01", "--order-type", "limit",
            "--limit-offset-bps", "100", "--participation", "0.1", "--limit-ttl-hours", "0.08"]
    assert dispatcher.run_main(dispatcher.main, args) == 0
    with psycopg.connect(url) as conn:
        fills = conn.execute("select filled_at, quantity, price, fee from trading.fills order by fill_id").fetchall()
        order = conn.execute("select status, quantity, filled_quantity, limit_price from trading.orders").fetchone()
    # bar 1 (low 98.9 ≤ 99): 3 lots at 99; bar 2 (low 99.0): 4 (45 × 0.1 floored); bar 3: 20; bar 4 (low 99.6): no;
    # bar 5 at 97 is 5 minutes after t0: past the 4.8-minute ttl
    want = [(t0 + timedelta(minutes=1), 3), (t0 + timedelta(minutes=2), 4), (t0 + timedelta(minutes=3), 20)]
    assert [(t, q) for t, q, _, _ in fills] == [(t, Decimal(q)) for t, q in want]
    assert all(p == Decimal(99) and f == q * 99 * FEE for _, q, p, f in fills)
    assert order == ("expired", Decimal(1000), Decimal(27), Decimal("99.00"))


def test_risk_state_refuses_entries_but_not_exits(db_url, capsys):
    with psycopg.connect(db_url, autocommit=True) as conn:
        a, b = h.market_with_signals(conn, "testex", {"AAA/USDT": 100.0, "BBB/USDT": 50.0})
        now = h.minute(datetime.now(timezone.utc))
        h.add_signal(conn, a, "BUY", now - timedelta(minutes=10), close=100.0)
    args = ["--once", "--url", db_url, "--signals", h.SIGNAL_TABLE, "--since", "2000-01-01"]
    assert dispatcher.run_main(dispatcher.main, args) == 0
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("select risk.set_trading_state('REDUCING', 'test: exits only')")
        h.add_signal(conn, a, "SELL", now - timedelta(minutes=8), close=100.0)
        h.add_signal(conn, b, "BUY", now - timedelta(minutes=7), close=50.0)
    capsys.readouterr()
    assert dispatcher.run_main(dispatcher.main, args) == 0
    out = capsys.readouterr().out
    with psycopg.connect(db_url) as conn:
        got = conn.execute("select d.direction, d.status, d.reason, o.status from trading.dispatches as d"
                           " left join trading.orders as o using (client_order_id) order by dispatch_id").fetchall()
    assert got[:2] == [("BUY", "acknowledged", got[0][2], "filled"), ("SELL", "acknowledged", got[1][2], "filled")]
    assert got[2][:2] == ("BUY", "refused") and got[2][3] is None
    assert got[2][2] == "refused by risk: trading is REDUCING (test: exits only): only orders that reduce a position are accepted"
    assert "refused by risk: trading is REDUCING" in out


def test_dry_run_paper_records_without_orders_or_fills(db_url, capsys, monkeypatch):
    with psycopg.connect(db_url, autocommit=True) as conn:
        (a,) = h.market_with_signals(conn, "testex", {"AAA/USDT": 100.0})
        h.add_signal(conn, a, "BUY", h.minute(datetime.now(timezone.utc)) - timedelta(minutes=5), close=100.0, atr=0.5)
        conn.execute("select trading.record_portfolio_snapshot(20000, 20000)")
    monkeypatch.setenv("DRY_RUN", "1")
    assert dispatcher.run_main(dispatcher.main, ["--once", "--url", db_url, "--signals", h.SIGNAL_TABLE,
                                                 "--since", "2000-01-01"]) == 0
    with psycopg.connect(db_url) as conn:
        assert conn.execute("select count(*) from trading.orders").fetchone()[0] == 0
        assert conn.execute("select count(*) from trading.fills").fetchone()[0] == 0
        status, request = conn.execute("select status, request from trading.dispatches").fetchone()
    # 20000 × 0.01 / (2 × 0.5) = 200 lots, stop 99.00, take profit 102.00
    assert status == "dry_run"
    assert (request["side"], request["quantity"], request["stop_loss"], request["take_profit"]) == \
        ("buy", "200.00", "99.00", "102.00")
    assert "would have been sent (DRY_RUN)" in capsys.readouterr().out


def test_demo_dispatches_allowed_signals_and_shows_the_ledger(db_url):
    from models_py.dispatch_demo import demo_lines

    old = datetime(2024, 8, 1, 12, 0, tzinfo=timezone.utc)      # a replay: prices far older than max_price_age
    with psycopg.connect(db_url, autocommit=True) as conn:
        iid = conn.execute("select market.register_instrument('binance', 'BTCUSDT', p_candle_source => 'native')"
                           ).fetchone()[0]                       # no trading specs: the demo gives it some
        h.insert_candles(conn, iid, [(old + timedelta(minutes=k), 100 + k, 101 + k, 99 + k, 100 + k, 10)
                                     for k in range(20)])
        h.create_signal_table(conn)
        h.add_signal(conn, iid, "BUY", old + timedelta(minutes=5), close=105.0)
        h.add_signal(conn, iid, "BUY", old + timedelta(minutes=6), close=106.0)
        conn.execute(f"create view bi.trading_signals as select * from {h.SIGNAL_TABLE}")
    lines = demo_lines(db_url)
    text = "\n".join(lines)
    assert "set for binance:BTC/USDT" in text
    assert "dispatcher (paper, live): 1 orders, 1 refused" in text and "refused: 1 × already long" in text
    assert "fills (newest) (1)" in text and "open positions (bi.open_positions) (1)" in text
    assert "risk state (risk.metrics) (1)" in text and "ACTIVE" in text
    # the fill: the open of the bar at the signal's time (105) plus 5 bps; 10000 × 0.01 / 1.05 stop = 95.23809… floored to the 0.0001 step
    with psycopg.connect(db_url) as conn:
        assert conn.execute("select quantity, price from trading.fills").fetchone() == \
            (Decimal("95.2380"), Decimal(105) * (1 + SLIP))
    assert "dispatcher (paper, live): 0 orders, 0 refused" in "\n".join(demo_lines(db_url))


def test_loop_mode_runs_passes_until_sigterm(db_url):
    with psycopg.connect(db_url, autocommit=True) as conn:
        (a,) = h.market_with_signals(conn, "testex", {"AAA/USDT": 100.0})
        h.add_signal(conn, a, "BUY", h.minute(datetime.now(timezone.utc)) - timedelta(minutes=4), close=100.0)
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen([sys.executable, "-m", "models_py.dispatcher", "--loop", "--every", "0.5", "--url", db_url,
                             "--signals", h.SIGNAL_TABLE, "--since", "2000-01-01", "--quiet"], cwd=root,
                            env={**os.environ, "PYTHONPATH": str(root)}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with psycopg.connect(db_url) as conn:
                if conn.execute("select count(*) from ops.loader_runs where status = 'succeeded'").fetchone()[0] >= 3:
                    break
            time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    with psycopg.connect(db_url) as conn:
        runs = conn.execute("select status, count(*) from ops.loader_runs group by 1").fetchall()
        orders = conn.execute("select count(*) from trading.orders").fetchone()[0]
    assert dict(runs).get("succeeded", 0) >= 3 and "running" not in dict(runs) and orders == 1
    assert out.splitlines()[0].startswith("dispatcher (paper, live): 1 orders")
    assert all(line.startswith("dispatcher (paper, live): 0 orders") for line in out.splitlines()[1:])


def test_live_mode_acts_only_on_signals_younger_than_one_bar(db_url):
    now = datetime.now(timezone.utc)
    with psycopg.connect(db_url, autocommit=True) as conn:
        a, b, c = h.market_with_signals(conn, "testex", {"AAA/USDT": 100.0, "BBB/USDT": 50.0, "CCC/USDT": 20.0})
        h.add_signal(conn, a, "BUY", now - timedelta(seconds=20), close=100.0)                  # 1m, fresh
        h.add_signal(conn, b, "BUY", now - timedelta(minutes=3), close=50.0)                    # 1m, 3 bars old
        h.add_signal(conn, c, "BUY", now - timedelta(minutes=10), close=20.0, timeframe="15m")  # 15m, fresh
        h.add_signal(conn, c, "SELL", now + timedelta(minutes=1), close=20.0)                   # not yet
    assert dispatcher.run_main(dispatcher.main, ["--once", "--url", db_url, "--signals", h.SIGNAL_TABLE]) == 0
    with psycopg.connect(db_url) as conn:
        decided = conn.execute("select instrument_id, timeframe, direction from trading.dispatches order by 1").fetchall()
    assert decided == [(a, "1m", "BUY"), (c, "15m", "BUY")]
    assert dispatcher.run_main(dispatcher.main, ["--once", "--url", db_url, "--signals", h.SIGNAL_TABLE,
                                                 "--max-age-bars", "4"]) == 0
    with psycopg.connect(db_url) as conn:
        assert conn.execute("select count(*) from trading.dispatches where instrument_id = %s", (b,)).fetchone() == (1,)
