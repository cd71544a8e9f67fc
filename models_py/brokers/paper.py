"""The paper broker: orders fill against the stored market data, inside the database.

- **Market orders** fill completely at the first price at or after the order's reference time
  (the signal's time: when it could first be acted on): the open of the first 1m candle that
  starts then or later, or a quote (ask for a buy, bid for a sell) if one comes first — in live
  operation that is the next bar's open or the latest quote. Slippage moves the price against
  the order: buy × (1 + slippage), sell × (1 − slippage).
- **Limit orders** fill on the 1m candles from the reference time on whose range reaches the
  limit (low ≤ limit for a buy, high ≥ limit for a sell), at the limit or the bar's open when
  that is better; each bar fills at most `participation` × the bar's volume (floored to the
  volume step), so a large order fills partly over several bars. What is left `limit_ttl` after
  the reference time expires.
- **Fees**: `fee_bps` of each fill's notional (quantity × price × contract size).
- **Account**: balance = the latest portfolio snapshot's balance (`initial_cash` before the
  first), equity = balance + the open positions marked at the latest closes.

The simulation is a pure function of the order and the candles, so it is replayed on every sync;
each simulated fill has a stable id (`paper:bar:<time>`) and trading.record_fill records it once.
The broker is transactional: it holds nothing outside the ledger, so an order is at the paper
broker exactly when the ledger says it was acknowledged.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import ROUND_FLOOR, Decimal

import psycopg

from models_py.brokers.base import ACCEPTED, Account, BrokerFill, BrokerOrder, LedgerOrder, OrderRequest, SendOutcome

BPS = Decimal(10_000)


def _dec(value: object) -> Decimal:
    return Decimal(str(value))


class PaperBroker:
    name = "paper"
    transactional = True

    def __init__(self, conn: psycopg.Connection, *, fee_bps: Decimal = Decimal(10), slippage_bps: Decimal = Decimal(5),
                 participation: Decimal | None = Decimal("0.1"), limit_ttl: timedelta = timedelta(days=1),
                 initial_cash: Decimal = Decimal(10_000), now=lambda: datetime.now(timezone.utc)) -> None:
        self.conn = conn
        self.fee_rate = Decimal(fee_bps) / BPS
        self.slippage = Decimal(slippage_bps) / BPS
        self.participation = participation
        self.limit_ttl = limit_ttl
        self.initial_cash = Decimal(initial_cash)
        self.now = now

    # -- account --------------------------------------------------------------------------------
    def account(self) -> Account:
        row = self.conn.execute(
            "select balance from trading.portfolio_snapshots order by taken_at desc, snapshot_id desc limit 1"
        ).fetchone()
        balance = self.initial_cash if row is None else row[0]
        unrealized = self.conn.execute("select trading.unrealized_pnl()").fetchone()[0]
        return Account(balance, balance + unrealized, None, {"broker": "paper"})

    # -- orders ---------------------------------------------------------------------------------
    def send(self, request: OrderRequest) -> SendOutcome:
        return SendOutcome(ACCEPTED, "accepted by the paper broker", broker_order_id=f"paper-{request.client_order_id}",
                           data={"broker_order_id": f"paper-{request.client_order_id}"})

    def find(self, order: LedgerOrder) -> BrokerOrder | None:
        if order.status == "new":
            return None  # the paper broker only has what the ledger acknowledged
        return BrokerOrder(order.broker_order_id or f"paper-{order.client_order_id}", order.client_order_id,
                           order.status, order.quantity)

    def sync(self, order: LedgerOrder) -> BrokerOrder:
        specs = self.conn.execute(
            "select coalesce(contract_size, 1), volume_step from market.instrument_trading_specs where instrument_id = %s",
            (order.instrument_id,),
        ).fetchone()
        contract, step = (Decimal(1), None) if specs is None else specs
        if order.order_type == "limit":
            fills, done = self._limit_fills(order, step)
        else:
            fills, done = self._market_fills(order)
        for fill in fills:
            fill.fee = fill.quantity * fill.price * contract * self.fee_rate
        filled = sum((f.quantity for f in fills), Decimal(0))
        if filled == order.quantity:
            status = "filled"
        elif done:
            status = "expired"
        else:
            status = "partially_filled" if filled else "submitted"
        reason = f"paper: {filled} of {order.quantity} filled" + (
            f", the rest expired after {self.limit_ttl}" if status == "expired" else "")
        return BrokerOrder(order.broker_order_id or f"paper-{order.client_order_id}", order.client_order_id, status,
                           order.quantity, reason=reason, fills=fills)

    def _market_fills(self, order: LedgerOrder) -> tuple[list[BrokerFill], bool]:
        bar = self.conn.execute(
            "select open_time, open from market.candles_1m where instrument_id = %s and open_time >= %s"
            " order by open_time limit 1",
            (order.instrument_id, order.reference_time),
        ).fetchone()
        quote = self.conn.execute(
            "select time, ask, bid from market.quotes where instrument_id = %s and time >= %s"
            " and (%s::timestamptz is null or time < %s) order by time limit 1",
            (order.instrument_id, order.reference_time, None if bar is None else bar[0], None if bar is None else bar[0]),
        ).fetchone()
        buy = order.side == "buy"
        if quote is not None:
            at, price, fill_id = quote[0], _dec(quote[1] if buy else quote[2]), f"paper:quote:{quote[0].isoformat()}"
        elif bar is not None:
            at, price, fill_id = bar[0], _dec(bar[1]), f"paper:bar:{bar[0].isoformat()}"
        else:
            return [], False
        price = price * (1 + self.slippage) if buy else price * (1 - self.slippage)
        return [BrokerFill(fill_id, order.quantity, price, Decimal(0), at)], True

    def _limit_fills(self, order: LedgerOrder, step: Decimal | None) -> tuple[list[BrokerFill], bool]:
        end = order.reference_time + self.limit_ttl
        bars = self.conn.execute(
            "select open_time, open, high, low, volume from market.candles_1m where instrument_id = %s"
            " and open_time >= %s and open_time < %s order by open_time",
            (order.instrument_id, order.reference_time, end),
        ).fetchall()
        limit = order.limit_price
        buy = order.side == "buy"
        remaining = order.quantity
        fills: list[BrokerFill] = []
        for open_time, open_, high, low, volume in bars:
            if remaining <= 0:
                break
            if (buy and _dec(low) > limit) or (not buy and _dec(high) < limit):
                continue
            price = min(_dec(open_), limit) if buy else max(_dec(open_), limit)
            quantity = remaining
            if self.participation is not None:
                cap = self.participation * _dec(volume or 0)
                if step:
                    cap = (cap / step).to_integral_value(ROUND_FLOOR) * step
                quantity = min(remaining, cap)
            if quantity <= 0:
                continue
            fills.append(BrokerFill(f"paper:bar:{open_time.isoformat()}", quantity, price, Decimal(0), open_time))
            remaining -= quantity
        return fills, remaining > 0 and self.now() >= end

    def close(self) -> None:
        pass
