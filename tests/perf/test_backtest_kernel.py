"""perf.backtest_kernel and the simulation behind perf.backtest (perf._simulate) against the
independent numpy backtest of tests/perf/backtest_oracle.py, to 1e-9: synthetic and real-capture
bars, the adversarial cases of the issue, stops and sizing; on the PL/pgSQL loop and on the native
(C) loop when the server has it, which must also give the PL/pgSQL loop's bits."""

from __future__ import annotations

import math
from decimal import Decimal

import numpy as np
import psycopg
import pytest

from tests.perf.backtest_oracle import (
    CAPTURES, Result, assert_close, backtest, capture_bars, random_signals, synthetic_bars,
)
from tests.ta.native_support import assert_same_bits


KERNEL = (
    "select k.position, k.cash, k.equity from perf.backtest_kernel("
    "%s::float8[], %s::float8[], %s::boolean[], %s::boolean[], %s, %s, %s) as k"
)
SIMULATE = (
    "select s.* from perf._simulate(%s::float8[], %s::float8[], %s::float8[], %s::float8[], %s::boolean[],"
    " %s::boolean[], %s, %s, %s, %s, %s, %s, %s, %s::numeric[]) as s"
)


def native_available(conn) -> bool:
    return conn.execute(
        "select ta._native() and to_regprocedure('ta_native.backtest_simulate(float8[], float8[], float8[], float8[],"
        " boolean[], boolean[], float8, float8, float8, float8, float8, float8, float8, numeric[])') is not null"
    ).fetchone()[0]


def use_kernel(conn, kernel: str) -> None:
    conn.execute("select set_config('tsquant.native_kernels', %s, false)", ("on" if kernel == "native" else "off",))


@pytest.fixture(params=["plpgsql", "native"])
def kernel(request, conn):
    """Each test once on the PL/pgSQL loop and once on the native loop (skipped without it)."""
    if request.param == "native" and not native_available(conn):
        pytest.skip("the native backtest kernel (tsquant_ta with backtest_simulate) is not installed")
    use_kernel(conn, request.param)
    yield request.param
    conn.rollback()
    conn.execute("reset tsquant.native_kernels")


def run_kernel(conn, bars, entries, exits, init_cash=10000.0, fees=0.0, slippage=0.0):
    return conn.execute(KERNEL, (list(bars["open"]), list(bars["close"]), entries, exits, init_cash, fees, slippage)).fetchone()


def check_kernel(conn, bars, entries, exits, label, **params) -> Result:
    want = backtest(bars["open"], None, None, bars["close"], entries, exits, **params)
    position, cash, equity = run_kernel(conn, bars, entries, exits, **params)
    assert_close(position, want.position, f"{label} position")
    assert_close(cash, want.cash, f"{label} cash")
    assert_close(equity, want.equity, f"{label} equity")
    return want


def run_simulate(conn, bars, entries, exits, *, init_cash=10000.0, fees=0.0, slippage=0.0, fraction=1.0,
                 stop_loss=None, take_profit=None, risk=None, specs=None) -> dict:
    cur = conn.execute(SIMULATE, (
        list(bars["open"]), list(bars["high"]), list(bars["low"]), list(bars["close"]), entries, exits,
        init_cash, fees, slippage, None if risk is not None else fraction, stop_loss, take_profit, risk, specs,
    ))
    return dict(zip([d.name for d in cur.description], cur.fetchone()))


def check_simulate(conn, bars, entries, exits, label, **params) -> Result:
    want = backtest(bars["open"], bars["high"], bars["low"], bars["close"], entries, exits, **params)
    got = run_simulate(conn, bars, entries, exits, **params)
    assert_close(got["position"], want.position, f"{label} position")
    assert_close(got["cash"], want.cash, f"{label} cash")
    assert_close(got["equity"], want.equity, f"{label} equity")
    trades = want.trades
    assert got["trade_entry"] == [t.entry_bar + 1 for t in trades], f"{label}: entry bars"
    assert got["trade_exit"] == [None if t.exit_bar is None else t.exit_bar + 1 for t in trades], f"{label}: exit bars"
    assert got["trade_exit_reason"] == [t.exit_reason for t in trades], f"{label}: exit reasons"
    for name, values in [("trade_quantity", [t.quantity for t in trades]), ("trade_cost", [t.cost for t in trades]),
                         ("trade_entry_price", [t.entry_price for t in trades]),
                         ("trade_exit_price", [t.exit_price for t in trades]),
                         ("trade_fees", [t.fees if t.fees is not None else t.entry_fee for t in trades]),
                         ("trade_pnl", [t.pnl for t in trades])]:
        assert_close(got[name], [math.nan if v is None else v for v in values], f"{label} {name}")
    return want


