"""A fake MT5 REST bridge with a trading account (netting), for the dispatcher's tests and demos.

It serves the trading part of the contract (docs/scorer-and-dispatch.md) on the project's fake
HTTP server (loaders/fakes/server.py), behind `X-API-Key`:

    POST /orders            order_send: a DEAL fills at once at the ask (buy) / bid (sell); a
                            PENDING BUY_LIMIT/SELL_LIMIT waits until the price reaches it
    GET  /orders            open (pending) orders          GET /positions   open positions
    GET  /account           balance, equity, margin         GET /time        broker time
    GET  /history/orders    finished orders (from, to, ticket, comment, magic filters)
    GET  /history/deals     executions (from, to, order, position filters)

Realistic refusals: a request after its `deadline` (retcode 10012, not executed), volume off the
step or range (10014), a limit on the wrong side of the market or off the tick (10015), stops on
the wrong side (10016), market closed (10018), not enough free margin (10019), a wrong key (HTTP
401), unknown symbol (HTTP 404), throttling (`throttle()`: HTTP 429 with Retry-After; or retcode
10024). `script()` queues what the next order requests meet: a retcode, a partial fill, a slow
answer that executes (or not) before it comes, a 5xx, a malformed body. `on_executed` is called
after an order executed and before the answer is written (the exactly-once test kills the
dispatcher there). State survives as long as the object: a restarted dispatcher sees it.

Times are broker server time: UTC + `broker_offset_hours`.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from loaders.fakes.server import FakeServer, Reply, Request


@dataclass
class SymbolSpec:
    bid: Decimal
    ask: Decimal
    tick_size: Decimal = Decimal("0.01")
    contract_size: Decimal = Decimal(1)
    volume_min: Decimal = Decimal("0.01")
    volume_step: Decimal = Decimal("0.01")
    volume_max: Decimal = Decimal(1000)
    trade_allowed: bool = True


@dataclass
class Script:
    """What one order request meets (see FakeBridge.script)."""

    retcode: int | None = None          # answer this retcode without executing
    fill_ratio: Decimal | None = None   # execute only this part (DONE_PARTIAL, the rest cancelled)
    delay: float = 0.0                  # wait before answering
    execute: bool = True                # with delay/status/malformed: execute the order first or not
    status: int | None = None           # answer this HTTP status (e.g. 500) instead of a result
    malformed: bool = False             # answer 200 with a body that is not JSON


def _d(value: Any) -> Decimal:
    return Decimal(str(value))


def _f(value: Decimal) -> float:
    return float(value)


@dataclass
class FakeBridge:
    symbols: dict[str, SymbolSpec]
    api_key: str
    balance: Decimal = Decimal(100_000)
    leverage: int = 100
    commission_per_lot: Decimal = Decimal(0)
    broker_offset_hours: float = 0.0
    on_executed: Callable[[dict[str, Any]], None] | None = None
    clock: Callable[[], float] = time.time
    open_orders: dict[int, dict[str, Any]] = field(default_factory=dict)
    history: dict[int, dict[str, Any]] = field(default_factory=dict)
    deals: list[dict[str, Any]] = field(default_factory=list)
    positions: dict[str, dict[str, Any]] = field(default_factory=dict)
    order_requests: int = 0

    def __post_init__(self) -> None:
        self.symbols = {k: v for k, v in self.symbols.items()}
        self._lock = threading.RLock()
        self._tickets = itertools.count(5_000_001)
        self._deal_ids = itertools.count(9_000_001)
        self._scripts: deque[Script] = deque()
        self._throttle: deque[float] = deque()
        self.server = self._build_server()

    # -- test controls --------------------------------------------------------------------------
    def script(self, *scripts: Script) -> None:
        """The next order requests meet these, one each, in order."""
        with self._lock:
            self._scripts.extend(scripts)

    def throttle(self, times: int = 1, retry_after: float = 0.2) -> None:
        """The next `times` order requests get HTTP 429 with Retry-After (nothing executed)."""
        with self._lock:
            self._throttle.extend([retry_after] * times)

    def set_price(self, symbol: str, bid: Decimal | float | str, ask: Decimal | float | str) -> None:
        """Move the market; pending limit orders the new price reaches are filled."""
        with self._lock:
            spec = self.symbols[symbol]
            spec.bid, spec.ask = _d(bid), _d(ask)
            for ticket, order in list(self.open_orders.items()):
                if order["symbol"] != symbol:
                    continue
                limit = _d(order["price_open"])
                buy = order["type"] == "BUY_LIMIT"
                if (buy and spec.ask <= limit) or (not buy and spec.bid >= limit):
                    self._execute(order, _d(order["volume_current"]), limit)
                    order["volume_current"] = 0.0
                    order["state"] = "FILLED"
                    order["time_done"] = self._now()
                    self.history[ticket] = self.open_orders.pop(ticket)

    def all_orders(self) -> list[dict[str, Any]]:
        """Every order the broker ever accepted or refused after execution checks (open and history)."""
        with self._lock:
            return [dict(o) for o in [*self.history.values(), *self.open_orders.values()]]

    def start(self) -> "FakeBridge":
        self.server.start()
        # a client killed mid-request resets its connection: expected here, not worth a traceback
        self.server._httpd.handle_error = lambda request, client_address: None
        return self

    def stop(self) -> None:
        self.server.stop()

    @property
    def url(self) -> str:
        return self.server.url

    def __enter__(self) -> "FakeBridge":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # -- money ----------------------------------------------------------------------------------
    def _now(self) -> int:
        return int(self.clock() + self.broker_offset_hours * 3600)

    def _floating(self) -> Decimal:
        total = Decimal(0)
        for p in self.positions.values():
            spec = self.symbols[p["symbol"]]
            volume, price = _d(p["volume"]), _d(p["price_open"])
            if p["type"] == "BUY":
                total += (spec.bid - price) * volume * spec.contract_size
            else:
                total += (price - spec.ask) * volume * spec.contract_size
        return total

    def _margin(self) -> Decimal:
        return sum((_d(p["volume"]) * self.symbols[p["symbol"]].contract_size * _d(p["price_open"])
                    / self.leverage for p in self.positions.values()), Decimal(0))

    def account_info(self) -> dict[str, Any]:
        with self._lock:
            equity = self.balance + self._floating()
            margin = self._margin()
            return {"currency": "USD", "leverage": self.leverage, "balance": _f(self.balance), "equity": _f(equity),
                    "margin": _f(margin), "margin_free": _f(equity - margin),
                    "margin_level": _f(equity / margin * 100) if margin else 0.0}

    def _execute(self, order: dict[str, Any], volume: Decimal, price: Decimal) -> dict[str, Any]:
        """One deal of `volume` at `price` for `order`, applied to the netting position and the balance."""
        symbol = order["symbol"]
        spec = self.symbols[symbol]
        side = "BUY" if order["type"].startswith("BUY") else "SELL"
        sign = 1 if side == "BUY" else -1
        pos = self.positions.get(symbol)
        held = Decimal(0) if pos is None else _d(pos["volume"]) * (1 if pos["type"] == "BUY" else -1)
        closing = min(volume, abs(held)) if held and (held > 0) != (sign > 0) else Decimal(0)
        profit = Decimal(0)
        if closing:
            profit = (price - _d(pos["price_open"])) * closing * spec.contract_size * (1 if held > 0 else -1)
        commission = -(self.commission_per_lot * volume)
        self.balance += profit + commission
        new = held + sign * volume
        if new == 0:
            self.positions.pop(symbol, None)
            entry = "OUT"
        elif pos is None or (held > 0) != (new > 0):
            self.positions[symbol] = {"ticket": order["ticket"], "symbol": symbol, "type": "BUY" if new > 0 else "SELL",
                                      "volume": _f(abs(new)), "price_open": _f(price), "magic": order["magic"],
                                      "comment": order["comment"], "time": self._now(), "sl": order.get("sl"),
                                      "tp": order.get("tp"), "swap": 0.0, "profit": 0.0}
            entry = "IN" if pos is None else "INOUT"
        else:
            if abs(new) > abs(held):   # adding: average the open price
                pos["price_open"] = _f((abs(held) * _d(pos["price_open"]) + volume * price) / abs(new))
            pos["volume"] = _f(abs(new))
            entry = "IN" if abs(new) > abs(held) else "OUT"
        now = self.clock()
        deal = {"ticket": next(self._deal_ids), "order": order["ticket"], "position_id": order["ticket"],
                "symbol": symbol, "type": side, "entry": entry, "volume": _f(volume), "price": _f(price),
                "commission": _f(commission), "swap": 0.0, "fee": 0.0, "profit": _f(profit),
                "magic": order["magic"], "comment": order["comment"],
                "time": int(now + self.broker_offset_hours * 3600),
                "time_msc": int((now + self.broker_offset_hours * 3600) * 1000)}
        self.deals.append(deal)
        return deal

    # -- order_send -----------------------------------------------------------------------------
    def _check(self, body: dict[str, Any]) -> tuple[int, str] | None:
        spec = self.symbols[body["symbol"]]
        volume = _d(body["volume"])
        if (volume < spec.volume_min or volume > spec.volume_max
                or (volume - spec.volume_min) % spec.volume_step != 0):
            return 10014, "Invalid volume"
        if not spec.trade_allowed:
            return 10018, "Market closed"
        buy = body["type"].startswith("BUY")
        pending = body["action"] == "PENDING"
        price = _d(body["price"]) if pending else (spec.ask if buy else spec.bid)
        if pending and (price % spec.tick_size != 0 or (buy and price >= spec.ask) or (not buy and price <= spec.bid)):
            return 10015, "Invalid price"
        sl, tp = body.get("sl"), body.get("tp")
        if (sl is not None and ((buy and _d(sl) >= price) or (not buy and _d(sl) <= price))) or \
                (tp is not None and ((buy and _d(tp) <= price) or (not buy and _d(tp) >= price))):
            return 10016, "Invalid stops"
        equity = self.balance + self._floating()
        needed = volume * spec.contract_size * price / self.leverage
        pos = self.positions.get(body["symbol"])
        reduces = pos is not None and (pos["type"] == "BUY") != buy and _d(pos["volume"]) >= volume
        if not reduces and needed > equity - self._margin():
            return 10019, "No money"
        return None

    def order_send(self, body: dict[str, Any], script: Script | None) -> tuple[dict[str, Any] | None, Reply | None]:
        """(result, None) or (None, a non-result reply). Executes unless refused."""
        with self._lock:
            self.order_requests += 1
            if body.get("symbol") not in self.symbols:
                return None, Reply(404, {"error": {"code": "UNKNOWN_SYMBOL", "message": "symbol not found"}})
            for key in ("action", "volume", "type"):
                if key not in body:
                    return None, Reply(400, {"error": {"code": "BAD_REQUEST", "message": f"missing {key}"}})
            base = {"request_id": self.order_requests, "deal": 0, "order": 0, "volume": 0.0, "price": 0.0,
                    "bid": _f(self.symbols[body["symbol"]].bid), "ask": _f(self.symbols[body["symbol"]].ask)}
            deadline = body.get("deadline")
            if deadline is not None and self.clock() > float(deadline):
                return {**base, "retcode": 10012, "comment": "request deadline passed: not executed"}, None
            if script is not None and script.retcode is not None:
                return {**base, "retcode": script.retcode, "comment": "scripted"}, None
            refused = self._check(body)
            if refused:
                return {**base, "retcode": refused[0], "comment": refused[1]}, None
            spec = self.symbols[body["symbol"]]
            buy = body["type"].startswith("BUY")
            ticket = next(self._tickets)
            volume = _d(body["volume"])
            order = {"ticket": ticket, "symbol": body["symbol"], "type": body["type"], "state": "PLACED",
                     "volume_initial": _f(volume), "volume_current": _f(volume), "price_open": 0.0,
                     "sl": body.get("sl"), "tp": body.get("tp"), "magic": int(body.get("magic") or 0),
                     "comment": str(body.get("comment") or "")[:31], "time_setup": self._now(), "time_done": None}
            if body["action"] == "PENDING":
                order["price_open"] = _f(_d(body["price"]))
                self.open_orders[ticket] = order
                result = {**base, "retcode": 10008, "order": ticket, "volume": _f(volume),
                          "price": order["price_open"], "comment": "Request placed"}
            else:
                price = spec.ask if buy else spec.bid
                order["price_open"] = _f(price)
                fill = volume
                if script is not None and script.fill_ratio is not None:
                    fill = ((volume * script.fill_ratio) / spec.volume_step).to_integral_value(ROUND_FLOOR) \
                        * spec.volume_step
                deal = self._execute(order, fill, price) if fill > 0 else {"ticket": 0}
                order["volume_current"] = _f(volume - fill)
                order["state"] = "FILLED" if fill == volume else "CANCELED"
                order["time_done"] = self._now()
                self.history[ticket] = order
                result = {**base, "retcode": 10009 if fill == volume else 10010, "order": ticket,
                          "deal": deal["ticket"], "volume": _f(fill), "price": _f(price),
                          "comment": "Request executed" if fill == volume else "Request executed partially"}
        if self.on_executed is not None:
            self.on_executed(dict(order))
        return result, None

    # -- HTTP -----------------------------------------------------------------------------------
    def _build_server(self) -> FakeServer:
        srv = FakeServer("mt5-bridge")

        def guarded(handler: Callable[[Request], Reply]) -> Callable[[Request], Reply]:
            def run(req: Request) -> Reply:
                if req.headers.get("X-API-Key") != self.api_key:
                    return Reply(401, {"error": {"code": "UNAUTHORIZED", "message": "invalid API key"}})
                return handler(req)
            return run

        def post_order(req: Request) -> Reply:
            with self._lock:
                if self._throttle:
                    wait = self._throttle.popleft()
                    return Reply(429, {"error": {"code": "TOO_MANY_REQUESTS", "message": "slow down"}},
                                 {"Retry-After": f"{wait:g}"})
                script = self._scripts.popleft() if self._scripts else None
            body = req.json()
            if not isinstance(body, dict):
                return Reply(400, {"error": {"code": "BAD_REQUEST", "message": "a JSON object is expected"}})
            executes = script is None or script.execute or not (script.delay or script.status or script.malformed)
            result, other = self.order_send(body, script) if executes else (None, None)
            if script is not None and (script.status or script.malformed):
                reply = Reply(script.status or 200, b'{"retcode": 100' if script.malformed else "<html>bridge error</html>")
            elif other is not None:
                reply = other
            elif result is None:   # a slow answer that never executed the order: the bridge lost it
                reply = Reply(503, {"error": {"code": "TERMINAL_BUSY", "message": "request dropped"}})
            else:
                reply = Reply(body=result)
            if script is not None and script.delay:
                reply.delay = script.delay
            return reply

        def filtered(records: list[dict[str, Any]], req: Request, keys: dict[str, str]) -> list[dict[str, Any]]:
            out = records
            for param, key in keys.items():
                value = req.arg(param)
                if value is not None:
                    out = [r for r in out if str(r.get(key)) == value]
            return out

        def in_window(records: list[dict[str, Any]], req: Request, time_key: str) -> list[dict[str, Any]]:
            start, end = req.arg("from", None, int), req.arg("to", None, int)
            return [r for r in records if (start is None or (r.get(time_key) or 0) >= start)
                    and (end is None or (r.get(time_key) or 0) <= end)]

        def get_orders(req: Request) -> Reply:
            with self._lock:
                rows = [dict(o) for o in self.open_orders.values()]
            return Reply(body={"orders": filtered(rows, req, {"ticket": "ticket", "symbol": "symbol",
                                                              "comment": "comment", "magic": "magic"})})

        def get_positions(req: Request) -> Reply:
            with self._lock:
                rows = []
                for p in self.positions.values():
                    spec = self.symbols[p["symbol"]]
                    mark = spec.bid if p["type"] == "BUY" else spec.ask
                    sign = 1 if p["type"] == "BUY" else -1
                    rows.append({**p, "price_current": _f(mark), "profit": _f(
                        (mark - _d(p["price_open"])) * _d(p["volume"]) * spec.contract_size * sign)})
            return Reply(body={"positions": filtered(rows, req, {"symbol": "symbol", "magic": "magic"})})

        def history_orders(req: Request) -> Reply:
            with self._lock:
                rows = [dict(o) for o in self.history.values()]
            rows = in_window(filtered(rows, req, {"ticket": "ticket", "comment": "comment", "magic": "magic"}),
                             req, "time_setup")
            return Reply(body={"orders": sorted(rows, key=lambda o: o["ticket"])})

        def history_deals(req: Request) -> Reply:
            with self._lock:
                rows = [dict(d) for d in self.deals]
            rows = in_window(filtered(rows, req, {"order": "order", "position": "position_id"}), req, "time")
            return Reply(body={"deals": rows})

        srv.route("GET", "/time", guarded(lambda req: Reply(body={"time": self._now()})))
        srv.route("GET", "/account", guarded(lambda req: Reply(body=self.account_info())))
        srv.route("POST", "/orders", guarded(post_order))
        srv.route("GET", "/orders", guarded(get_orders))
        srv.route("GET", "/positions", guarded(get_positions))
        srv.route("GET", "/history/orders", guarded(history_orders))
        srv.route("GET", "/history/deals", guarded(history_deals))
        return srv
