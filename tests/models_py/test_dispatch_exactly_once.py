"""Exactly once at the broker: the dispatcher is killed with SIGKILL 100 times at random points —
after the order is committed but before it is sent, while the bridge executes it (before the
answer), after the answer arrived but before it was recorded, after the acknowledgement was
committed, and at random moments — and restarted each time against the same fake MT5 bridge.
At the end the broker holds exactly one order per signal, and the ledger agrees with the broker:
the same tickets, volumes, executions, positions and realized P/L.

The runs are real processes forked from the test process (no interpreter start-up per run)
talking HTTP to the bridge; the kill points are installed in the forked child only."""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import psycopg

from db.errors import run_main
from models_py import dispatcher
from models_py.brokers.mt5 import MT5Broker
from models_py.fakes.mt5_bridge import FakeBridge, SymbolSpec
from tests.models_py import dispatch_helpers as h

KILLS = 100
INSTRUMENTS = 6
KEY = "bridge-key-for-the-kill-test"
MODES = ("before_send", "in_flight", "after_send", "after_ack", "random_time")


def _child(args: list[str], mode: str, nth: int) -> None:
    """A dispatcher run (in a forked process: the modules are already imported) that kills itself
    at the nth occurrence of its kill point."""
    calls = {"n": 0}

    def die_at_nth() -> None:
        calls["n"] += 1
        if calls["n"] == nth:
            os.kill(os.getpid(), signal.SIGKILL)

    if mode == "before_send":
        real_send = MT5Broker.send

        def send(self, request):
            die_at_nth()
            return real_send(self, request)
        MT5Broker.send = send
    elif mode == "after_send":
        real_send = MT5Broker.send

        def send(self, request):
            outcome = real_send(self, request)
            die_at_nth()
            return outcome
        MT5Broker.send = send
    elif mode == "after_ack":
        real_ack = dispatcher.Dispatcher._record_ack

        def record_ack(self, *a, **k):
            real_ack(self, *a, **k)
            die_at_nth()
        dispatcher.Dispatcher._record_ack = record_ack
    os._exit(run_main(dispatcher.main, args))


def _start(args: list[str], mode: str, nth: int) -> multiprocessing.Process:
    proc = multiprocessing.get_context("fork").Process(target=_child, args=(args, mode, nth))
    proc.start()
    return proc


def _setup(url: str) -> tuple[dict[str, int], dict[int, float]]:
    symbols, price = {}, {}
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("select risk.set_limit('max_price_age', '1 hour')")
        h.create_signal_table(conn)
        for i in range(INSTRUMENTS):
            name = f"K{chr(65 + i // 26)}{chr(65 + i % 26)}"
            iid = h.register(conn, "mt5", f"{name}USD", base=name, quote="USD")
            h.flat_candles(conn, iid, 100.0 + i)
            symbols[f"{name}USD"] = iid
            price[iid] = 100.0 + i
    return symbols, price


class Signals:
    """Alternating BUY/SELL signals per instrument, one second apart, added as runs use them up."""

    def __init__(self, url: str, price: dict[int, float]) -> None:
        self.url, self.price = url, price
        self.base = datetime.now(timezone.utc) - timedelta(minutes=50)
        self.added = 0

    def top_up(self, keep: int = 12) -> None:
        with psycopg.connect(self.url, autocommit=True) as conn:
            decided = conn.execute("select count(*) from trading.dispatches").fetchone()[0]
            while self.added - decided < keep:
                k = self.added // len(self.price)
                for iid in self.price:
                    h.add_signal(conn, iid, "BUY" if k % 2 == 0 else "SELL",
                                 self.base + timedelta(seconds=self.added), close=self.price[iid])
                    self.added += 1


