"""perf.* metrics against independent oracles, at 1e-9 relative: the return-based functions
against empyrical-reloaded (same names, same parameters), perf.trade_stats against a pandas
computation of vectorbt's Trades definitions. Random series and adversarial ones: no periods,
one period, all wins, all losses, zero volatility, NaN gaps, a total loss."""

from __future__ import annotations

import math

import empyrical
import numpy as np
import pandas as pd
import pytest

REL = 1e-9


def _series() -> dict[str, list[float | None]]:
    rng = np.random.default_rng(20240808)
    out: dict[str, list[float | None]] = {}
    for n in (2, 3, 10, 252, 1000):
        out[f"random_{n}"] = list(rng.normal(0.0005, 0.02, n))
    out["fat_tails_500"] = list(rng.standard_t(2, 500) * 0.01)
    out["empty"] = []
    out["one_period"] = [0.013]
    out["two_equal"] = [0.01, 0.01]
    out["all_wins"] = list(np.abs(rng.normal(0.01, 0.005, 50)))
    out["all_losses"] = list(-np.abs(rng.normal(0.01, 0.005, 50)))
    out["zero_volatility_positive"] = [0.002] * 30
    out["zero_volatility_negative"] = [-0.002] * 30
    out["all_zero"] = [0.0] * 30
    gappy = list(rng.normal(0.001, 0.01, 60))
    for i in (0, 7, 8, 30, 59):
        gappy[i] = math.nan
    out["nan_gaps"] = gappy
    out["null_gaps"] = [None if (isinstance(v, float) and math.isnan(v)) else v for v in gappy]
    out["all_nan"] = [math.nan] * 5
    out["one_value_among_nans"] = [math.nan, 0.02, math.nan]
    out["total_loss"] = [0.05, -1.0, 0.1, 0.02]
    out["crash_and_recovery"] = [0.1, -0.5, 0.2, 0.3, 0.4, 0.5, -0.05]
    return out


SERIES = _series()


def _np(values: list[float | None]) -> np.ndarray:
    return np.array([math.nan if v is None else v for v in values], dtype=float)


def assert_same(got: float | None, want: float, label: str) -> None:
    if want is None or (isinstance(want, float) and math.isnan(want)):
        assert got is None, f"{label}: got {got}, empyrical gives NaN (expected NULL)"
        return
    assert got is not None, f"{label}: got NULL, expected {want}"
    if math.isinf(want):
        assert got == want, f"{label}: got {got}, expected {want}"
        return
    assert got == pytest.approx(want, rel=REL, abs=1e-15), f"{label}: got {got}, expected {want}"


CASES = [
    ("sharpe_ratio", "perf.sharpe_ratio(%s::float8[])", lambda r: empyrical.sharpe_ratio(r)),
    ("sharpe_ratio rf", "perf.sharpe_ratio(%s::float8[], 0.0001, 365)",
     lambda r: empyrical.sharpe_ratio(r, risk_free=0.0001, annualization=365)),
    ("sortino_ratio", "perf.sortino_ratio(%s::float8[])", lambda r: empyrical.sortino_ratio(r)),
    ("sortino_ratio mar", "perf.sortino_ratio(%s::float8[], required_return => 0.001, annualization => 12)",
     lambda r: empyrical.sortino_ratio(r, required_return=0.001, annualization=12)),
    ("annual_return", "perf.annual_return(%s::float8[])", lambda r: empyrical.annual_return(r)),
    ("annual_return 365", "perf.annual_return(%s::float8[], 365)", lambda r: empyrical.annual_return(r, annualization=365)),
    ("annual_volatility", "perf.annual_volatility(%s::float8[])", lambda r: empyrical.annual_volatility(r)),
    ("annual_volatility 52", "perf.annual_volatility(%s::float8[], annualization => 52)",
     lambda r: empyrical.annual_volatility(r, annualization=52)),
    ("max_drawdown", "perf.max_drawdown(%s::float8[])", lambda r: empyrical.max_drawdown(r)),
    ("calmar_ratio", "perf.calmar_ratio(%s::float8[])", lambda r: empyrical.calmar_ratio(r)),
    ("calmar_ratio 365", "perf.calmar_ratio(%s::float8[], 365)", lambda r: empyrical.calmar_ratio(r, annualization=365)),
    ("total_return", "perf.total_return(%s::float8[])", lambda r: empyrical.cum_returns_final(r)),
]


