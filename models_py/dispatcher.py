"""The order dispatcher: actionable trading signals → risk-checked orders → a broker, exactly once.

    python -m models_py.dispatcher --once                      # one pass (cron)
    python -m models_py.dispatcher --loop --every 60           # a pass every minute until SIGTERM
    python -m models_py.dispatcher --once --broker mt5 --base-url http://bridge:8228
    DRY_RUN=1 python -m models_py.dispatcher --once            # decide and record, send nothing

A pass (under the dispatcher's lock, with a run record in ops.loader_runs, job `dispatcher`):

1. **reconcile** every order of this broker whose sending is unresolved (dispatch `sending` or
   `pending`) with the broker's order history, by client order id (MT5: comment + magic): found →
   acknowledged; provably absent (the request's deadline has passed, or the broker is
   transactional) → sent again as a new, committed attempt; otherwise wait for the deadline;
2. **sync** acknowledged open orders: new executions → trading.record_fill, final states;
3. **snapshot** the broker account → trading.record_portfolio_snapshot (risk reads it);
4. **dispatch** the actionable signals that have no decision yet, oldest first: size the entry
   with risk.position_size, create the order with trading.submit_order (every risk rule runs in
   the database; a refusal is recorded with its reason) and commit it together with the dispatch
   row *before* the request leaves; then send it once. An unknown outcome (timeout, 5xx, bad
   answer) is never retried blindly: step 1 runs again before anything new is sent.

The flow and the exactly-once argument: docs/scorer-and-dispatch.md ("Dispatcher").
"""

from __future__ import annotations

import argparse
import json
import logging
import secrets
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from db.connection import connect
from db.errors import EXIT_FAILED, EXIT_OK, UserError, run_main
from loaders.core.config import ConfigError, Environment
from loaders.core.http import Redactor
from loaders.core.ingest import Counts
from loaders.core.runs import LoaderRun
from models_py.brokers.base import (
    ACCEPTED, NOT_SENT, REJECTED, Account, Broker, BrokerAuthError, BrokerError, BrokerOrder, LedgerOrder,
    OrderRequest, SendOutcome, jsonable,
)

log = logging.getLogger("models_py.dispatcher")

JOB = "dispatcher"
DEFAULT_SIGNALS = "bi.trading_signals"
RISK_REFUSED = "TQR01"          # trading.submit_order: refused by risk.check_order
OPEN_STATUSES = ("new", "submitted", "partially_filled")


@dataclass
class Settings:
    """How the dispatcher decides, sizes and sends (CLI options of the same names)."""

    broker: str = "paper"
    dry_run: bool = False
    signals: str = DEFAULT_SIGNALS           # relation with bi.trading_signals' columns
    strategies: tuple[str, ...] = ()         # only these signal sources (default: all)
    symbols: tuple[str, ...] = ()            # only these canonical symbols (default: all)
    since: datetime | None = None            # replay: every signal since then (no age limit)
    max_age_bars: float = 1.0                # live: a signal is actionable for this many bars after its close
    batch: int = 500                         # signals per pass at most
    risk_per_trade: Decimal = Decimal("0.01")
    atr_multiple: Decimal = Decimal(2)       # stop = entry ∓ atr_multiple × ATR(14) of the signal's bar
    stop_pct: Decimal = Decimal("0.01")      # … or entry × stop_pct when the signal has no ATR
    reward_risk: Decimal = Decimal(2)        # take profit at reward_risk × the stop distance (0: none)
    order_type: str = "market"               # entries: market or limit (exits are always market)
    limit_offset_bps: Decimal = Decimal(10)  # limit entries this far inside the entry price
    long_only: bool = False                  # SELL only closes a long position
    request_timeout: float = 10.0            # an order request is void this long after it was committed
    grace: float = 30.0                      # … plus this margin before the history is taken as proof
    max_attempts: int = 3                    # sends of one order, each after proof the last did not execute
    max_wait: float = 60.0                   # seconds a pass may wait for deadlines and throttling
    max_unknown: int = 3                     # unknown outcomes in one pass before it stops
    magic: int = 7301
    symbol_map: dict[str, str] = field(default_factory=dict)  # "exchange:SYMBOL" or "SYMBOL" -> broker symbol

    def summary(self) -> dict[str, Any]:
        return jsonable({k: v for k, v in self.__dict__.items() if k != "symbol_map"} | {"symbol_map": self.symbol_map})


@dataclass
class Signal:
    signal_source: str
    signal_type: str
    instrument_id: int
    exchange: str
    symbol: str
    exchange_symbol: str
    timeframe: str
    direction: str
    confidence: float | None
    parameters: dict[str, Any]
    bar_time: datetime
    signal_time: datetime

    @property
    def ref(self) -> str:
        t = self.bar_time.astimezone(timezone.utc)
        return f"{self.signal_source}/{self.exchange}:{self.symbol}/{self.timeframe}/{t:%Y-%m-%dT%H:%M:%SZ}"

    def input(self, name: str) -> Decimal | None:
        value = (self.parameters.get("inputs") or {}).get(name)
        try:
            return None if value is None else Decimal(str(value))
        except InvalidOperation:
            return None


