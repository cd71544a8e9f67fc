"""MetaTrader 5 through a REST bridge: the seed's `send_order`, the client and the broker adapter.

    client = MT5RestClient("http://bridge:8228", api_key=env.mt5_key)
    send_order("EURUSD", 0.10, "buy", client=client)                  # market
    send_order("EURUSD", 0.10, "sell", price=1.0950, client=client)   # limit
    -> {"success": True, "data": {...the bridge's order_send result...}}
       {"success": False, "error": "one sentence", "outcome": ..., "kind": ..., "retcode": ...}

The bridge contract (docs/loaders.md, "MT5 REST contract", trading part in
docs/scorer-and-dispatch.md) mirrors MetaTrader's `order_send` request and result, `orders_get`,
`positions_get`, `account_info`, `history_orders_get` and `history_deals_get`. MetaTrader has no
idempotency key: every order carries our client order id as its `comment` and the dispatcher's
`magic`, and a `deadline` after which the bridge must not execute it — the broker's history is
then the proof of whether an unacknowledged order exists.

Order creation is one attempt, never retried (loaders.core.http.HttpClient.send_once); reads are
retried like every loader read. Messages never contain the API key (the client redacts it).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from loaders.core.http import HttpClient, HttpError, RateLimiter, RetryPolicy, SourceError
from models_py.brokers.base import (
    ACCEPTED, NOT_SENT, REJECTED, UNKNOWN, Account, BrokerAuthError, BrokerError, BrokerFill, BrokerOrder,
    LedgerOrder, OrderRequest, SendOutcome,
)

# MetaTrader 5 trade server return codes (MqlTradeResult.retcode, REFERENCE.md §6).
RETCODES: dict[int, str] = {
    10004: "REQUOTE", 10006: "REJECT", 10007: "CANCEL", 10008: "PLACED", 10009: "DONE",
    10010: "DONE_PARTIAL", 10011: "ERROR", 10012: "TIMEOUT", 10013: "INVALID", 10014: "INVALID_VOLUME",
    10015: "INVALID_PRICE", 10016: "INVALID_STOPS", 10017: "TRADE_DISABLED", 10018: "MARKET_CLOSED",
    10019: "NO_MONEY", 10020: "PRICE_CHANGED", 10021: "PRICE_OFF", 10022: "INVALID_EXPIRATION",
    10023: "ORDER_CHANGED", 10024: "TOO_MANY_REQUESTS", 10026: "SERVER_DISABLES_AT",
    10027: "CLIENT_DISABLES_AT", 10028: "LOCKED", 10029: "FROZEN", 10030: "INVALID_FILL",
    10031: "CONNECTION", 10032: "ONLY_REAL", 10033: "LIMIT_ORDERS", 10034: "LIMIT_VOLUME",
    10035: "INVALID_ORDER", 10036: "POSITION_CLOSED",
}
#: the order exists at the broker (filled, partly filled, or a pending order placed)
ACCEPTED_RETCODES = frozenset({10008, 10009, 10010})
#: not executed, and it is safe to send the same order again (after a pause)
RESEND_RETCODES = frozenset({10024})
#: the outcome is unknown: the request may have been executed — reconcile with the history
UNKNOWN_RETCODES = frozenset({10011, 10012, 10031})
#: everything else is a definite refusal: the order does not exist and never will (ledger: rejected)

#: history order state (ENUM_ORDER_STATE, without the prefix) -> ledger order status
ORDER_STATES = {
    "STARTED": "submitted", "PLACED": "submitted", "REQUEST_ADD": "submitted", "REQUEST_MODIFY": "submitted",
    "REQUEST_CANCEL": "submitted", "PARTIAL": "partially_filled", "FILLED": "filled", "CANCELED": "cancelled",
    "REJECTED": "rejected", "EXPIRED": "expired",
}
HISTORY_MARGIN = timedelta(days=1)


def retcode_name(retcode: int | None) -> str:
    return RETCODES.get(retcode, "UNKNOWN") if retcode is not None else "none"


def _number(value: Decimal | float | None) -> float | None:
    return None if value is None else float(value)


def _decimal(value: Any) -> Decimal:
    return Decimal(str(value)) if value is not None else Decimal(0)


class MT5RestClient:
    """JSON client of the bridge. `api_key` goes in `X-API-Key` and is redacted from every message;
    times in answers are the broker server's clock, `broker_offset_hours` ahead of UTC."""

    source = "MT5 bridge"

    def __init__(self, base_url: str, api_key: str | None, *, timeout: float = 10.0, retries: int = 3,
                 backoff: float = 0.5, broker_offset_hours: float = 0.0, min_interval: float = 0.0) -> None:
        if not base_url:
            raise ValueError("MT5RestClient needs the bridge's base URL")
        self.timeout = timeout
        self.offset = timedelta(hours=broker_offset_hours)
        self.http = HttpClient(
            base_url, self.source, timeout=timeout, retry=RetryPolicy(attempts=max(1, retries), base_delay=backoff),
            secrets=(api_key,) if api_key else (), headers={"X-API-Key": api_key or ""},
            limiter=RateLimiter(min_interval), user_agent="tsquant-dispatcher/1.0",
        )
        self.redact = self.http.redact

    # -- time -----------------------------------------------------------------------------------
    def to_broker(self, at: datetime) -> int:
        """UTC time -> broker server seconds."""
        return int((at + self.offset).timestamp())

    def from_broker(self, seconds: float, msc: float | None = None) -> datetime:
        """Broker server time (seconds, or milliseconds when given) -> UTC."""
        value = msc / 1000.0 if msc else float(seconds)
        return datetime.fromtimestamp(value, tz=timezone.utc) - self.offset

    # -- reads (retried) ------------------------------------------------------------------------
    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        try:
            return self.http.get_json(path, params=params)
        except HttpError as exc:
            raise self._read_error(exc) from None

    def _read_error(self, exc: HttpError) -> BrokerError:
        if exc.status in (401, 403):
            return BrokerAuthError("the MT5 bridge rejected the API key (set MT5_API_KEY, or the secrets file)")
        return BrokerError(self.redact(str(exc)), kind="network")

    def account(self) -> dict[str, Any]:
        return self.get("/account")

    def orders(self, **filters: Any) -> list[dict[str, Any]]:
        return list(self.get("/orders", {k: v for k, v in filters.items() if v is not None}).get("orders") or [])

    def positions(self, **filters: Any) -> list[dict[str, Any]]:
        return list(self.get("/positions", {k: v for k, v in filters.items() if v is not None}).get("positions") or [])

    def history_orders(self, start: datetime, end: datetime, **filters: Any) -> list[dict[str, Any]]:
        params = {"from": self.to_broker(start), "to": self.to_broker(end),
                  **{k: v for k, v in filters.items() if v is not None}}
        return list(self.get("/history/orders", params).get("orders") or [])

    def history_deals(self, start: datetime, end: datetime, **filters: Any) -> list[dict[str, Any]]:
        params = {"from": self.to_broker(start), "to": self.to_broker(end),
                  **{k: v for k, v in filters.items() if v is not None}}
        return list(self.get("/history/deals", params).get("deals") or [])

    # -- order creation (one attempt) -----------------------------------------------------------
    def order_send(self, request: dict[str, Any]) -> SendOutcome:
        """POST /orders once; what the answer (or its absence) establishes about the order."""
        try:
            body = self.http.send_once("/orders", request)
        except SourceError as exc:   # a 4xx answer: the bridge refused before doing anything
            if exc.status in (401, 403):
                return SendOutcome(NOT_SENT, "the MT5 bridge rejected the API key (set MT5_API_KEY, or the secrets "
                                   "file); the order was not sent", kind="auth")
            if exc.status == 429:
                return SendOutcome(NOT_SENT, self.redact(f"the MT5 bridge is throttling requests: {exc}"),
                                   kind="throttled", retry_after=exc.retry_after)
            return SendOutcome(REJECTED, self.redact(f"the MT5 bridge refused the order: {exc}"), kind="rejected")
        except HttpError as exc:
            if exc.status == 429:
                return SendOutcome(NOT_SENT, self.redact(f"the MT5 bridge is throttling requests: {exc}"),
                                   kind="throttled", retry_after=exc.retry_after)
            kind = "timeout" if exc.status is None and "no response" in str(exc) else (
                "bad_response" if exc.status is not None and exc.status < 500 else "network")
            return SendOutcome(UNKNOWN, self.redact(f"no usable answer to the order, it may have been executed: {exc}"),
                               kind=kind)
        return self._outcome(body)

    def _outcome(self, body: Any) -> SendOutcome:
        if not isinstance(body, dict) or not isinstance(body.get("retcode"), int):
            return SendOutcome(UNKNOWN, "the MT5 bridge answered without a retcode: the order may have been executed",
                               kind="bad_response", data=body if isinstance(body, dict) else None)
        retcode = body["retcode"]
        name = retcode_name(retcode)
        comment = str(body.get("comment") or "").strip()
        said = f"{retcode} {name}" + (f" ({self.redact(comment)})" if comment else "")
        ticket = body.get("order")
        if retcode in ACCEPTED_RETCODES and ticket:
            return SendOutcome(ACCEPTED, f"accepted: {said}", broker_order_id=str(ticket), retcode=retcode, data=body)
        if retcode in RESEND_RETCODES:
            return SendOutcome(NOT_SENT, f"the trade server is throttling: {said}", retcode=retcode, kind="throttled",
                               retry_after=1.0, data=body)
        if retcode in UNKNOWN_RETCODES or retcode in ACCEPTED_RETCODES or retcode not in RETCODES:
            return SendOutcome(UNKNOWN, f"the outcome is unknown: {said}", retcode=retcode, kind="timeout"
                               if retcode == 10012 else "network", data=body)
        return SendOutcome(REJECTED, f"MT5 rejected the order: {said}", retcode=retcode, kind="rejected", data=body)

    def close(self) -> None:
        self.http.close()