# ----------------------------------------------------------------------------------------------
# The kernel: all in, no stops
# ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("n,rate,nulls", [(1, 0.5, False), (2, 0.5, False), (30, 0.3, True), (500, 0.05, False),
                                          (5000, 0.02, True), (5000, 0.4, False)])
@pytest.mark.parametrize("fees,slippage", [(0.0, 0.0), (0.001, 0.0), (0.0, 0.0005), (0.0025, 0.001)])
def test_kernel_equals_the_numpy_backtest_on_synthetic_bars(conn, kernel, n, rate, nulls, fees, slippage):
    bars = synthetic_bars(n, seed=n)
    entries, exits = random_signals(n, seed=n + 1, rate=rate, nulls=nulls)
    want = check_kernel(conn, bars, entries, exits, f"n={n}", fees=fees, slippage=slippage, init_cash=2500.0)
    if n >= 500:
        assert len(want.trades) >= 5, "the case must trade"


@pytest.mark.skipif(not CAPTURES, reason="the shared Binance captures are not present (TSQ_CAPTURE_DIR)")
@pytest.mark.parametrize("capture", CAPTURES, ids=lambda p: p.name)
def test_kernel_equals_the_numpy_backtest_on_real_capture_bars(conn, kernel, capture):
    bars = capture_bars(capture)
    close = bars["close"]
    mean = np.convolve(close, np.ones(10) / 10, mode="full")[:len(close)]
    above = close > mean
    entries = list(above & ~np.roll(above, 1))   # close crosses above its 10-bar mean
    exits = list(~above & np.roll(above, 1))
    want = check_kernel(conn, bars, entries, exits, capture.name, fees=0.001, slippage=0.0002)
    assert len(want.trades) >= 3


ADVERSARIAL = {
    # name: (open, close, entries, exits)
    "no signals": ([10, 11, 12], [10, 11, 12], [False] * 3, [False] * 3),
    "entry on the last bar only": ([10, 11, 12], [10, 11, 12], [False, False, True], [False] * 3),
    "exit while flat": ([10, 11, 12, 13], [10, 11, 12, 13], [False] * 4, [True, True, False, False]),
    "entry while long": ([10, 11, 12, 13, 14], [10, 11, 12, 13, 14], [True, True, True, False, False],
                         [False, False, False, True, False]),
    "entry and exit on one bar": ([10, 11, 12, 13], [10, 11, 12, 13], [True, True, False, False],
                                  [True, False, True, False]),
    "every bar both": ([10, 11, 12, 13], [10, 11, 12, 13], [True] * 4, [True] * 4),
    "every bar an entry": ([10, 9, 8, 7, 6], [10, 9, 8, 7, 6], [True] * 5, [False] * 5),
    "alternating": (list(range(10, 30)), list(range(11, 31)), [i % 2 == 0 for i in range(20)],
                    [i % 2 == 1 for i in range(20)]),
    "exit on the entry's fill bar": ([10, 11, 12, 13], [10, 11, 12, 13], [True, False, False, False],
                                     [False, True, False, False]),
    "exit on the last bar never fills": ([10, 11, 12], [10, 11, 12], [True, False, False], [False, False, True]),
    "NULL signals are false": ([10, 11, 12, 13], [10, 11, 12, 13], [True, None, None, None], [None, None, True, None]),
    "flat prices": ([5.0] * 6, [5.0] * 6, [True, False, True, False, True, False], [False, True, False, True, False, True]),
    "tiny prices": ([1e-8, 1.1e-8, 1.2e-8, 1.3e-8], [1.05e-8, 1.15e-8, 1.25e-8, 1.35e-8], [True, False, False, False],
                    [False, True, False, False]),
    "huge prices": ([1e9, 1.1e9, 0.9e9, 1.3e9], [1e9, 1.1e9, 0.9e9, 1.3e9], [True, False, False, False],
                    [False, True, False, False]),
    "crash to almost nothing": ([100, 100, 0.001, 0.001], [100, 0.001, 0.001, 0.001], [True, False, False, False],
                                [False, True, False, False]),
    "one bar": ([10], [10], [True], [True]),
}


@pytest.mark.parametrize("name", list(ADVERSARIAL))
@pytest.mark.parametrize("fees,slippage", [(0.0, 0.0), (0.001, 0.002)])
def test_kernel_adversarial_cases(conn, kernel, name, fees, slippage):
    open_, close, entries, exits = ADVERSARIAL[name]
    bars = {"open": np.array(open_, float), "close": np.array(close, float)}
    want = check_kernel(conn, bars, entries, exits, name, fees=fees, slippage=slippage)
    expected_trades = {"no signals": 0, "entry on the last bar only": 0, "exit while flat": 0, "every bar both": 0,
                       "entry and exit on one bar": 1, "one bar": 0, "entry while long": 1, "every bar an entry": 1,
                       "exit on the last bar never fills": 1}
    if name in expected_trades:
        assert len(want.trades) == expected_trades[name], f"{name}: oracle trades {want.trades}"


