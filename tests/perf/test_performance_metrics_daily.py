"""perf.refresh_performance_metrics: the live daily row equals the oracles recomputed from the
ledger the test wrote (empyrical over the daily equity returns, vectorbt's trade definitions
over the closed round trips), and rerunning a date replaces its rows."""

from __future__ import annotations

import datetime as dt

import empyrical
import numpy as np
import pytest

from tests.perf.test_metrics_oracles import vectorbt_trade_stats



def test_daily_live_metrics_equal_the_oracles(conn) -> None:
    iid = conn.execute("select market.register_instrument('binance', 'BTCUSDT')").fetchone()[0]
    conn.execute(
        "insert into market.candles (instrument_id, timeframe, open_time, open, high, low, close, source)"
        " values (%s, '1m', date_trunc('minute', now()) - interval '1 minute', 100, 100, 100, 100, 't')", (iid,))
    day0 = dt.datetime(2026, 1, 1, 23, 0, tzinfo=dt.timezone.utc)
    equities = [10000, 10150, 10020, 10400, 10390, 10800]
    for d, e in enumerate(equities):  # two snapshots a day: the last one of each day counts
        conn.execute("select trading.record_portfolio_snapshot(%s::numeric, %s::numeric, %s)", (e - 50, e - 50, day0 + dt.timedelta(days=d, hours=-5)))
        conn.execute("select trading.record_portfolio_snapshot(%s::numeric, %s::numeric, %s)", (e, e, day0 + dt.timedelta(days=d)))
    conn.execute("select trading.record_portfolio_snapshot(99999, 99999, now())")  # after the date: ignored
    pnl = []
    for i, (buy, sell, qty) in enumerate([(100, 110, 1), (100, 95, 2), (100, 100, 1), (100, 130, 0.5)]):
        for side, price in (("buy", buy), ("sell", sell)):
            cid = f"o{i}{side}"
            conn.execute("select trading.submit_order(%s, %s, %s::numeric, p_client_order_id => %s)", (iid, side, qty, cid))
            conn.execute("select trading.set_order_status(%s, 'submitted')", (cid,))
            conn.execute("select trading.record_fill(%s, %s::numeric, %s::numeric, 0.1, %s)", (cid, qty, price, day0 + dt.timedelta(days=2)))
        pnl.append((sell - buy) * qty - 0.2)
    as_of = (day0 + dt.timedelta(days=len(equities) - 1)).date()
    conn.execute("call perf.refresh_performance_metrics(%s)", (as_of,))
    conn.execute("call perf.refresh_performance_metrics(%s)", (as_of,))
    rows = conn.execute(
        "select symbol, total_trades, win_rate, profit_factor, expectancy, net_profit, sharpe_ratio,"
        " max_drawdown, annual_return, sortino_ratio from perf.performance_metrics where date = %s and run_id is null"
        " order by symbol nulls first", (as_of,)).fetchall()
    assert [r[0] for r in rows] == [None, "BTC/USDT"], "one row for all instruments and one per symbol, once"
    returns = np.array(equities[1:], float) / np.array(equities[:-1], float) - 1
    trades = vectorbt_trade_stats(pnl)
    symbol, total, win_rate, pf, expectancy, net, sharpe, mdd, ann, sortino = rows[0]
    assert total == 4 and win_rate == pytest.approx(trades["win_rate"], rel=1e-9)
    assert pf == pytest.approx(trades["profit_factor"], rel=1e-9)
    assert expectancy == pytest.approx(trades["expectancy"], rel=1e-9)
    assert net == pytest.approx(trades["net_profit"], rel=1e-9)
    assert sharpe == pytest.approx(empyrical.sharpe_ratio(returns, annualization=365), rel=1e-9)
    assert mdd == pytest.approx(empyrical.max_drawdown(returns), rel=1e-9)
    assert ann == pytest.approx(empyrical.annual_return(returns, annualization=365), rel=1e-9)
    assert sortino == pytest.approx(empyrical.sortino_ratio(returns, annualization=365), rel=1e-9)
    assert rows[1][6] is None, "per-symbol rows carry trade statistics only"