def test_sigkill_100_times_then_restart_leaves_exactly_one_order_per_signal(db_url, monkeypatch):
    symbols, price = _setup(db_url)
    signals = Signals(db_url, price)
    specs = {s: SymbolSpec(Decimal(100 + i) - Decimal("0.01"), Decimal(100 + i) + Decimal("0.01"))
             for i, s in enumerate(symbols)}
    target = {"pid": None, "nth": 0, "seen": 0}

    def kill_in_flight(order: dict) -> None:
        # the bridge executed the order and has not answered yet
        if target["nth"] and target["pid"]:
            target["seen"] += 1
            if target["seen"] == target["nth"]:
                os.kill(target["pid"], signal.SIGKILL)

    bridge = FakeBridge(specs, api_key=KEY, balance=Decimal(1_000_000), on_executed=kill_in_flight)
    monkeypatch.setenv("MT5_API_KEY", KEY)
    monkeypatch.delenv("DRY_RUN", raising=False)
    common = ["--once", "--broker", "mt5", "--url", db_url, "--signals", h.SIGNAL_TABLE, "--since", "2000-01-01",
              "--risk-per-trade", "0.0001", "--timeout", "0.4", "--grace", "0.05", "--max-attempts", "20", "--quiet"]
    rng = random.Random(12)
    kills: Counter[str] = Counter()
    started = time.monotonic()
    with bridge:
        args = [*common, "--base-url", bridge.url, "--batch", "4"]
        rounds = 0
        while sum(kills.values()) < KILLS:
            rounds += 1
            assert rounds < 600, f"only {sum(kills.values())} kills in {rounds} runs"
            signals.top_up()
            mode, nth = rng.choice(MODES), rng.randint(1, 2)
            target.update(pid=None, nth=nth if mode == "in_flight" else 0, seen=0)
            proc = _start(args, mode, nth)
            target["pid"] = proc.pid
            if mode == "random_time":
                time.sleep(rng.uniform(0.0, 0.3))
                if proc.is_alive():
                    os.kill(proc.pid, signal.SIGKILL)
            proc.join(60)
            assert proc.exitcode is not None, "a dispatcher run hung"
            if proc.exitcode == -signal.SIGKILL:
                kills[mode] += 1
            elif proc.exitcode == 3:
                time.sleep(0.05)           # the killed run's session still holds the lock
            else:
                assert proc.exitcode == 0, f"a dispatcher run failed with exit code {proc.exitcode}"
        target.update(pid=None, nth=0)
        n_signals = signals.added
        for _ in range(20):                # finish every signal without kills
            proc = _start([*common, "--base-url", bridge.url, "--batch", "1000"], "none", 0)
            proc.join(120)
            if proc.exitcode == 0:
                with psycopg.connect(db_url) as conn:
                    if conn.execute("select count(*) from trading.dispatches").fetchone()[0] == n_signals:
                        break
            else:
                assert proc.exitcode == 3, f"the final run failed with exit code {proc.exitcode}"
                time.sleep(0.1)
        broker_orders = bridge.all_orders()
        deals = list(bridge.deals)
        positions = {s: p for s, p in bridge.positions.items()}
        balance = bridge.balance
    elapsed = time.monotonic() - started

    assert sum(kills.values()) == KILLS and all(kills[m] > 0 for m in MODES), kills
    print(f"{KILLS} kills {dict(kills)} over {rounds} runs, {n_signals} signals, {elapsed:.0f} s")

    # exactly one order per signal at the broker
    by_comment = Counter(o["comment"] for o in broker_orders)
    assert len(broker_orders) == n_signals
    assert max(by_comment.values()) == 1
    with psycopg.connect(db_url) as conn:
        dispatches = conn.execute(
            "select d.client_order_id, d.status, o.status, o.broker_order_id, o.side, o.quantity, o.filled_quantity,"
            " i.exchange_symbol from trading.dispatches as d join trading.orders as o using (client_order_id)"
            " join market.instruments as i on i.instrument_id = o.instrument_id where not d.dry_run").fetchall()
        fills = conn.execute("select o.client_order_id, f.broker_fill_id, f.quantity, f.price from trading.fills as f"
                             " join trading.orders as o using (order_id)").fetchall()
        ledger_positions = dict(conn.execute(
            "select i.exchange_symbol, p.quantity from trading.positions as p join market.instruments as i"
            " using (instrument_id) where p.quantity <> 0").fetchall())
        realized = conn.execute("select coalesce(sum(realized_pnl), 0) from trading.positions").fetchone()[0]
        orders_total = conn.execute("select count(*) from trading.orders").fetchone()[0]
        runs = dict(conn.execute("select status, count(*) from ops.loader_runs group by 1").fetchall())
    assert len(dispatches) == n_signals == orders_total
    assert set(by_comment) == {d[0] for d in dispatches}

    # the ledger agrees with the broker
    broker_by_comment = {o["comment"]: o for o in broker_orders}
    for cid, d_status, o_status, ticket, side, quantity, filled, symbol in dispatches:
        b = broker_by_comment[cid]
        assert (d_status, o_status) == ("acknowledged", "filled"), cid
        assert ticket == str(b["ticket"]) and symbol == b["symbol"]
        assert side.upper() == b["type"] and quantity == Decimal(str(b["volume_initial"])) == filled
    broker_fills = {(str(x["ticket"]), Decimal(str(x["volume"])), Decimal(str(x["price"]))) for x in deals}
    ledger_fills = {(fid, q, p) for _, fid, q, p in fills}
    assert len(fills) == len(deals) and ledger_fills == broker_fills
    assert ledger_positions == {s: Decimal(str(p["volume"])) * (1 if p["type"] == "BUY" else -1)
                                for s, p in positions.items()}
    assert Decimal(1_000_000) + realized == balance
    assert runs.get("running", 0) == 0 and runs.get("abandoned", 0) >= KILLS // 2