@dataclass
class Decision:
    """What to do with one signal: an order request, or a refusal with its reason."""

    signal: Signal
    status: str                              # order | refused
    reason: str = ""
    side: str | None = None
    quantity: Decimal | None = None
    order_type: str = "market"
    limit_price: Decimal | None = None
    stop_loss: Decimal | None = None
    take_profit: Decimal | None = None
    reduces: bool = False
    sizing: dict[str, Any] = field(default_factory=dict)


@dataclass
class PassReport:
    """What one pass did: one structured event per thing that happened (no secrets)."""

    broker: str
    dry_run: bool
    events: list[dict[str, Any]] = field(default_factory=list)
    run_id: int | None = None

    def add(self, event: str, **fields: Any) -> None:
        self.events.append({"event": event, **jsonable(fields)})

    def count(self, event: str) -> int:
        return sum(1 for e in self.events if e["event"] == event)

    def lines(self) -> list[str]:
        out = []
        for e in self.events:
            rest = " ".join(f"{k}={v}" for k, v in e.items() if k not in ("event", "message") and v not in (None, ""))
            out.append(f"{e['event']:<12} {rest}" + (f" — {e['message']}" if e.get("message") else ""))
        mode = "dry run" if self.dry_run else "live"
        out.append(f"dispatcher ({self.broker}, {mode}): {self.count('order')} orders, {self.count('refused')} refused,"
                   f" {self.count('dry_run')} dry-run, {self.count('fill')} fills, {self.count('reconciled')} reconciled,"
                   f" {self.count('rejected')} rejected by the broker")
        return out


class _Unknown(Exception):
    """A send's outcome is unknown: reconcile before anything new is sent."""


class _Decided(Exception):
    """The signal got a decision meanwhile (another dispatcher): roll the new order back."""


def _quantize(value: Decimal, tick: Decimal | None) -> Decimal:
    if not tick:
        return value
    return ((value / tick).to_integral_value(ROUND_HALF_EVEN) * tick).quantize(tick)


def _fmt(value: Any) -> str:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value)