def test_kernel_empty_arrays(conn, kernel):
    assert conn.execute("select * from perf.backtest_kernel('{}', '{}', '{}', '{}')").fetchone() == ([], [], [])


@pytest.mark.parametrize("call,message", [
    ("perf.backtest_kernel('{1,2}', '{1}', '{t,f}', '{f,f}')", "one element per bar"),
    ("perf.backtest_kernel('{1,2}', '{1,2}', '{t}', '{f,f}')", "one element per bar"),
    ("perf.backtest_kernel('{1,null}', '{1,2}', '{t,f}', '{f,f}')", "must not contain NULL or NaN"),
    ("perf.backtest_kernel('{1,2}', '{1,NaN}', '{t,f}', '{f,f}')", "must not contain NULL or NaN"),
    ("perf.backtest_kernel('{1,0}', '{1,2}', '{t,f}', '{f,f}')", "positive price"),
    ("perf.backtest_kernel('{1,2}', '{1,2}', '{t,f}', '{f,f}', init_cash => 0)", "init_cash must be a positive"),
    ("perf.backtest_kernel('{1,2}', '{1,2}', '{t,f}', '{f,f}', fees => -0.001)", "fees and slippage"),
    ("perf.backtest_kernel('{1,2}', '{1,2}', '{t,f}', '{f,f}', slippage => 1)", "fees and slippage"),
    ("perf.backtest_kernel('{{1,2}}', '{{1,2}}', '{{t,f}}', '{{f,f}}')", "one-dimensional"),
    ("perf.backtest_kernel('[0:1]={1,2}', '{1,2}', '{t,f}', '{f,f}')", "start at index 1"),
])
def test_kernel_refuses_bad_input_with_a_sentence(conn, kernel, call, message):
    with pytest.raises(psycopg.Error, match=message):
        conn.execute(f"select * from {call}")


# ----------------------------------------------------------------------------------------------
# The simulation behind perf.backtest: stops and sizing
# ----------------------------------------------------------------------------------------------

SPECS = [Decimal("0.01"), Decimal("0.01"), Decimal("0.001"), Decimal("0.001"), Decimal("Infinity"), Decimal("0"), Decimal("1")]


@pytest.mark.parametrize("params", [
    dict(),
    dict(fees=0.001, slippage=0.0005),
    dict(fraction=0.25, fees=0.001),
    dict(stop_loss=0.01),
    dict(take_profit=0.015, slippage=0.0003),
    dict(stop_loss=0.008, take_profit=0.012, fees=0.00075, slippage=0.0002),
    dict(stop_loss=0.02, fraction=0.5),
    dict(risk=0.01, stop_loss=0.01, specs=SPECS, fees=0.001),
    dict(risk=0.005, stop_loss=0.002, take_profit=0.01, specs=[Decimal("0.1"), Decimal("0.1"), Decimal("0.01"),
                                                               Decimal("0.05"), Decimal("3"), Decimal("0.5"), Decimal("1")]),
    dict(risk=0.02, stop_loss=0.05, specs=SPECS[:6] + [Decimal("10")]),  # lots of 10 units
], ids=str)
@pytest.mark.parametrize("n", [400, 4000])
def test_simulation_with_stops_and_sizing_equals_the_numpy_backtest(conn, kernel, params, n):
    bars = synthetic_bars(n, seed=n + 7)
    entries, exits = random_signals(n, seed=n + 8, rate=0.03, nulls=True)
    want = check_simulate(conn, bars, entries, exits, str(params), **params)
    assert len(want.trades) >= 3
    if "stop_loss" in params or "take_profit" in params:
        reasons = {t.exit_reason for t in want.trades}
        assert reasons - {"signal", None}, f"the case must hit a level: {reasons}"


@pytest.mark.skipif(not CAPTURES, reason="the shared Binance captures are not present (TSQ_CAPTURE_DIR)")
@pytest.mark.parametrize("capture", CAPTURES, ids=lambda p: p.name)
def test_simulation_with_stops_on_real_capture_bars(conn, kernel, capture):
    bars = capture_bars(capture)
    entries, exits = random_signals(len(bars["close"]), seed=3, rate=0.05)
    want = check_simulate(conn, bars, entries, exits, capture.name, stop_loss=0.0002, take_profit=0.0003,
                          fees=0.0001, fraction=0.8)
    assert {t.exit_reason for t in want.trades} & {"stop_loss", "take_profit"}