def order_body(symbol: str, volume: Decimal | float, order_type: str, price: Decimal | float | None = None, *,
               sl: Decimal | float | None = None, tp: Decimal | float | None = None, comment: str | None = None,
               magic: int | None = None, deadline: datetime | None = None, deviation: int = 20) -> dict[str, Any]:
    """The order_send request of the contract: a market deal, or a pending limit order when a
    price is given."""
    side = str(order_type).lower()
    if side not in ("buy", "sell"):
        raise ValueError(f"order_type must be 'buy' or 'sell' (got {order_type!r})")
    if volume is None or Decimal(str(volume)) <= 0:
        raise ValueError(f"volume must be positive (got {volume!r})")
    if price is not None and Decimal(str(price)) <= 0:
        raise ValueError(f"price must be positive (got {price!r})")
    body: dict[str, Any] = {
        "action": "DEAL" if price is None else "PENDING",
        "symbol": symbol,
        "volume": _number(Decimal(str(volume))),
        "type": side.upper() if price is None else f"{side.upper()}_LIMIT",
        "deviation": deviation,
        "type_filling": "IOC" if price is None else "RETURN",
        "type_time": "GTC",
    }
    for key, value in (("price", price), ("sl", sl), ("tp", tp)):
        if value is not None:
            body[key] = _number(Decimal(str(value)))
    if magic is not None:
        body["magic"] = int(magic)
    if comment:
        if len(comment) > 31:
            raise ValueError("MT5 keeps at most 31 characters of an order comment")
        body["comment"] = comment
    if deadline is not None:
        body["deadline"] = round(deadline.timestamp(), 3)
    return body