class Dispatcher:
    def __init__(self, conn: psycopg.Connection, broker: Broker, settings: Settings, *,
                 redactor: Redactor | None = None, sleep: Callable[[float], None] = time.sleep,
                 now: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> None:
        self.conn = conn
        self.broker = broker
        self.settings = settings
        self.redact = redactor or Redactor()
        self.sleep = sleep
        self.now = now
        self.run: LoaderRun | None = None
        self.report = PassReport(broker.name, settings.dry_run)
        self._waited = 0.0
        self._unknown = 0
        self._strategies: set[str] = set()

    # =========================================================================================
    # A pass

    def run_pass(self) -> PassReport:
        self.report = PassReport(self.broker.name, self.settings.dry_run)
        self._waited, self._unknown = 0.0, 0
        with LoaderRun(self.conn, job=JOB, source=self.broker.name, dataset="orders",
                       args=self.settings.summary()) as run:
            self.run = run
            self.report.run_id = run.run_id
            if not self.settings.dry_run:
                self.reconcile()
                self.sync_open_orders()
                self.snapshot()
            self.dispatch_signals()
        return self.report

    # =========================================================================================
    # 1. Reconciliation

    def _unresolved(self) -> list[dict[str, Any]]:
        with self.conn.cursor(row_factory=dict_row) as cur:
            return cur.execute(
                "select d.*, o.status as order_status from trading.dispatches as d"
                " join trading.orders as o on o.client_order_id = d.client_order_id"
                " where d.broker = %s and not d.dry_run and d.status in ('sending', 'pending')"
                " order by d.dispatch_id", (self.broker.name,),
            ).fetchall()

    def reconcile(self) -> None:
        """Resolve every order whose sending is unresolved, before anything new is sent."""
        for _ in range(1 + self.settings.max_attempts * 2):
            pending = self._unresolved()
            if not pending:
                return
            for d in pending:
                try:
                    self._reconcile_one(d)
                except _Unknown:
                    break  # look at the list again from the start (the history decides)
        left = self._unresolved()
        if left:
            raise BrokerError(f"{len(left)} order(s) could not be reconciled with the {self.broker.name} broker "
                              f"({', '.join(d['client_order_id'] for d in left[:5])}); nothing new was sent — "
                              "the next run tries again")

    def _reconcile_one(self, d: dict[str, Any]) -> None:
        order = self._ledger_order(d["client_order_id"])
        if order.status != "new":          # acknowledged in the ledger already (e.g. by a person)
            with self.conn.transaction():
                self._update_dispatch(d["dispatch_id"], "acknowledged", "the ledger already has the broker's answer")
            return
        if d["status"] == "pending":        # known not executed: send it again (a new attempt)
            self._new_attempt(d, order)
            return
        while True:
            found = self.broker.find(order)
            if found is not None:
                self._acknowledge(d, order, found, how="found in the broker's order history")
                return
            deadline = d["deadline"]
            proof_at = None if self.broker.transactional or deadline is None else \
                deadline + timedelta(seconds=self.settings.grace)
            now = self.now()
            if proof_at is None or now >= proof_at:
                self.report.add("reconciled", client_order_id=order.client_order_id, outcome="not at the broker",
                                message="the request never executed (its deadline passed); sending it again")
                self._new_attempt(d, order)
                return
            self._wait((proof_at - now).total_seconds(), "an unacknowledged request's deadline")

    def _new_attempt(self, d: dict[str, Any], order: LedgerOrder) -> None:
        if d["attempts"] >= self.settings.max_attempts:
            reason = (f"not accepted by the broker after {d['attempts']} attempt(s): {d['reason'] or 'no answer'}")
            with self.conn.transaction():
                self._update_dispatch(d["dispatch_id"], "failed", reason)
                self._set_order_status(order.client_order_id, "rejected", reason)
            self.report.add("failed", client_order_id=order.client_order_id, message=reason)
            return
        request = self._request_from(d)
        with self.conn.transaction():
            row = self._update_dispatch(d["dispatch_id"], "sending", None, deadline=request.deadline, new_attempt=True)
        self._send(row, order, request)

    # =========================================================================================
    # 2. Open orders

    def sync_open_orders(self) -> None:
        with self.conn.cursor(row_factory=dict_row) as cur:
            rows = cur.execute(
                "select d.client_order_id from trading.dispatches as d"
                " join trading.orders as o on o.client_order_id = d.client_order_id"
                " where d.broker = %s and not d.dry_run and d.status = 'acknowledged'"
                " and o.status in ('submitted', 'partially_filled') order by d.dispatch_id", (self.broker.name,),
            ).fetchall()
        for row in rows:
            self._sync(self._ledger_order(row["client_order_id"]))

    def _sync(self, order: LedgerOrder) -> None:
        state = self.broker.sync(order)
        if state is None:
            self._event("warning", "order_missing_at_broker",
                        f"order {order.client_order_id} (broker id {order.broker_order_id}) is not at the broker",
                        {"client_order_id": order.client_order_id})
            return
        known = {r[0] for r in self.conn.execute(
            "select broker_fill_id from trading.fills where order_id = %s and broker_fill_id is not null",
            (order.order_id,))}
        if all(f.broker_fill_id in known for f in state.fills) and state.status not in ("cancelled", "expired",
                                                                                       "rejected"):
            return
        with self.conn.transaction():
            for fill in state.fills:
                if fill.broker_fill_id in known:
                    continue
                self.conn.execute("select trading.record_fill(%s::text, %s::numeric, %s::numeric, %s::numeric,"
                                  " %s::timestamptz, %s::text)",
                                  (order.client_order_id, fill.quantity, fill.price, fill.fee, fill.filled_at,
                                   fill.broker_fill_id))
                self.report.add("fill", client_order_id=order.client_order_id, quantity=_fmt(fill.quantity),
                                price=_fmt(fill.price), fee=_fmt(fill.fee), at=fill.filled_at)
            current = self.conn.execute("select status from trading.orders where order_id = %s",
                                        (order.order_id,)).fetchone()[0]
            if state.status in ("cancelled", "expired", "rejected") and current in ("submitted", "partially_filled"):
                final = "cancelled" if state.status == "rejected" and current == "partially_filled" else state.status
                self._set_order_status(order.client_order_id, final, state.reason or f"the broker says {state.status}")
                self.report.add(final, client_order_id=order.client_order_id, message=state.reason)

    # =========================================================================================
    # 3. Account snapshot

    def snapshot(self) -> Account:
        account = self.broker.account()
        with self.conn.transaction():
            self.conn.execute(
                "select trading.record_portfolio_snapshot(%s::numeric, %s::numeric, %s::timestamptz, 'broker', %s::numeric,"
                " %s::jsonb)",
                (account.balance, account.equity, self.now(), account.margin_used, json.dumps(jsonable(account.details))),
            )
        self.report.add("account", balance=_fmt(account.balance), equity=_fmt(account.equity))
        return account

    # =========================================================================================
    # 4. New signals

    def _signals(self) -> list[Signal]:
        s = self.settings
        parts = s.signals.split(".")
        if len(parts) != 2 or not all(parts):
            raise UserError(f"--signals must name a relation as schema.name (got {s.signals!r})")
        relation = sql.Identifier(*parts)
        query = sql.SQL(
            "select s.signal_source, s.signal_type, s.instrument_id, i.exchange, i.symbol, i.exchange_symbol,"
            " s.timeframe, s.direction, s.confidence, s.parameters, s.bar_time, s.signal_time"
            " from {rel} as s join market.instruments as i on i.instrument_id = s.instrument_id"
            " where s.direction in ('BUY', 'SELL') and s.signal_time <= %(now)s"
            " and case when %(since)s::timestamptz is not null then s.signal_time >= %(since)s"
            "     else s.signal_time >= %(now)s - (s.signal_time - s.bar_time) * %(age)s end"
            " and (cardinality(%(strategies)s::text[]) = 0 or s.signal_source = any(%(strategies)s))"
            " and (cardinality(%(symbols)s::text[]) = 0 or i.symbol = any(%(symbols)s))"
            " and not exists (select from trading.dispatches as d where d.signal_source = s.signal_source"
            "     and d.instrument_id = s.instrument_id and d.timeframe = s.timeframe and d.bar_time = s.bar_time"
            "     and d.dry_run = %(dry)s)"
            " order by s.signal_time, s.bar_time, s.signal_source, s.instrument_id limit %(batch)s"
        ).format(rel=relation)
        params = {"now": self.now(), "since": s.since, "age": s.max_age_bars, "strategies": list(s.strategies),
                  "symbols": list(s.symbols), "dry": s.dry_run, "batch": s.batch}
        try:
            with self.conn.transaction(), self.conn.cursor(row_factory=dict_row) as cur:
                rows = cur.execute(query, params).fetchall()
        except psycopg.errors.UndefinedTable:
            raise UserError(f"{s.signals} does not exist: build the signals first "
                            "(python -m db.dbt_runner --maintain build)") from None
        return [Signal(**{k: v for k, v in r.items()}) for r in rows]

    def dispatch_signals(self) -> None:
        for signal in self._signals():
            decision = self.decide(signal)
            try:
                self._act(decision)
            except _Unknown:
                self._unknown += 1
                if self._unknown >= self.settings.max_unknown:
                    self.reconcile()
                    raise BrokerError(f"stopped after {self._unknown} orders with an unknown outcome this pass; "
                                      "they are reconciled, the next run continues") from None
                self.reconcile()      # after any error: the history decides before anything new is sent

    # -- deciding -----------------------------------------------------------------------------
    def _position(self, instrument_id: int) -> Decimal:
        """Net position including what open orders will still add."""
        return self.conn.execute(
            "select coalesce((select quantity from trading.positions where instrument_id = %(i)s), 0)"
            " + coalesce((select sum(case side when 'buy' then 1 else -1 end * (quantity - filled_quantity))"
            "   from trading.orders where instrument_id = %(i)s and status = any(%(open)s)), 0)",
            {"i": instrument_id, "open": list(OPEN_STATUSES)},
        ).fetchone()[0]

    def decide(self, signal: Signal) -> Decision:
        """BUY: cover a short, or open a long when flat; SELL: close a long, or open a short when flat
        (not with long_only). An entry is sized by risk.position_size from the latest equity."""
        s = self.settings
        position = self._position(signal.instrument_id)
        buy = signal.direction == "BUY"
        side = "buy" if buy else "sell"
        if position != 0 and (position > 0) != buy:
            return Decision(signal, "order", "exit", side, abs(position), reduces=True,
                            sizing={"position": str(position)})
        if position != 0:
            return Decision(signal, "refused", f"already {'long' if position > 0 else 'short'} {_fmt(abs(position))}: "
                            "no scaling in")
        if not buy and s.long_only:
            return Decision(signal, "refused", "long-only: a SELL signal only closes a long position")
        tick, equity = self.conn.execute(
            "select (select tick_size from market.instrument_trading_specs where instrument_id = %s),"
            " (select equity from trading.portfolio_snapshots order by taken_at desc, snapshot_id desc limit 1)",
            (signal.instrument_id,),
        ).fetchone()
        entry = signal.input("close")
        if entry is None:
            latest = self.conn.execute("select price from market.latest_close(%s)", (signal.instrument_id,)).fetchone()
            entry = None if latest is None or latest[0] is None else Decimal(str(latest[0]))
        if entry is None or entry <= 0:
            return Decision(signal, "refused", f"no price for {signal.symbol}: cannot size the entry")
        atr = signal.input("atr_14")
        distance = atr * s.atr_multiple if atr and atr > 0 else entry * s.stop_pct
        stop = _quantize(entry - distance if buy else entry + distance, tick)
        if stop <= 0 or stop == entry:
            return Decision(signal, "refused", f"the stop loss {_fmt(stop)} is not usable for entry {_fmt(entry)}")
        take = None
        if s.reward_risk > 0:
            take = _quantize(entry + distance * s.reward_risk if buy else entry - distance * s.reward_risk, tick)
            take = take if take > 0 else None
        if equity is None:
            return Decision(signal, "refused", "no equity snapshot: cannot size the entry")
        try:   # autocommit here: a refused sizing leaves no transaction to repair
            quantity = self.conn.execute("select risk.position_size(%s::integer, %s::numeric, %s::numeric, %s::numeric,"
                                         " %s::numeric)",
                                         (signal.instrument_id, equity, s.risk_per_trade, entry, stop)).fetchone()[0]
        except psycopg.Error as exc:
            return Decision(signal, "refused", f"cannot size the entry: {exc.diag.message_primary or exc}")
        sizing = {"equity": str(equity), "risk_per_trade": str(s.risk_per_trade), "entry": str(entry),
                  "stop_loss": str(stop), "atr_14": None if atr is None else str(atr)}
        if quantity <= 0:
            return Decision(signal, "refused", f"position size is 0: {s.risk_per_trade} of equity {_fmt(equity)} does "
                            f"not cover the minimum volume with the stop at {_fmt(stop)}", sizing=sizing)
        limit = None
        if s.order_type == "limit":
            offset = s.limit_offset_bps / 10_000
            limit = _quantize(entry * (1 - offset) if buy else entry * (1 + offset), tick)
        return Decision(signal, "order", "entry", side, quantity, s.order_type, limit, stop, take, sizing=sizing)

    # -- acting ---------------------------------------------------------------------------------
    def _broker_symbol(self, signal: Signal) -> str:
        m = self.settings.symbol_map
        key = f"{signal.exchange}:{signal.symbol}"
        if key in m or signal.symbol in m:
            return m.get(key) or m[signal.symbol]
        if self.broker.name == "paper":
            return signal.symbol
        return signal.exchange_symbol if signal.exchange == "mt5" else signal.symbol.replace("/", "")

    def _deadline(self) -> datetime | None:
        return None if self.broker.transactional else self.now() + timedelta(seconds=self.settings.request_timeout)

    def _record(self, decision: Decision, status: str, reason: str, request: dict[str, Any],
                client_order_id: str | None = None, deadline: datetime | None = None) -> dict[str, Any] | None:
        sig = decision.signal
        with self.conn.cursor(row_factory=dict_row) as cur:
            return cur.execute(
                "select * from trading.record_dispatch(%s::text, %s::integer, %s::text, %s::timestamptz, %s::timestamptz,"
                " %s::text, %s::text, %s::text, %s::boolean, %s::text, %s::text, %s::text, %s::jsonb, %s::timestamptz,"
                " %s::bigint)"
                " where dispatch_id is not null",
                (sig.signal_source, sig.instrument_id, sig.timeframe, sig.bar_time, sig.signal_time, sig.direction,
                 sig.ref, self.broker.name, self.settings.dry_run, status, self.redact(reason) or None, client_order_id,
                 json.dumps(jsonable(request)), deadline, self.run.run_id if self.run else None),
            ).fetchone()

    def _count(self, **counts: int) -> None:
        if self.run is not None:
            self.run.record_batch(Counts(rows_in=1, **counts))

    def _refuse(self, decision: Decision, reason: str) -> None:
        sig = decision.signal
        with self.conn.transaction():
            if self._record(decision, "refused", reason, {"sizing": decision.sizing}) is None:
                return
            self._count(quarantined=1)
        self.report.add("refused", signal=sig.ref, message=reason)

    def _act(self, decision: Decision) -> None:
        sig = decision.signal
        if decision.status == "refused":
            self._refuse(decision, decision.reason)
            return
        cid = "tsq-" + secrets.token_hex(10)
        request = OrderRequest(cid, self._broker_symbol(sig), decision.side, decision.quantity,
                               decision.order_type if decision.reason == "entry" else "market",
                               decision.limit_price, decision.stop_loss, decision.take_profit, self._deadline(),
                               self.settings.magic)
        payload = {**request.as_json(), "kind": decision.reason, "sizing": decision.sizing, "strategy": sig.signal_source}
        if self.settings.dry_run:
            self._dry_run(decision, request, payload)
            return
        try:
            with self.conn.transaction():
                row = self._create_order(decision, request, payload)
        except _Decided:
            return
        self._strategies.add(sig.signal_source)   # registered (committed) by now
        if row is None:
            return
        self.report.add("order", client_order_id=cid, signal=sig.ref, side=request.side,
                        quantity=_fmt(request.quantity), symbol=request.symbol, type=request.order_type,
                        limit=None if request.limit_price is None else _fmt(request.limit_price), kind=decision.reason)
        self._send(row, self._ledger_order(cid), request)

    def _create_order(self, decision: Decision, request: OrderRequest, payload: dict[str, Any]) -> dict[str, Any] | None:
        """In one transaction: the order (every risk rule runs in trading.submit_order) and its
        dispatch row with the request's deadline — committed before the request leaves."""
        sig = decision.signal
        cid = request.client_order_id
        self._ensure_strategy(sig)
        try:
            with self.conn.transaction():
                order = self.conn.execute(
                    "select client_order_id from trading.submit_order(%s::integer, %s::text, %s::numeric, %s::text,"
                    " %s::numeric, null, %s::numeric, %s::numeric, %s::text, %s::numeric, %s::text, %s::text)",
                    (sig.instrument_id, request.side, request.quantity, request.order_type, request.limit_price,
                     request.stop_loss, request.take_profit, sig.signal_source, sig.confidence, sig.ref, cid),
                ).fetchone()
        except psycopg.Error as exc:
            if exc.sqlstate != RISK_REFUSED and (exc.sqlstate or "")[:2] not in ("P0", "22", "23"):
                raise
            reason = (exc.diag.message_primary or str(exc)).removeprefix("trading.submit_order: ")
            order = None
        if order is None:
            if self._record(decision, "refused", reason, {"sizing": decision.sizing, "request": payload}):
                self._count(quarantined=1)
                self.report.add("refused", signal=sig.ref, message=reason)
            return None
        row = self._record(decision, "sending", "", payload, cid, request.deadline)
        if row is None:   # decided meanwhile by another dispatcher: undo the order with this transaction
            raise _Decided()
        self._count(loaded=1)
        return row

    def _dry_run(self, decision: Decision, request: OrderRequest, payload: dict[str, Any]) -> None:
        sig = decision.signal
        allowed, reason = self.conn.execute(
            "select allowed, reason from risk.check_order(%s::integer, %s::text, %s::numeric, %s::numeric)",
            (sig.instrument_id, request.side, request.quantity, request.limit_price),
        ).fetchone()
        if not allowed:
            self._refuse(decision, f"refused by risk: {reason}")
            return
        with self.conn.transaction():
            if self._record(decision, "dry_run", "DRY_RUN: not sent", payload) is None:
                return
            self._count(loaded=1)
        self.report.add("dry_run", signal=sig.ref, side=request.side, quantity=_fmt(request.quantity),
                        symbol=request.symbol, type=request.order_type, kind=decision.reason,
                        message="would have been sent (DRY_RUN)")

    def _ensure_strategy(self, sig: Signal) -> None:
        if sig.signal_source in self._strategies:
            return
        exists = self.conn.execute("select from trading.strategies where name = %s", (sig.signal_source,)).fetchone()
        if exists is None:
            params = {k: v for k, v in sig.parameters.items() if k != "inputs"}
            self.conn.execute(
                "select trading.register_strategy(%s::text, %s::text, %s::jsonb, true, %s::text, %s::text, %s::text)",
                (sig.signal_source, sig.signal_type, json.dumps(params), sig.timeframe, sig.signal_source,
                 "registered by the dispatcher on its first signal"),
            )

    # -- sending --------------------------------------------------------------------------------
    def _send(self, d: dict[str, Any], order: LedgerOrder, request: OrderRequest) -> None:
        """One committed attempt: send once and record what the answer established."""
        while True:
            outcome = self.broker.send(request)
            outcome.message = self.redact(outcome.message)
            response = outcome.as_json()
            if outcome.outcome == ACCEPTED:
                self._record_ack(d, order, outcome)
                self._sync_after_ack(order.client_order_id)
                return
            if outcome.outcome == REJECTED:
                with self.conn.transaction():
                    self._update_dispatch(d["dispatch_id"], "rejected", outcome.message, response)
                    self._set_order_status(order.client_order_id, "rejected", outcome.message)
                self.report.add("rejected", client_order_id=order.client_order_id, retcode=outcome.retcode,
                                message=outcome.message)
                return
            if outcome.outcome == NOT_SENT:
                with self.conn.transaction():
                    d = self._update_dispatch(d["dispatch_id"], "pending", outcome.message, response)
                self.report.add("not_sent", client_order_id=order.client_order_id, kind=outcome.kind,
                                message=outcome.message)
                if outcome.kind == "auth":
                    raise BrokerAuthError(outcome.message)
                if d["attempts"] >= self.settings.max_attempts:
                    self._new_attempt(d, order)      # records the failure
                    return
                self._wait(outcome.retry_after if outcome.retry_after is not None else 1.0, "the broker's throttling")
                request = replace(request, deadline=self._deadline())
                with self.conn.transaction():
                    d = self._update_dispatch(d["dispatch_id"], "sending", None, deadline=request.deadline,
                                              new_attempt=True)
                continue
            # UNKNOWN: the request may have executed. Never send it again from here.
            with self.conn.transaction():
                self._update_dispatch(d["dispatch_id"], "sending", outcome.message, response)
            self.report.add("unknown", client_order_id=order.client_order_id, kind=outcome.kind, message=outcome.message)
            self._event("warning", "order_outcome_unknown", outcome.message, {"client_order_id": order.client_order_id})
            raise _Unknown(outcome.message)

    def _record_ack(self, d: dict[str, Any], order: LedgerOrder, outcome: SendOutcome) -> None:
        with self.conn.transaction():
            self._update_dispatch(d["dispatch_id"], "acknowledged", outcome.message, outcome.as_json())
            self._set_order_status(order.client_order_id, "submitted", outcome.message, outcome.broker_order_id)
        self.report.add("acknowledged", client_order_id=order.client_order_id, broker_order_id=outcome.broker_order_id)

    def _acknowledge(self, d: dict[str, Any], order: LedgerOrder, found: BrokerOrder, *, how: str) -> None:
        with self.conn.transaction():
            self._update_dispatch(d["dispatch_id"], "acknowledged", how,
                                  {"outcome": "found", "broker_order_id": found.broker_order_id, "status": found.status})
            if found.status == "rejected":
                self._set_order_status(order.client_order_id, "rejected", found.reason or how, found.broker_order_id)
            else:
                self._set_order_status(order.client_order_id, "submitted", how, found.broker_order_id)
        self.report.add("reconciled", client_order_id=order.client_order_id, broker_order_id=found.broker_order_id,
                        outcome=f"found ({found.status})")
        if found.status != "rejected":
            self._sync_after_ack(order.client_order_id)

    def _sync_after_ack(self, client_order_id: str) -> None:
        """The executions of a just-acknowledged order; a failed read leaves them to the next sync."""
        try:
            self._sync(self._ledger_order(client_order_id))
        except BrokerError as exc:
            self.report.add("sync_failed", client_order_id=client_order_id, message=self.redact(exc))

    # =========================================================================================
    # Helpers

    def _wait(self, seconds: float, what: str) -> None:
        seconds = max(0.0, seconds)
        if self._waited + seconds > self.settings.max_wait:
            raise BrokerError(f"waiting for {what} would take longer than --max-wait {self.settings.max_wait:g} s; "
                              "nothing new was sent — the next run continues")
        self._waited += seconds
        self.sleep(seconds)

    def _update_dispatch(self, dispatch_id: int, status: str, reason: str | None, response: dict | None = None, *,
                         deadline: datetime | None = None, new_attempt: bool = False) -> dict[str, Any]:
        with self.conn.cursor(row_factory=dict_row) as cur:
            return cur.execute(
                "select * from trading.update_dispatch(%s::bigint, %s::text, %s::text, %s::jsonb, %s::timestamptz, %s::boolean)",
                (dispatch_id, status, None if reason is None else self.redact(reason),
                 None if response is None else self.redact(json.dumps(jsonable(response))), deadline, new_attempt),
            ).fetchone()

    def _set_order_status(self, client_order_id: str, status: str, reason: str, broker_order_id: str | None = None):
        self.conn.execute("select trading.set_order_status(%s::text, %s::text, %s::text, %s::text)",
                          (client_order_id, status, self.redact(reason)[:500], broker_order_id))

    def _request_from(self, d: dict[str, Any]) -> OrderRequest:
        r = d["request"]

        def dec(key: str) -> Decimal | None:
            return None if r.get(key) is None else Decimal(str(r[key]))

        return OrderRequest(r["client_order_id"], r["symbol"], r["side"], Decimal(str(r["quantity"])),
                            r.get("order_type", "market"), dec("limit_price"), dec("stop_loss"), dec("take_profit"),
                            self._deadline(), r.get("magic"))

    def _ledger_order(self, client_order_id: str) -> LedgerOrder:
        with self.conn.cursor(row_factory=dict_row) as cur:
            r = cur.execute(
                "select o.order_id, o.client_order_id, o.instrument_id, o.side, o.order_type, o.quantity,"
                " o.limit_price, o.status, o.filled_quantity, o.broker_order_id, o.created_at, o.stop_loss,"
                " o.take_profit, coalesce(d.request ->> 'symbol', i.symbol) as symbol,"
                " coalesce(d.signal_time, o.created_at) as reference_time"
                " from trading.orders as o join market.instruments as i on i.instrument_id = o.instrument_id"
                " left join trading.dispatches as d on d.client_order_id = o.client_order_id"
                " where o.client_order_id = %s", (client_order_id,),
            ).fetchone()
        return LedgerOrder(**r)

    def _event(self, severity: str, event_type: str, message: str, details: dict[str, Any]) -> None:
        text = self.redact(message)
        log.warning(text)
        with self.conn.transaction():
            self.conn.execute(
                "insert into ops.events (source, event_type, severity, message, details) values (%s, %s, %s, %s, %s::jsonb)",
                ("dispatcher", event_type, severity, text, self.redact(json.dumps(jsonable(details)))),
            )


# =============================================================================================
# Brokers from options

def make_broker(name: str, conn: psycopg.Connection, args: argparse.Namespace, env: Environment) -> Broker:
    if name == "paper":
        from models_py.brokers.paper import PaperBroker

        return PaperBroker(conn, fee_bps=Decimal(str(args.fee_bps)), slippage_bps=Decimal(str(args.slippage_bps)),
                           participation=None if args.participation <= 0 else Decimal(str(args.participation)),
                           limit_ttl=timedelta(hours=args.limit_ttl_hours), initial_cash=Decimal(str(args.paper_cash)))
    from models_py.brokers.mt5 import MT5Broker, MT5RestClient

    if not args.base_url:
        raise ConfigError("--broker mt5 needs --base-url (the MT5 REST bridge)")
    key = env.mt5_key
    if not key and not args.dry_run:
        raise ConfigError("the MT5 bridge key is missing: set the environment variable MT5_API_KEY "
                          "(or put it in the secrets file named by TSQ_SECRETS_FILE)")
    client = MT5RestClient(args.base_url, key, timeout=args.timeout, retries=args.retries,
                           broker_offset_hours=args.broker_offset)
    return MT5Broker(client, magic=args.magic)


# =============================================================================================
# Command line

def _decimal_arg(text: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None


def _time_arg(text: str) -> datetime:
    from loaders.core.config import parse_time

    try:
        return datetime.fromtimestamp(parse_time(text, "--since") / 1e6, tz=timezone.utc)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m models_py.dispatcher",
                                description="Turn actionable trading signals into risk-checked orders at a broker, "
                                            "exactly once.")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--once", action="store_true", help="one pass, then exit (default; for cron)")
    mode.add_argument("--loop", action="store_true", help="a pass every --every seconds until SIGTERM")
    p.add_argument("--every", type=float, default=60.0, help="seconds between passes in --loop (default 60)")
    p.add_argument("--broker", choices=("paper", "mt5"), default="paper", help="where orders go (default paper)")
    p.add_argument("--dry-run", action="store_true", help="decide and record, send nothing (also DRY_RUN=1)")
    p.add_argument("--url", help="database URL (default: DATABASE_URL or the embedded database)")
    p.add_argument("--quiet", action="store_true", help="print only the summary line")
    g = p.add_argument_group("signals")
    g.add_argument("--signals", default=DEFAULT_SIGNALS, help=f"relation to read signals from (default {DEFAULT_SIGNALS})")
    g.add_argument("--strategy", action="append", default=[], help="only this signal source (repeatable)")
    g.add_argument("--symbol", action="append", default=[], help="only this canonical symbol, e.g. BTC/USDT (repeatable)")
    g.add_argument("--since", type=_time_arg, help="replay every signal since this time (UTC) instead of the fresh ones")
    g.add_argument("--max-age-bars", type=float, default=1.0,
                   help="a signal is actionable for this many bars after its close (default 1)")
    g.add_argument("--batch", type=int, default=500, help="signals per pass at most (default 500)")
    g = p.add_argument_group("sizing and orders")
    g.add_argument("--risk-per-trade", type=_decimal_arg, default=Decimal("0.01"), help="fraction of equity (0.01)")
    g.add_argument("--atr-multiple", type=_decimal_arg, default=Decimal(2), help="stop = entry ∓ this × ATR(14) (2)")
    g.add_argument("--stop-pct", type=_decimal_arg, default=Decimal("0.01"), help="stop distance without ATR (0.01)")
    g.add_argument("--reward-risk", type=_decimal_arg, default=Decimal(2), help="take profit in stop distances (2; 0: none)")
    g.add_argument("--order-type", choices=("market", "limit"), default="market", help="entries (default market)")
    g.add_argument("--limit-offset-bps", type=_decimal_arg, default=Decimal(10), help="limit entries inside the price (10)")
    g.add_argument("--long-only", action="store_true", help="SELL signals only close long positions")
    g = p.add_argument_group("sending")
    g.add_argument("--timeout", type=float, default=10.0, help="seconds an order request may take (default 10)")
    g.add_argument("--grace", type=float, default=30.0,
                   help="seconds after a request's deadline before the broker's history is taken as proof (30)")
    g.add_argument("--max-attempts", type=int, default=3, help="sends of one order at most (default 3)")
    g.add_argument("--max-wait", type=float, default=60.0, help="seconds a pass may wait for deadlines/throttling (60)")
    g.add_argument("--retries", type=int, default=3, help="attempts per broker read (default 3)")
    g = p.add_argument_group("MT5")
    g.add_argument("--base-url", help="the MT5 REST bridge (key from MT5_API_KEY or the secrets file)")
    g.add_argument("--broker-offset", type=float, default=0.0, help="broker server time minus UTC, in hours")
    g.add_argument("--magic", type=int, default=7301, help="MT5 magic number of our orders (default 7301)")
    g.add_argument("--map", action="append", default=[], metavar="SYMBOL=BROKER_SYMBOL",
                   help="broker symbol of an instrument, e.g. binance:BTC/USDT=BTCUSD (repeatable)")
    g = p.add_argument_group("paper broker")
    g.add_argument("--paper-cash", type=_decimal_arg, default=Decimal(10_000), help="starting balance (10000)")
    g.add_argument("--fee-bps", type=_decimal_arg, default=Decimal(10), help="fee per fill, bps of notional (10)")
    g.add_argument("--slippage-bps", type=_decimal_arg, default=Decimal(5), help="market order slippage, bps (5)")
    g.add_argument("--participation", type=float, default=0.1,
                   help="limit fills per 1m bar at most this share of its volume (0.1; 0: unlimited)")
    g.add_argument("--limit-ttl-hours", type=float, default=24.0, help="unfilled limit orders expire after (24)")
    return p


def settings_from(args: argparse.Namespace, env: Environment) -> Settings:
    symbol_map = {}
    for item in args.map:
        if "=" not in item:
            raise UserError(f"--map wants SYMBOL=BROKER_SYMBOL (got {item!r})")
        k, v = item.split("=", 1)
        symbol_map[k.strip()] = v.strip()
    if args.batch <= 0 or args.max_attempts <= 0 or args.timeout <= 0:
        raise UserError("--batch, --max-attempts and --timeout must be positive")
    return Settings(
        broker=args.broker, dry_run=args.dry_run or env.dry_run, signals=args.signals,
        strategies=tuple(args.strategy), symbols=tuple(args.symbol), since=args.since,
        max_age_bars=args.max_age_bars, batch=args.batch, risk_per_trade=args.risk_per_trade,
        atr_multiple=args.atr_multiple, stop_pct=args.stop_pct, reward_risk=args.reward_risk,
        order_type=args.order_type, limit_offset_bps=args.limit_offset_bps, long_only=args.long_only,
        request_timeout=args.timeout, grace=args.grace, max_attempts=args.max_attempts, max_wait=args.max_wait,
        magic=args.magic, symbol_map=symbol_map,
    )


def run_once(args: argparse.Namespace, env: Environment, redactor: Redactor) -> int:
    settings = settings_from(args, env)
    args.dry_run = settings.dry_run
    with connect(args.url) as conn:
        broker = make_broker(args.broker, conn, args, env)
        try:
            report = Dispatcher(conn, broker, settings, redactor=redactor).run_pass()
        finally:
            broker.close()
    lines = report.lines()
    for line in lines if not args.quiet else lines[-1:]:
        print(redactor(line))
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    env = Environment.from_os()
    redactor = Redactor([env.mt5_key])
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.loop:
        from loaders.cli import scheduled

        return scheduled(args.every, lambda: run_once(args, env, redactor))
    try:
        return run_once(args, env, redactor)
    except BrokerError as exc:
        print(f"error: {redactor(exc)}", file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(run_main(main))