def _bars(open_, high, low, close):
    return {k: np.array(v, float) for k, v in zip(("open", "high", "low", "close"), (open_, high, low, close))}


STOP_CASES = {
    # entry signal at bar 0 fills at bar 1's open 100; stop 2 % (98), target 3 % (103)
    "stop inside a bar": (_bars([100, 100, 99, 99], [101, 101, 100, 100], [99, 99, 97, 98], [100, 99.5, 98, 99]),
                          "stop_loss", 3, 98.0),
    "gap through the stop fills at the open": (_bars([100, 100, 95, 95], [101, 101, 96, 96], [99, 99, 94, 94],
                                                     [100, 99.5, 95, 95]), "stop_loss", 3, 95.0),
    "target inside a bar": (_bars([100, 100, 101, 101], [101, 101, 104, 102], [99, 99, 100, 100],
                                  [100, 100.5, 102, 101]), "take_profit", 3, 103.0),
    "gap above the target fills at the open": (_bars([100, 100, 106, 106], [101, 101, 107, 107], [99, 99, 105, 105],
                                                     [100, 100.5, 106, 106]), "take_profit", 3, 106.0),
    "stop and target in one bar: the stop": (_bars([100, 100, 100, 100], [101, 101, 104, 101], [99, 99, 97, 99],
                                                   [100, 100, 100, 100]), "stop_loss", 3, 98.0),
    "stop on the entry bar": (_bars([100, 100, 100, 100], [101, 101, 101, 101], [99, 97.5, 99, 99],
                                    [100, 99, 100, 100]), "stop_loss", 2, 98.0),
}


@pytest.mark.parametrize("name", list(STOP_CASES))
def test_stop_loss_and_take_profit_by_hand(conn, kernel, name):
    bars, reason, exit_bar, exit_price = STOP_CASES[name]
    entries, exits = [True, False, False, False], [False] * 4
    got = run_simulate(conn, bars, entries, exits, stop_loss=0.02, take_profit=0.03)
    assert got["trade_exit_reason"] == [reason] and got["trade_exit"] == [exit_bar]
    assert got["trade_exit_price"][0] == pytest.approx(exit_price, rel=1e-12)
    assert got["trade_pnl"][0] == pytest.approx(10000 / 100 * exit_price - 10000, rel=1e-12)
    check_simulate(conn, bars, entries, exits, name, stop_loss=0.02, take_profit=0.03)


def test_exit_signal_fill_comes_before_a_stop_in_the_same_bar(conn, kernel):
    bars = _bars([100, 100, 99, 90], [101, 101, 100, 91], [99, 99, 98.5, 80], [100, 99.5, 99, 85])
    got = run_simulate(conn, bars, [True, False, False, False], [False, False, True, False], stop_loss=0.05)
    assert got["trade_exit_reason"] == ["signal"] and got["trade_exit_price"] == [90.0]


def test_risk_size_of_zero_skips_the_entry(conn, kernel):
    # 1 % of 10000 = 100 at risk; a 1 % stop at 100 loses 1 a unit: 100 units, but the minimum is 500
    bars = _bars([100] * 4, [101] * 4, [99.5] * 4, [100] * 4)
    specs = [Decimal("0.01"), Decimal("0.01"), Decimal("1"), Decimal("500"), Decimal("Infinity"), Decimal("0"), Decimal("1")]
    got = run_simulate(conn, bars, [True, False, True, False], [False] * 4, risk=0.01, stop_loss=0.01, specs=specs)
    assert got["trade_entry"] == [] and got["cash"] == [10000.0] * 4


# ----------------------------------------------------------------------------------------------
# Native loop = PL/pgSQL loop, bit for bit
# ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("params", [
    dict(),
    dict(fees=0.001, slippage=0.0005, fraction=0.3),
    dict(stop_loss=0.008, take_profit=0.012, fees=0.00075, slippage=0.0002),
    dict(risk=0.01, stop_loss=0.01, specs=SPECS, fees=0.001),
], ids=str)
def test_native_loop_gives_the_plpgsql_bits(conn, params):
    if not native_available(conn):
        pytest.skip("the native backtest kernel (tsquant_ta with backtest_simulate) is not installed")
    bars = synthetic_bars(3000, seed=11)
    entries, exits = random_signals(3000, seed=12, rate=0.03, nulls=True)
    runs = {}
    for kernel in ("native", "plpgsql"):
        use_kernel(conn, kernel)
        runs[kernel] = run_simulate(conn, bars, entries, exits, **params)
    conn.execute("reset tsquant.native_kernels")
    for name, native in runs["native"].items():
        plpgsql = runs["plpgsql"][name]
        if name in ("trade_entry", "trade_exit", "trade_exit_reason"):
            assert native == plpgsql, name
        else:
            assert_same_bits(native, plpgsql, name)
