"""perf.backtest: one strategy's signals from the signals mart over an instrument's candles,
recorded as a run with its parameters, trades, an equity row per bar and its metrics. Every
number against the independent numpy backtest (tests/perf/backtest_oracle.py) and the metric
oracles (empyrical, vectorbt's trade definitions), on synthetic and real-capture candles.

The mart here is a table of the mart's shape that the test fills (signals.strategy_signals,
created as tsq_dbt like dbt does); tests/perf/test_backtest_dbt.py runs the real dbt mart."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

import empyrical
import numpy as np
import psycopg
import pytest

from tests.perf.backtest_oracle import (
    CAPTURES, assert_close, backtest, capture_bars, random_signals, synthetic_bars,
)
from tests.perf.test_metrics_oracles import assert_same, vectorbt_trade_stats

START = dt.datetime(2024, 3, 4, tzinfo=dt.timezone.utc)
MINUTE = dt.timedelta(minutes=1)
REL = 1e-9


def add_instrument(conn, symbol: str, bars: dict, start: dt.datetime = START) -> tuple[int, list[dt.datetime]]:
    """Native 1m candles of `bars` from `start`, one a minute."""
    iid = conn.execute("select market.register_instrument('testex', %s, p_candle_source => 'native')",
                       (symbol,)).fetchone()[0]
    times = [start + i * MINUTE for i in range(len(bars["open"]))]
    with conn.cursor().copy("copy market.candles (instrument_id, timeframe, open_time, open, high, low, close,"
                            " volume, source) from stdin") as copy:
        for t, o, h, lo, c in zip(times, bars["open"], bars["high"], bars["low"], bars["close"]):
            copy.write_row((iid, "1m", t, float(o), float(h), float(lo), float(c), 1.0, "test"))
    return iid, times


def signals_mart(conn) -> None:
    """signals.strategy_signals (and bi.trading_signals over it) in the mart's shape, built as
    tsq_dbt: the role dbt builds the real mart as."""
    conn.execute("set local role tsq_dbt")
    conn.execute(
        "create table if not exists signals.strategy_signals (symbol text, instrument_id integer, exchange text,"
        " timeframe text, signal_type text, signal_source text, direction text, strength float8,"
        " confidence float8, parameters jsonb, bar_time timestamptz, signal_time timestamptz,"
        " generated_at timestamptz, primary key (signal_source, instrument_id, timeframe, bar_time))")
    conn.execute("create or replace view bi.trading_signals as select * from signals.strategy_signals")
    conn.execute("reset role")


def add_signals(conn, strategy: str, iid: int, times, entries, exits, timeframe: str = "1m") -> None:
    signals_mart(conn)
    rows = [(strategy, iid, timeframe, t, "BUY" if e else "SELL")
            for t, e, x in zip(times, entries, exits) if bool(e) != bool(x)]
    rows += [(strategy, iid, timeframe, t, "NEUTRAL") for t, e, x in zip(times, entries, exits) if e and x]
    with conn.cursor().copy("copy signals.strategy_signals (signal_source, instrument_id, timeframe, bar_time,"
                            " direction) from stdin") as copy:
        for row in rows:
            copy.write_row(row)


def run(conn, strategy: str, iid: int, start: dt.datetime, end: dt.datetime, timeframe: str = "1m", **params) -> int:
    names = ", ".join(f"p_{k} => %({k})s" for k in params)
    query = f"select perf.backtest(%(s)s, %(iid)s, %(tf)s, %(start)s, %(end)s{', ' if names else ''}{names})"
    return conn.execute(query, {"s": strategy, "iid": iid, "tf": timeframe, "start": start, "end": end,
                                **params}).fetchone()[0]


def check_run(conn, run_id: int, bars, times, entries, exits, *, init_cash=10000.0, fees_bps=0.0, slippage_bps=0.0,
              sizing="all_in", size_value=None, stop_loss_pct=None, take_profit_pct=None, specs=None,
              annualization=525600) -> None:
    """Equity, trades and metrics of a run = the numpy backtest and the metric oracles."""
    want = backtest(bars["open"], bars["high"], bars["low"], bars["close"], entries, exits, init_cash=init_cash,
                    fees=fees_bps / 10000, slippage=slippage_bps / 10000,
                    fraction=size_value if sizing == "fixed_fraction" else 1.0,
                    stop_loss=stop_loss_pct, take_profit=take_profit_pct,
                    risk=size_value if sizing == "risk" else None, specs=specs)
    rows = conn.execute("select bar_time, close, position, cash, equity from perf.backtest_equity"
                        " where run_id = %s order by bar_time", (run_id,)).fetchall()
    assert [r[0] for r in rows] == times, "one equity row per bar"
    assert_close([r[1] for r in rows], bars["close"], "close")
    assert_close([r[2] for r in rows], want.position, "position")
    assert_close([r[3] for r in rows], want.cash, "cash")
    assert_close([r[4] for r in rows], want.equity, "equity")

    trades = conn.execute(
        "select trade_no, entry_time, entry_price, exit_time, exit_price, quantity, fees, pnl, pnl_percent,"
        " exit_reason, status from perf.backtest_trades where run_id = %s order by trade_no", (run_id,)).fetchall()
    assert [t[0] for t in trades] == list(range(1, len(want.trades) + 1)), "one row per oracle trade"
    assert [t[1] for t in trades] == [times[w.entry_bar] for w in want.trades], "entry times"
    assert [t[3] for t in trades] == [None if w.exit_bar is None else times[w.exit_bar] for w in want.trades], "exit times"
    assert [t[9] for t in trades] == [w.exit_reason for w in want.trades], "exit reasons"
    assert [t[10] for t in trades] == ["OPEN" if w.exit_bar is None else "CLOSED" for w in want.trades], "status"
    assert_close([t[2] for t in trades], [w.entry_price for w in want.trades], "entry prices")
    assert_close([t[4] for t in trades], [w.exit_price for w in want.trades], "exit prices")
    assert_close([t[5] for t in trades], [w.quantity for w in want.trades], "quantities")
    assert_close([t[6] for t in trades], [w.fees if w.fees is not None else w.entry_fee for w in want.trades], "fees")
    assert_close([t[7] for t in trades], [w.pnl for w in want.trades], "pnl")
    assert_close([t[8] for t in trades], [None if w.pnl is None else w.pnl / w.cost * 100 for w in want.trades], "pnl %")

    equity = want.equity
    returns = equity / np.concatenate([[init_cash], equity[:-1]]) - 1
    closed = [w.pnl for w in want.trades if w.pnl is not None]
    m = conn.execute(
        "select date, total_trades, win_rate, profit_factor, expectancy, avg_win, avg_loss, net_profit, total_return,"
        " annual_return, annual_volatility, sharpe_ratio, sortino_ratio, max_drawdown, max_drawdown_duration,"
        " calmar_ratio, exposure, annualization from perf.performance_metrics where run_id = %s", (run_id,)).fetchone()
    assert m is not None, "the run has its metrics row"
    assert m[0] == times[-1].date() and m[17] == annualization
    stats = vectorbt_trade_stats(closed)
    assert m[1] == stats["total_trades"]
    for k, key in enumerate(["win_rate", "profit_factor", "expectancy", "avg_win", "avg_loss", "net_profit"], start=2):
        assert_same(m[k], stats[key], key)
    with np.errstate(all="ignore"):
        for k, value in [(8, empyrical.cum_returns_final(returns)),
                         (9, empyrical.annual_return(returns, annualization=annualization)),
                         (10, empyrical.annual_volatility(returns, annualization=annualization)),
                         (11, empyrical.sharpe_ratio(returns, annualization=annualization)),
                         (12, empyrical.sortino_ratio(returns, annualization=annualization)),
                         (13, empyrical.max_drawdown(returns)),
                         (15, empyrical.calmar_ratio(returns, annualization=annualization))]:
            assert_same(m[k], float(value), f"metric column {k}")
    assert m[16] == pytest.approx(np.count_nonzero(want.position) / len(equity), rel=REL)


def check_parameters(conn, run_id: int, **expected) -> None:
    row = conn.execute("select r.*, r.parameters from perf.backtest_runs as r where run_id = %s", (run_id,))
    record = dict(zip([d.name for d in row.description], row.fetchone()))
    for key, value in expected.items():
        assert record[key] == value, f"backtest_runs.{key}"
        name = {"start_time": "start", "end_time": "end"}.get(key, key)  # the function's parameter names
        assert record["parameters"][name] == (value.isoformat() if isinstance(value, dt.datetime) else value), key
    assert record["finished_at"] is not None and record["final_equity"] is not None


# ----------------------------------------------------------------------------------------------

PARAMS = [
    dict(),
    dict(fees_bps=10.0, slippage_bps=5.0),
    dict(sizing="fixed_fraction", size_value=0.4, fees_bps=7.5),
    dict(stop_loss_pct=0.01, take_profit_pct=0.02, fees_bps=10.0, slippage_bps=2.0),
    dict(take_profit_pct=0.015, init_cash=2500.0),
    dict(sizing="risk", size_value=0.01, stop_loss_pct=0.008, fees_bps=10.0),
]


@pytest.mark.parametrize("params", PARAMS, ids=str)
def test_backtest_records_what_the_numpy_backtest_computes(conn, params):
    n = 2000
    bars = synthetic_bars(n, seed=21, vol=0.004)
    iid, times = add_instrument(conn, "AAA/USDT", bars)
    entries, exits = random_signals(n, seed=22, rate=0.03)
    add_signals(conn, "strategy_a", iid, times, entries, exits)
    specs = None
    if params.get("sizing") == "risk":
        conn.execute("select market.set_instrument_specs(%s, 0.01, 0.01, 1, 0.001, 0.001)", (iid,))
        specs = [Decimal("0.01"), Decimal("0.01"), Decimal("0.001"), Decimal("0.001"), Decimal("Infinity"),
                 Decimal("0"), Decimal("1")]
    run_id = run(conn, "strategy_a", iid, START, START + n * MINUTE, signals="signals.strategy_signals", **params)
    check_run(conn, run_id, bars, times, entries, exits, specs=specs, **params)
    check_parameters(conn, run_id, strategy="strategy_a", instrument_id=iid, timeframe="1m", start_time=START,
                     end_time=START + n * MINUTE, **params)
    assert conn.execute("select bars, signal_relation from perf.backtest_runs where run_id = %s",
                        (run_id,)).fetchone() == (n, "signals.strategy_signals")
    assert conn.execute("select count(*) from perf.backtest_trades where run_id = %s", (run_id,)).fetchone()[0] >= 5


@pytest.mark.skipif(not CAPTURES, reason="the shared Binance captures are not present (TSQ_CAPTURE_DIR)")
@pytest.mark.parametrize("capture", CAPTURES, ids=lambda p: p.name)
def test_backtest_on_real_capture_candles(conn, capture):
    # the 1-second bars of a real capture, stored as consecutive 1m candles (a real price path;
    # the captures are six minutes long)
    bars = capture_bars(capture)
    close = bars["close"]
    mean = np.convolve(close, np.ones(8) / 8, mode="full")[:len(close)]
    above = close > mean
    entries, exits = list(above & ~np.roll(above, 1)), list(~above & np.roll(above, 1))
    iid, times = add_instrument(conn, "REAL/USDT", bars)
    add_signals(conn, "mean_cross", iid, times, entries, exits)
    for params in (dict(fees_bps=10.0, slippage_bps=1.0), dict(stop_loss_pct=0.0003, take_profit_pct=0.0004)):
        run_id = run(conn, "mean_cross", iid, START, times[-1] + MINUTE, signals="signals.strategy_signals", **params)
        check_run(conn, run_id, bars, times, entries, exits, **params)


def test_a_signal_at_bar_t_fills_at_bar_t_plus_1_open_and_the_future_cannot_change_the_past(conn):
    n = 300
    bars = synthetic_bars(n, seed=5)
    iid, times = add_instrument(conn, "LA/USDT", bars)
    entries, exits = random_signals(n, seed=6, rate=0.05)
    add_signals(conn, "s", iid, times, entries, exits)
    run_id = run(conn, "s", iid, START, START + n * MINUTE, signals="signals.strategy_signals", slippage_bps=3.0)
    first = conn.execute("select entry_time, entry_price from perf.backtest_trades where run_id = %s"
                         " order by trade_no limit 1", (run_id,)).fetchone()
    signal_bar = next(i for i in range(n) if entries[i] and not exits[i])
    assert first == (times[signal_bar + 1], pytest.approx(bars["open"][signal_bar + 1] * (1 + 3e-4), rel=1e-12))
    before = conn.execute("select bar_time, position, cash, equity from perf.backtest_equity where run_id = %s"
                          " and bar_time < %s order by bar_time", (run_id, times[200])).fetchall()
    # rewrite every bar from 200 on: the equity up to bar 199 must not move
    conn.execute("update market.candles set open = open * 3, high = high * 3.5, low = low * 2, close = close * 2.5"
                 " where instrument_id = %s and open_time >= %s", (iid, times[200]))
    conn.execute("delete from signals.strategy_signals where bar_time >= %s", (times[199],))
    run_2 = run(conn, "s", iid, START, START + n * MINUTE, signals="signals.strategy_signals", slippage_bps=3.0)
    after = conn.execute("select bar_time, position, cash, equity from perf.backtest_equity where run_id = %s"
                         " and bar_time < %s order by bar_time", (run_2, times[200])).fetchall()
    assert after == before


def test_only_this_strategy_instrument_timeframe_and_range_count(conn):
    n = 200
    bars = synthetic_bars(n, seed=9)
    iid, times = add_instrument(conn, "ONE/USDT", bars)
    other, _ = add_instrument(conn, "TWO/USDT", bars)
    entries, exits = random_signals(n, seed=10, rate=0.05)
    add_signals(conn, "mine", iid, times, entries, exits)
    # noise the backtest must ignore: another strategy, instrument and timeframe, NEUTRAL rows
    everything = [True] * n
    add_signals(conn, "theirs", iid, times, everything, [False] * n)
    add_signals(conn, "mine", other, times, everything, [False] * n)
    add_signals(conn, "mine", iid, times, [i % 2 == 0 for i in range(n)], [i % 2 == 1 for i in range(n)], timeframe="5m")
    conn.execute("insert into signals.strategy_signals (signal_source, instrument_id, timeframe, bar_time, direction)"
                 " select 'mine', %s, '1m', t, 'NEUTRAL' from unnest(%s::timestamptz[]) as t"
                 " on conflict do nothing", (iid, times))
    # a range of bars 50..149: signals outside it do not count, bars are re-numbered from 50
    lo, hi = 50, 150
    run_id = run(conn, "mine", iid, times[lo], times[hi], signals="signals.strategy_signals")
    sub = {k: v[lo:hi] for k, v in bars.items()}
    check_run(conn, run_id, sub, times[lo:hi], entries[lo:hi], exits[lo:hi])


def test_default_relation_is_bi_trading_signals(conn):
    bars = synthetic_bars(100, seed=3)
    iid, times = add_instrument(conn, "BI/USDT", bars)
    entries, exits = random_signals(100, seed=4, rate=0.1)
    add_signals(conn, "s", iid, times, entries, exits)
    run_id = run(conn, "s", iid, START, START + 100 * MINUTE)
    assert conn.execute("select signal_relation from perf.backtest_runs where run_id = %s",
                        (run_id,)).fetchone()[0] == "bi.trading_signals"
    check_run(conn, run_id, bars, times, entries, exits)


@pytest.mark.parametrize("params,message", [
    (dict(signals="public.t"), "bi.trading_signals or signals.strategy_signals"),
    (dict(sizing="martingale"), "sizing is all_in, fixed_fraction or risk"),
    (dict(size_value=0.5), "size_value applies to fixed_fraction and risk"),
    (dict(sizing="fixed_fraction"), "needs size_value"),
    (dict(sizing="fixed_fraction", size_value=1.5), "needs size_value"),
    (dict(sizing="risk", size_value=0.01), "risk sizing needs a stop loss"),
    (dict(sizing="risk", size_value=0.01, stop_loss_pct=0.01), "no tick size or volume step"),
    (dict(stop_loss_pct=1.0), "stop_loss_pct is a fraction"),
    (dict(take_profit_pct=-0.1), "take_profit_pct is a positive"),
    (dict(fees_bps=-1.0), "basis points"),
    (dict(slippage_bps=10000.0), "basis points"),
    (dict(init_cash=0.0), "init_cash must be a positive"),
])
def test_bad_parameters_are_refused_with_a_sentence(conn, params, message):
    bars = synthetic_bars(20, seed=1)
    iid, times = add_instrument(conn, "E/USDT", bars, start=START)
    signals_mart(conn)
    params = {"signals": "signals.strategy_signals", **params}
    with pytest.raises(psycopg.Error, match=message):
        run(conn, "s", iid, START, START + 20 * MINUTE, **params)


def test_no_candles_no_instrument_no_timeframe_no_mart(conn):
    bars = synthetic_bars(20, seed=1)
    iid, _ = add_instrument(conn, "N/USDT", bars)
    with pytest.raises(psycopg.errors.UndefinedTable, match="bi.trading_signals does not exist yet"):
        run(conn, "s", iid, START, START + MINUTE)
    conn.rollback()
    iid, _ = add_instrument(conn, "N/USDT", bars)
    signals_mart(conn)
    for call, message in [
        ((iid, START - 100 * MINUTE, START - 50 * MINUTE, "1m"), "has no 1m candles in"),
        ((iid, START + MINUTE, START, "1m"), "must be after the start"),
        ((iid, START, START + MINUTE, "3m"), "no candles of timeframe 3m"),
        ((99999, START, START + MINUTE, "1m"), "no instrument with id 99999"),
    ]:
        conn.execute("savepoint s")
        with pytest.raises(psycopg.Error, match=message):
            conn.execute("select perf.backtest('s', %s, %s, %s, %s)", (call[0], call[3], call[1], call[2]))
        conn.execute("rollback to savepoint s")


def test_only_the_trader_runs_backtests_and_nobody_writes_the_tables(conn):
    bars = synthetic_bars(30, seed=2)
    iid, times = add_instrument(conn, "P/USDT", bars)
    add_signals(conn, "s", iid, times, [True] + [False] * 29, [False] * 30)
    conn.execute("set local role tsq_trader")
    run_id = run(conn, "s", iid, START, START + 30 * MINUTE)
    assert conn.execute("select count(*) from perf.backtest_equity where run_id = %s", (run_id,)).fetchone()[0] == 30
    for statement in ("insert into perf.backtest_runs (strategy, instrument_id, timeframe, start_time, end_time,"
                      " init_cash, signal_relation) values ('x', 1, '1m', now(), now() + interval '1 day', 1, 'x')",
                      "delete from perf.backtest_trades", "update perf.backtest_equity set cash = 0"):
        conn.execute("savepoint s")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(statement)
        conn.execute("rollback to savepoint s")
    conn.execute("reset role")
    conn.execute("set local role tsq_analyst")
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        run(conn, "s", iid, START, START + 30 * MINUTE)


def test_equity_rows_need_their_run_and_go_with_it(conn):
    # perf.backtest_equity's reference to its run, checked per statement (V0502)
    bars = synthetic_bars(40, seed=8)
    iid, times = add_instrument(conn, "I/USDT", bars)
    add_signals(conn, "s", iid, times, [True] + [False] * 39, [False] * 40)
    run_a = run(conn, "s", iid, START, START + 40 * MINUTE)
    run_b = run(conn, "s", iid, START, START + 40 * MINUTE)
    for statement, params in [
        ("insert into perf.backtest_equity (run_id, bar_time, position, cash) values (%s, now(), 0, 0)", (run_b + 100,)),
        ("update perf.backtest_equity set run_id = %s where run_id = %s and bar_time = %s", (run_b + 100, run_a, times[0])),
    ]:
        conn.execute("savepoint s")
        with pytest.raises(psycopg.errors.ForeignKeyViolation, match="not in perf.backtest_runs"):
            conn.execute(statement, params)
        conn.execute("rollback to savepoint s")
    conn.execute("delete from perf.backtest_runs where run_id = %s", (run_a,))
    counts = dict(conn.execute("select run_id, count(*) from perf.backtest_equity group by 1").fetchall())
    assert counts == {run_b: 40}, "deleting a run deletes its equity rows, and only those"
    conn.execute("truncate perf.backtest_runs cascade")
    assert conn.execute("select count(*) from perf.backtest_equity").fetchone()[0] == 0


def test_record_run_metrics_rebuilds_the_row_the_backtest_wrote(conn):
    # perf.record_run_metrics reads the run back from its tables (the daily procedure uses it for
    # runs without a row): the same numbers as perf.backtest computed from its arrays
    bars = synthetic_bars(500, seed=31, vol=0.004)
    iid, times = add_instrument(conn, "R/USDT", bars)
    entries, exits = random_signals(500, seed=32, rate=0.04)
    add_signals(conn, "s", iid, times, entries, exits)
    run_id = run(conn, "s", iid, START, START + 500 * MINUTE, fees_bps=10.0, init_cash=2500.0)
    columns = ("date, total_trades, win_rate, profit_factor, expectancy, avg_win, avg_loss, net_profit, total_return,"
               " annual_return, annual_volatility, sharpe_ratio, sortino_ratio, max_drawdown, max_drawdown_duration,"
               " calmar_ratio, exposure, annualization")
    query = f"select {columns} from perf.performance_metrics where run_id = %s"
    written = conn.execute(query, (run_id,)).fetchone()
    conn.execute("delete from perf.performance_metrics where run_id = %s", (run_id,))
    conn.execute("select perf.record_run_metrics(%s)", (run_id,))
    assert conn.execute(query, (run_id,)).fetchone() == written
    assert written[1] >= 3 and written[13] < 0


def test_bi_performance_metrics_shows_the_run_to_analysts(conn):
    bars = synthetic_bars(120, seed=41, vol=0.004)
    iid, times = add_instrument(conn, "B/USDT", bars)
    entries, exits = random_signals(120, seed=42, rate=0.05)
    add_signals(conn, "s", iid, times, entries, exits)
    run_id = run(conn, "s", iid, START, START + 120 * MINUTE, fees_bps=5.0)
    stored = conn.execute("select date, symbol, total_trades, sharpe_ratio, max_drawdown, net_profit"
                          " from perf.performance_metrics where run_id = %s", (run_id,)).fetchone()
    conn.execute("set local role tsq_analyst")
    shown = conn.execute("select date, symbol, total_trades, sharpe_ratio, max_drawdown, net_profit, source, strategy,"
                         " timeframe, exchange from bi.performance_metrics where run_id = %s", (run_id,)).fetchall()
    conn.execute("reset role")
    exchange = conn.execute("select exchange from market.instruments where instrument_id = %s", (iid,)).fetchone()[0]
    assert shown == [(*stored, "backtest", "s", "1m", exchange)]