@pytest.mark.parametrize("name", list(SERIES))
def test_return_metrics_equal_empyrical(conn, name: str) -> None:
    values = SERIES[name]
    r = _np(values)
    for label, expr, oracle in CASES:
        got = conn.execute(f"select {expr}", (values,)).fetchone()[0]
        with np.errstate(all="ignore"):
            want = float(oracle(r)) if len(r) else math.nan
        assert_same(got, want, f"{label} on {name}")


def test_max_drawdown_duration_by_hand(conn) -> None:
    # values 100 → 110 → 99 → 104.94 → 116.5 (a new peak after 2 periods under) → 110.7 → 105.1
    got = conn.execute("select perf.max_drawdown_duration(%s::float8[])",
                       ([0.1, -0.1, 0.06, 0.11, -0.05, -0.05],)).fetchone()[0]
    assert got == 2
    assert conn.execute("select perf.max_drawdown_duration('{0.01,0.02}'::float8[])").fetchone()[0] == 0
    assert conn.execute("select perf.max_drawdown_duration('{-0.01,0.005,0.004}'::float8[])").fetchone()[0] == 3


# Trade statistics: vectorbt's Trades definitions, recomputed with pandas ------------------------

def vectorbt_trade_stats(pnl: list[float | None]) -> dict[str, float]:
    s = pd.Series([math.nan if v is None else v for v in pnl], dtype=float).dropna()
    winning, losing = s[s > 0], s[s < 0]
    count = len(s)
    if count == 0:
        return dict(total_trades=0, win_rate=math.nan, profit_factor=math.nan, expectancy=math.nan,
                    avg_win=math.nan, avg_loss=math.nan, net_profit=0.0)
    win_rate = len(winning) / count
    total_win = winning.sum()  # an empty sum is 0 when there are trades
    total_loss = losing.sum()
    with np.errstate(all="ignore"):
        profit_factor = np.float64(total_win) / np.abs(np.float64(total_loss))
    avg_win = winning.mean() if len(winning) else 0.0
    avg_loss = losing.mean() if len(losing) else 0.0
    return dict(
        total_trades=count, win_rate=win_rate, profit_factor=float(profit_factor),
        expectancy=win_rate * avg_win - (1 - win_rate) * abs(avg_loss),
        avg_win=winning.mean() if len(winning) else math.nan,
        avg_loss=losing.mean() if len(losing) else math.nan,
        net_profit=float(s.sum()),
    )


def _trades() -> dict[str, list[float | None]]:
    rng = np.random.default_rng(11)
    return {
        "random_200": list(rng.normal(5, 50, 200)),
        "random_7": list(rng.normal(-1, 10, 7)),
        "no_trades": [],
        "all_wins": [1.5, 2.0, 0.25],
        "all_losses": [-1.5, -2.0, -0.25],
        "zero_pnl_counts_as_a_trade": [10.0, 0.0, -5.0, 0.0],
        "only_zero": [0.0, 0.0],
        "one_trade": [42.0],
        "null_and_nan_skipped": [3.0, None, -1.0, math.nan, 2.0],
    }


@pytest.mark.parametrize("name", list(_trades()))
def test_trade_stats_equal_vectorbt_definitions(conn, name: str) -> None:
    pnl = _trades()[name]
    row = conn.execute(
        "select total_trades, win_rate, profit_factor, expectancy, avg_win, avg_loss, net_profit"
        " from perf.trade_stats(%s::float8[])", (pnl,)
    ).fetchone()
    want = vectorbt_trade_stats(pnl)
    got = dict(zip(["total_trades", "win_rate", "profit_factor", "expectancy", "avg_win", "avg_loss", "net_profit"], row))
    assert got["total_trades"] == want["total_trades"]
    for key in ("win_rate", "profit_factor", "expectancy", "avg_win", "avg_loss", "net_profit"):
        assert_same(got[key], want[key], f"{key} on {name}")


def test_zero_pnl_trade_is_neither_win_nor_loss(conn) -> None:
    row = conn.execute("select total_trades, win_rate, avg_loss from perf.trade_stats('{10, 0, -5, 0}')").fetchone()
    assert row == (4, 0.25, -5.0)


