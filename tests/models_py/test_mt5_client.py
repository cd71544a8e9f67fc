"""The MT5 REST client and the seed's send_order against the fake bridge over loopback: market and
limit orders, every refusal as a structured result with the retcode, authentication failure,
throttling, timeouts, 5xx and malformed answers (outcome unknown, one request only), a request
after its deadline, a bridge that is down; the broker adapter's find/sync by comment and magic,
with fees and broker time converted to UTC; and no secret in any result or log line."""

from __future__ import annotations

import logging
import socket
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from models_py.brokers.base import BrokerAuthError, BrokerError, LedgerOrder, OrderRequest
from models_py.brokers.mt5 import RETCODES, MT5Broker, MT5RestClient, send_order
from models_py.fakes.mt5_bridge import FakeBridge, Script, SymbolSpec

KEY = "mt5-bridge-key-do-not-print-0123456789"


@pytest.fixture
def bridge():
    with FakeBridge({"EURUSD": SymbolSpec(Decimal("1.08990"), Decimal("1.09010"), tick_size=Decimal("0.00001"),
                                          contract_size=Decimal(100_000)),
                     "BTCUSD": SymbolSpec(Decimal("64000.00"), Decimal("64010.00"))},
                    api_key=KEY, balance=Decimal(10_000)) as b:
        yield b


@pytest.fixture(autouse=True)
def debug_logs(caplog):
    caplog.set_level(logging.DEBUG)
    yield caplog
    assert KEY not in caplog.text


def client(bridge, key=KEY, **kw) -> MT5RestClient:
    return MT5RestClient(bridge.url, key, retries=1, **kw)


def posts(bridge) -> int:
    return sum(1 for r in bridge.server.requests if r.method == "POST" and r.path == "/orders")


def test_retcodes_are_metatraders(bridge):
    # REFERENCE.md §6, literally
    listed = {10009: "DONE", 10008: "PLACED", 10010: "DONE_PARTIAL", 10004: "REQUOTE", 10006: "REJECT",
              10012: "TIMEOUT", 10013: "INVALID", 10014: "INVALID_VOLUME", 10015: "INVALID_PRICE",
              10016: "INVALID_STOPS", 10018: "MARKET_CLOSED", 10019: "NO_MONEY", 10024: "TOO_MANY_REQUESTS",
              10031: "CONNECTION"}
    assert {k: RETCODES[k] for k in listed} == listed


def test_market_order_fills_at_the_ask_and_returns_the_order_send_result(bridge):
    result = send_order("BTCUSD", 0.01, "buy", client=client(bridge), comment="tsq-abc", magic=7301)
    assert result["success"] is True
    data = result["data"]
    assert data["retcode"] == 10009 and data["price"] == 64010.0 and data["volume"] == 0.01
    (order,) = bridge.all_orders()
    assert (order["ticket"], order["comment"], order["magic"], order["state"]) == (data["order"], "tsq-abc", 7301, "FILLED")
    assert bridge.positions["BTCUSD"]["volume"] == 0.01


def test_limit_order_is_placed_then_filled_when_the_price_reaches_it(bridge):
    result = send_order("EURUSD", 0.10, "sell", price=1.09100, client=client(bridge))
    assert result["success"] is True and result["data"]["retcode"] == 10008
    assert [o["type"] for o in bridge.open_orders.values()] == ["SELL_LIMIT"]
    bridge.set_price("EURUSD", "1.09050", "1.09070")
    assert bridge.open_orders            # not reached yet
    bridge.set_price("EURUSD", "1.09100", "1.09120")
    assert not bridge.open_orders and bridge.deals[-1]["price"] == 1.091 and bridge.deals[-1]["type"] == "SELL"


def test_send_order_needs_a_client_and_valid_arguments():
    with pytest.raises(ValueError, match="needs a client"):
        send_order("EURUSD", 0.1, "buy")
    fake = MT5RestClient("http://127.0.0.1:9", KEY)
    for args in (("EURUSD", 0.1, "hold"), ("EURUSD", 0, "buy"), ("EURUSD", 0.1, "buy", -1.0)):
        with pytest.raises(ValueError):
            send_order(*args, client=fake)


@pytest.mark.parametrize("volume, kind, price, options, retcode, name", [
    (50.0, "buy", None, {}, 10019, "NO_MONEY"),
    (0.015, "buy", None, {}, 10014, "INVALID_VOLUME"),
    (0.01, "buy", 64020.0, {}, 10015, "INVALID_PRICE"),       # a buy limit above the ask
    (0.01, "buy", None, {"sl": 64100.0}, 10016, "INVALID_STOPS"),
])
def test_refusals_are_structured_results_and_nothing_executes(bridge, volume, kind, price, options, retcode, name):
    result = send_order("BTCUSD", volume, kind, price=price, client=client(bridge), **options)
    assert result == {"success": False, "outcome": "rejected", "kind": "rejected", "retcode": retcode,
                      "error": result["error"]}
    assert f"{retcode} {name}" in result["error"]
    assert bridge.all_orders() == [] and bridge.deals == []


