"""What the dispatcher needs from a broker, in the broker's own terms turned into the ledger's.

A broker adapter (paper.py, mt5.py) answers four questions:

- `account()`      balance and equity now (they feed trading.portfolio_snapshots);
- `send(request)`  place one order, exactly one attempt, and say what is known about it:
                   `accepted` (the broker has it), `rejected` (it does not and never will),
                   `not_sent` (it certainly did not execute: auth failure, throttled — may be sent
                   again), or `unknown` (it may have executed: timeout, 5xx, bad answer);
- `find(order)`    the broker's record of an order we may have sent, by client id (comment/magic),
                   or None — which means "not there" only once the request's deadline has passed
                   (a transactional broker, the paper one, knows at once);
- `sync(order)`    the broker's state of an order it has, and its executions.

Results are plain data with a `result()` in the seed's shape: {"success": True, "data": …} or
{"success": False, "error": "one sentence"}. Messages never hold a secret.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

ACCEPTED, REJECTED, NOT_SENT, UNKNOWN = "accepted", "rejected", "not_sent", "unknown"


class BrokerError(RuntimeError):
    """A broker read failed (network, bridge down, bad answer): the pass stops, exit 1."""

    exit_code = 1

    def __init__(self, message: str, *, kind: str = "network") -> None:
        super().__init__(message)
        self.kind = kind


class BrokerAuthError(BrokerError):
    """The broker refused our credentials: nothing can be sent until a person fixes them."""

    def __init__(self, message: str) -> None:
        super().__init__(message, kind="auth")


def jsonable(value: Any) -> Any:
    """Decimals and datetimes as JSON-friendly text/numbers (exact decimals as strings)."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


@dataclass(frozen=True)
class OrderRequest:
    """One order as it leaves for the broker."""

    client_order_id: str
    symbol: str                      # the broker's symbol
    side: str                        # buy | sell
    quantity: Decimal
    order_type: str = "market"       # market | limit
    limit_price: Decimal | None = None
    stop_loss: Decimal | None = None
    take_profit: Decimal | None = None
    deadline: datetime | None = None  # the broker must not execute the request after this
    magic: int | None = None

    def as_json(self) -> dict[str, Any]:
        return jsonable(asdict(self))


@dataclass
class SendOutcome:
    """What one send attempt established."""

    outcome: str                     # accepted | rejected | not_sent | unknown
    message: str
    broker_order_id: str | None = None
    retcode: int | None = None
    retry_after: float | None = None  # not_sent because throttled: wait this long first
    kind: str = ""                   # auth | throttled | network | timeout | rejected | bad_response
    data: dict[str, Any] | None = None

    @property
    def success(self) -> bool:
        return self.outcome == ACCEPTED

    def result(self) -> dict[str, Any]:
        """The seed's structured result."""
        if self.success:
            return {"success": True, "data": self.data or {}}
        return {"success": False, "error": self.message, "outcome": self.outcome, "kind": self.kind,
                **({"retcode": self.retcode} if self.retcode is not None else {})}

    def as_json(self) -> dict[str, Any]:
        return jsonable({"outcome": self.outcome, "message": self.message, "broker_order_id": self.broker_order_id,
                         "retcode": self.retcode, "kind": self.kind, "data": self.data})


@dataclass
class BrokerFill:
    """One execution at the broker."""

    broker_fill_id: str
    quantity: Decimal
    price: Decimal
    fee: Decimal
    filled_at: datetime


@dataclass
class BrokerOrder:
    """The broker's record of one of our orders."""

    broker_order_id: str
    client_order_id: str | None
    status: str                      # submitted | partially_filled | filled | cancelled | rejected | expired
    quantity: Decimal
    reason: str = ""
    fills: list[BrokerFill] = field(default_factory=list)


@dataclass
class Account:
    balance: Decimal
    equity: Decimal
    margin_used: Decimal | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class LedgerOrder:
    """An order of the ledger as the brokers see it (trading.orders + its dispatch)."""

    order_id: int
    client_order_id: str
    instrument_id: int
    symbol: str                      # the broker's symbol
    side: str
    order_type: str
    quantity: Decimal
    limit_price: Decimal | None
    status: str
    filled_quantity: Decimal
    broker_order_id: str | None
    created_at: datetime
    reference_time: datetime         # signal time (fills come at or after it)
    stop_loss: Decimal | None = None
    take_profit: Decimal | None = None


class Broker(Protocol):
    name: str
    transactional: bool              # True: find() is definitive at once (no request in flight)

    def account(self) -> Account: ...

    def send(self, request: OrderRequest) -> SendOutcome: ...

    def find(self, order: LedgerOrder) -> BrokerOrder | None: ...

    def sync(self, order: LedgerOrder) -> BrokerOrder | None: ...

    def close(self) -> None: ...