@pytest.mark.parametrize("returns", [[0.01] * 10, [-0.01] * 10, [0.01, -0.005] * 5, [-0.5, 0.2]], ids=str)
def test_annual_return_and_calmar_overflow_and_underflow_as_numpy(conn, returns) -> None:
    # a short run annualised with the bars of a year of 1m candles: numpy overflows to inf (or
    # underflows to 0, an annual return of -100 %) where PostgreSQL's power() raises
    got = conn.execute("select perf.annual_return(%s::float8[], 525600), perf.calmar_ratio(%s::float8[], 525600)",
                       (returns, returns)).fetchone()
    with np.errstate(all="ignore"):
        want = (float(empyrical.annual_return(np.array(returns), annualization=525600)),
                float(empyrical.calmar_ratio(np.array(returns), annualization=525600)))
    assert_same(got[0], want[0], "annual_return")
    assert_same(got[1], want[1], "calmar_ratio")


def _equity_curves() -> dict[str, list[float | None]]:
    rng = np.random.default_rng(20261202)
    out: dict[str, list[float | None]] = {}
    for n in (1, 2, 3, 10, 1000):
        out[f"random_walk_{n}"] = list(10000 * np.cumprod(1 + rng.normal(0.0002, 0.01, n)))
    out["empty"] = []
    out["flat"] = [10000.0] * 20  # zero volatility: every return 0
    out["in_and_out"] = [10000.0, 10000.0, 10100.0, 10050.0, 10050.0, 10050.0, 9900.0, 10200.0, 10200.0]
    gappy = list(10000 * np.cumprod(1 + rng.normal(0, 0.01, 40)))
    gappy[5] = math.nan  # a NaN bar: its return and the next one's are skipped
    gappy[20] = None  # a NULL bar, the same
    out["gaps"] = gappy
    out["total_loss_at_the_end"] = [10500.0, 9000.0, 0.0]
    return out


EQUITY = _equity_curves()


@pytest.mark.parametrize("name", list(EQUITY))
def test_one_pass_run_metrics_equal_the_public_functions_and_empyrical(conn, name: str) -> None:
    # perf._equity_return_metrics (the metrics of a backtest run, one pass over its equity curve)
    # gives exactly what the public functions give over the bar returns (the first against the
    # initial cash), and what empyrical gives
    equity = EQUITY[name]
    position = [float(i % 3 != 0) for i in range(len(equity))]
    start, ann = 10000.0, 525600
    got = conn.execute(
        "select total_return, annual_return, annual_volatility, sharpe_ratio, sortino_ratio, max_drawdown,"
        " max_drawdown_duration, calmar_ratio, exposure"
        " from perf._equity_return_metrics(%s::float8[], %s, %s::float8[], %s)",
        (equity, start, position, ann)).fetchone()
    returns = conn.execute(
        "select array_agg(u.e / u.previous - 1 order by u.k)"
        " from unnest(%s::float8[], array_prepend(%s::float8, trim_array(%s::float8[], 1)))"
        " with ordinality as u (e, previous, k)", (equity, start, equity)).fetchone()[0] if equity else []
    public = conn.execute(
        "select perf.total_return(r), perf.annual_return(r, %(a)s), perf.annual_volatility(r, %(a)s),"
        " perf.sharpe_ratio(r, 0, %(a)s), perf.sortino_ratio(r, 0, %(a)s), perf.max_drawdown(r),"
        " perf.max_drawdown_duration(r), perf.calmar_ratio(r, %(a)s), perf.exposure(%(p)s::float8[])"
        " from (select %(r)s::float8[] as r) as x", {"a": ann, "r": returns, "p": position}).fetchone()
    assert got == public, "bit for bit the public functions over the same returns"
    r = _np(returns)
    with np.errstate(all="ignore"):
        want = [empyrical.cum_returns_final(r), empyrical.annual_return(r, annualization=ann),
                empyrical.annual_volatility(r, annualization=ann), empyrical.sharpe_ratio(r, annualization=ann),
                empyrical.sortino_ratio(r, annualization=ann), empyrical.max_drawdown(r), None,
                empyrical.calmar_ratio(r, annualization=ann)]
    for k, label in enumerate(["total_return", "annual_return", "annual_volatility", "sharpe_ratio",
                               "sortino_ratio", "max_drawdown", None, "calmar_ratio"]):
        if label and len(r):
            assert_same(got[k], float(want[k]), f"{label} on {name}")
    if position:
        assert got[8] == pytest.approx(np.count_nonzero(position) / len(position), rel=REL)
    else:
        assert got[8] is None