def send_order(symbol: str, volume: float, order_type: str, price: float | None = None,
               client: MT5RestClient | None = None, **options: Any) -> dict[str, Any]:
    """The seed's order function: a market order (price None) or a limit order at `price`.
    Returns {"success": True, "data": result} or {"success": False, "error": sentence, …}; never
    raises for network, authentication or broker errors. ValueError without a client (or with a
    bad volume, side or price). Options: sl, tp, comment, magic, deadline, deviation."""
    if client is None:
        raise ValueError("send_order needs a client: MT5RestClient(base_url, api_key)")
    return client.order_send(order_body(symbol, volume, order_type, price, **options)).result()


class MT5Broker:
    """The dispatcher's MT5 adapter (a netting account): orders tagged with our client id as
    comment and our magic; the bridge's history is the proof of what exists."""

    name = "mt5"
    transactional = False

    def __init__(self, client: MT5RestClient, *, magic: int = 7301, deviation: int = 20,
                 now=lambda: datetime.now(timezone.utc)) -> None:
        self.client = client
        self.magic = magic
        self.deviation = deviation
        self.now = now

    def account(self) -> Account:
        info = self.client.account()
        try:
            balance, equity = _decimal(info["balance"]), _decimal(info["equity"])
        except (KeyError, TypeError, ArithmeticError):
            raise BrokerError("the MT5 bridge's /account answer has no balance and equity",
                              kind="bad_response") from None
        details = {k: info[k] for k in ("currency", "leverage", "margin_free", "margin_level") if k in info}
        margin = info.get("margin")
        return Account(balance, equity, None if margin is None else _decimal(margin), {"broker": "mt5", **details})

    def request_body(self, request: OrderRequest) -> dict[str, Any]:
        return order_body(request.symbol, request.quantity, request.side,
                          request.limit_price if request.order_type == "limit" else None,
                          sl=request.stop_loss, tp=request.take_profit, comment=request.client_order_id,
                          magic=self.magic if request.magic is None else request.magic, deadline=request.deadline,
                          deviation=self.deviation)

    def send(self, request: OrderRequest) -> SendOutcome:
        return self.client.order_send(self.request_body(request))

    # -- what the broker has --------------------------------------------------------------------
    def _window(self, order: LedgerOrder) -> tuple[datetime, datetime]:
        return order.created_at - HISTORY_MARGIN, self.now() + HISTORY_MARGIN

    def _ours(self, record: dict[str, Any], order: LedgerOrder) -> bool:
        return record.get("comment") == order.client_order_id and int(record.get("magic") or 0) == self.magic

    def find(self, order: LedgerOrder) -> BrokerOrder | None:
        """Our order at the broker by its comment (client id) and magic: open orders first, then
        the history. None: the broker has no such order."""
        start, end = self._window(order)
        matches = [o for o in self.client.orders(comment=order.client_order_id, magic=self.magic) if self._ours(o, order)]
        matches += [o for o in self.client.history_orders(start, end, comment=order.client_order_id, magic=self.magic)
                    if self._ours(o, order)]
        if not matches:
            return None
        tickets = {str(o.get("ticket")) for o in matches}
        if len(tickets) > 1:
            raise BrokerError(f"the broker holds {len(tickets)} orders with client id {order.client_order_id} "
                              f"(tickets {', '.join(sorted(tickets))}): a person must look at them", kind="duplicate")
        return self._broker_order(matches[0], order, fills=[])

    def sync(self, order: LedgerOrder) -> BrokerOrder | None:
        """The state and executions of an acknowledged order (by its ticket)."""
        if not order.broker_order_id:
            return self.find(order)
        start, end = self._window(order)
        ticket = order.broker_order_id
        deals = [d for d in self.client.history_deals(start, end, order=ticket) if str(d.get("order")) == ticket]
        fills = [self._fill(d) for d in deals]
        if sum((f.quantity for f in fills), Decimal(0)) == order.quantity:   # filled: no need to ask more
            return BrokerOrder(ticket, order.client_order_id, "filled", order.quantity, "MT5 order state FILLED", fills)
        record = next((o for o in self.client.history_orders(start, end, ticket=ticket)
                       if str(o.get("ticket")) == ticket), None)
        if record is None:
            record = next((o for o in self.client.orders(ticket=ticket) if str(o.get("ticket")) == ticket), None)
        if record is None:
            return None
        return self._broker_order(record, order, fills=fills)

    def _broker_order(self, record: dict[str, Any], order: LedgerOrder, fills: list[BrokerFill]) -> BrokerOrder:
        state = str(record.get("state") or "PLACED").upper().removeprefix("ORDER_STATE_")
        status = ORDER_STATES.get(state, "submitted")
        return BrokerOrder(str(record.get("ticket")), record.get("comment"), status,
                           _decimal(record.get("volume_initial", order.quantity)),
                           reason=f"MT5 order state {state}", fills=fills)

    def _fill(self, deal: dict[str, Any]) -> BrokerFill:
        charges = _decimal(deal.get("commission")) + _decimal(deal.get("fee"))
        return BrokerFill(str(deal["ticket"]), _decimal(deal["volume"]), _decimal(deal["price"]),
                          max(Decimal(0), -charges), self.client.from_broker(deal.get("time", 0), deal.get("time_msc")))

    def close(self) -> None:
        self.client.close()