def test_market_closed_and_unknown_symbol_are_rejections(bridge):
    bridge.symbols["BTCUSD"].trade_allowed = False
    assert send_order("BTCUSD", 0.01, "buy", client=client(bridge))["retcode"] == 10018
    result = send_order("XAUUSD", 0.01, "buy", client=client(bridge))
    assert result["outcome"] == "rejected" and "HTTP 404" in result["error"] and "symbol not found" in result["error"]


def test_wrong_key_is_not_sent_and_says_which_variable(bridge):
    result = send_order("BTCUSD", 0.01, "buy", client=client(bridge, key="wrong-key-value-1234"))
    assert result["success"] is False and (result["outcome"], result["kind"]) == ("not_sent", "auth")
    assert "MT5_API_KEY" in result["error"] and "wrong-key-value-1234" not in str(result)
    assert bridge.all_orders() == []
    with pytest.raises(BrokerAuthError, match="MT5_API_KEY"):
        client(bridge, key="wrong-key-value-1234").account()


def test_throttling_is_not_sent_with_the_wait(bridge):
    bridge.throttle(1, retry_after=0.25)
    result = client(bridge).order_send({"action": "DEAL", "symbol": "BTCUSD", "volume": 0.01, "type": "BUY"})
    assert (result.outcome, result.kind, result.retry_after) == ("not_sent", "throttled", 0.25)
    bridge.script(Script(retcode=10024))
    result = send_order("BTCUSD", 0.01, "buy", client=client(bridge))
    assert (result["outcome"], result["kind"], result["retcode"]) == ("not_sent", "throttled", 10024)
    assert bridge.all_orders() == [] and posts(bridge) == 2


@pytest.mark.parametrize("script, executed, kind", [
    (Script(delay=1.5, execute=True), True, "timeout"),     # executed, the answer comes too late
    (Script(delay=1.5, execute=False), False, "timeout"),
    (Script(status=500, execute=True), True, "network"),
    (Script(status=502, execute=False), False, "network"),
    (Script(malformed=True, execute=True), True, "bad_response"),
])
def test_no_usable_answer_is_unknown_and_sent_only_once(bridge, script, executed, kind):
    bridge.script(script)
    result = send_order("BTCUSD", 0.01, "buy", client=client(bridge, timeout=0.5), comment="tsq-once")
    assert (result["success"], result["outcome"], result["kind"]) == (False, "unknown", kind)
    assert "may have been executed" in result["error"]
    assert posts(bridge) == 1                       # never retried blindly
    assert len(bridge.all_orders()) == (1 if executed else 0)


def test_a_request_after_its_deadline_is_not_executed(bridge):
    late = datetime.now(timezone.utc) - timedelta(seconds=1)
    result = send_order("BTCUSD", 0.01, "buy", client=client(bridge), deadline=late)
    assert (result["outcome"], result["retcode"]) == ("unknown", 10012) and bridge.all_orders() == []


def test_a_bridge_that_is_down_is_unknown_for_orders_and_an_error_for_reads():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    down = MT5RestClient(f"http://127.0.0.1:{port}", KEY, retries=1, timeout=0.5)
    result = send_order("BTCUSD", 0.01, "buy", client=down)
    assert (result["outcome"], result["kind"]) == ("unknown", "network") and "connection failed" in result["error"]
    with pytest.raises(BrokerError, match="connection failed"):
        down.account()


def test_broker_finds_its_order_by_comment_and_syncs_executions_in_utc(bridge):
    clock = datetime(2024, 8, 1, 12, 0, 5, tzinfo=timezone.utc)
    bridge.clock = lambda: clock.timestamp()
    bridge.broker_offset_hours = 3
    bridge.commission_per_lot = Decimal("3.5")
    broker = MT5Broker(client(bridge, broker_offset_hours=3), magic=4242, now=lambda: clock)
    order = LedgerOrder(1, "tsq-0123456789abcdef0123", 1, "EURUSD", "buy", "market", Decimal("0.20"), None, "new",
                        Decimal(0), None, clock - timedelta(seconds=5), clock)
    assert broker.find(order) is None
    send_order("EURUSD", 0.20, "buy", client=broker.client, comment="tsq-other", magic=4242)
    send_order("EURUSD", 0.20, "buy", client=broker.client, comment=order.client_order_id, magic=1)  # not our magic
    assert broker.find(order) is None
    outcome = broker.send(OrderRequest(order.client_order_id, "EURUSD", "buy", Decimal("0.20")))
    found = broker.find(order)
    assert found is not None and found.broker_order_id == outcome.broker_order_id and found.status == "filled"
    order.broker_order_id = found.broker_order_id
    state = broker.sync(order)
    (fill,) = state.fills
    assert state.status == "filled"
    assert (fill.quantity, fill.price, fill.fee, fill.filled_at) == (Decimal("0.2"), Decimal("1.0901"), Decimal("0.7"), clock)
    account = broker.account()
    assert account.balance == Decimal(10_000) - 3 * Decimal("0.7") and "broker" in account.details
