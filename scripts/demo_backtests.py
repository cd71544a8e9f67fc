"""The backtest part of `make demo`: build the signals mart on the demo's candles, record a
backtest of each enabled demo strategy (perf.backtest), and describe the results: the metrics
table, the open positions (the backtests' and the ledger's) and the risk state.

    from scripts.demo_backtests import backtest_lines
    print("\\n".join(backtest_lines(conn, database_url())))

`conn` is an autocommit connection as the administrator (the demo's); every run is committed.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from psycopg import sql

from db.dbt_runner import maintain_feature_indicators, run_dbt

FEES_BPS, SLIPPAGE_BPS = 10.0, 2.0

# per enabled strategy: the instrument where it fired most (then the one with most bars), all its bars
CHOICES = """
with strategies as (
    select s.strategy_name, s.timeframe from staging.strategies as s where s.enabled
),
fired as (
    select g.signal_source, g.instrument_id, count(*) filter (where g.direction in ('BUY', 'SELL')) as signals
    from bi.trading_signals as g group by 1, 2
)
select distinct on (s.strategy_name) s.strategy_name, s.timeframe, i.instrument_id, i.exchange, i.symbol,
       coalesce(f.signals, 0), b.first_bar, b.end_time
from strategies as s
cross join market.instruments as i
left join fired as f on f.signal_source = s.strategy_name and f.instrument_id = i.instrument_id
left join lateral (
    select min(x.open_time) as first_bar, max(x.open_time) + min(t.bucket_width) as end_time, count(*) as bars
    from {candles} as x
    inner join market.timeframes as t on t.timeframe = s.timeframe
    where x.instrument_id = i.instrument_id
) as b on true
where s.timeframe = %(tf)s and b.bars > 0
order by s.strategy_name, coalesce(f.signals, 0) desc, b.bars desc, i.instrument_id
"""


def build_signals(conn, url: str) -> None:
    """The feature indicators, their values and the dbt mart (signals.strategy_signals, bi.trading_signals)."""
    maintain_feature_indicators(conn)
    conn.execute("select count(*) from ta.refresh_indicators()")
    with tempfile.TemporaryDirectory(prefix="tsq-demo-dbt-") as run_dir:
        run_dbt(["build", "--select", "+trading_signals", "--exclude-resource-type", "test",
                 "--exclude-resource-type", "unit_test"], url, run_dir=Path(run_dir), capture=True, check=True)


def _pct(value, digits: int = 1) -> str:
    return "-" if value is None else f"{float(value) * 100:.{digits}f}%"


def _num(value, spec: str = ".2f") -> str:
    return "-" if value is None else format(float(value), spec)


def backtest_lines(conn, url: str, *, build: bool = True) -> list[str]:
    """The demo's backtest section; build=False uses the signals mart as it is."""
    lines = ["", "== backtests of the demo strategies (perf.backtest on bi.trading_signals), positions, risk"]
    if build:
        build_signals(conn, url)
    timeframes = [r[0] for r in conn.execute("select distinct timeframe from staging.strategies where enabled")]
    choices = []
    for tf in timeframes:
        query = sql.SQL(CHOICES).format(candles=sql.Identifier("market", f"candles_{tf}"))
        choices += conn.execute(query, {"tf": tf}).fetchall()
    runs = []
    for strategy, tf, iid, exchange, symbol, signals, first_bar, end_time in sorted(choices):
        run_id = conn.execute(
            "select perf.backtest(%s, %s, %s, %s, %s, p_fees_bps => %s, p_slippage_bps => %s)",
            (strategy, iid, tf, first_bar, end_time, FEES_BPS, SLIPPAGE_BPS)).fetchone()[0]
        runs.append(run_id)
    lines.append(f"{len(runs)} runs recorded (all in, fees {FEES_BPS:g} bps, slippage {SLIPPAGE_BPS:g} bps, "
                 "a signal fills at the next bar's open); perf.performance_metrics:")
    rows = conn.execute(
        "select r.strategy, i.exchange || ' ' || i.symbol, r.timeframe, r.bars, m.total_trades, m.win_rate,"
        " m.profit_factor, m.net_profit, m.total_return, m.sharpe_ratio, m.max_drawdown, m.exposure, r.final_equity"
        " from perf.backtest_runs as r join perf.performance_metrics as m using (run_id)"
        " join market.instruments as i on i.instrument_id = r.instrument_id where r.run_id = any(%s)"
        " order by r.strategy", (runs,)).fetchall()
    lines.append(f"{'strategy':<24} {'instrument':<17} {'tf':>3} {'bars':>5} {'trades':>6} {'win':>6} "
                 f"{'PF':>6} {'net P/L':>9} {'return':>7} {'sharpe':>7} {'max DD':>7} {'exposed':>7} {'equity':>9}")
    for strategy, instrument, tf, bars, trades, win, pf, net, ret, sharpe, mdd, exposure, equity in rows:
        lines.append(f"{strategy:<24} {instrument:<17} {tf:>3} {bars:>5} {trades:>6} {_pct(win, 0):>6} "
                     f"{_num(pf):>6} {_num(net):>9} {_pct(ret, 2):>7} {_num(sharpe):>7} {_pct(mdd, 2):>7} "
                     f"{_pct(exposure, 0):>7} {_num(equity):>9}")
    open_trades = conn.execute(
        "select r.strategy, i.symbol, t.entry_time, t.entry_price, t.quantity, e.close"
        " from perf.backtest_trades as t join perf.backtest_runs as r using (run_id)"
        " join market.instruments as i on i.instrument_id = r.instrument_id"
        " join perf.backtest_equity as e on e.run_id = t.run_id and e.bar_time = (select max(bar_time) from"
        " perf.backtest_equity as x where x.run_id = t.run_id)"
        " where t.status = 'OPEN' and t.run_id = any(%s) order by r.strategy", (runs,)).fetchall()
    lines.append(f"open positions at the end of the backtests: {len(open_trades) or 'none'}")
    for strategy, symbol, entry_time, entry_price, qty, close in open_trades:
        lines.append(f"  {strategy:<24} {symbol:<10} long {qty:.6g} since {entry_time:%Y-%m-%d %H:%M} "
                     f"@ {entry_price:.6g}, last close {close:.6g} (unrealized {qty * (close - entry_price):+.2f})")
    ledger = conn.execute("select exchange, symbol, side, quantity, average_entry_price, unrealized_pnl"
                          " from bi.open_positions order by 1, 2").fetchall()
    lines.append(f"open positions in the trading ledger (bi.open_positions): {len(ledger) or 'none'}")
    for exchange, symbol, side, qty, avg, upnl in ledger:
        lines.append(f"  {exchange} {symbol} {side} {qty} @ {avg} (unrealized {upnl})")
    state = conn.execute("select trading_state, state_reason, equity, peak_balance, drawdown, daily_pnl,"
                         " max_daily_loss_pct, max_drawdown_pct, max_orders_per_window, order_rate_window"
                         " from bi.risk_state").fetchone()
    if state is None:
        lines.append("risk state: no risk.trading_state row")
    else:
        trading_state, reason, equity, peak, dd, daily, max_daily, max_dd, max_orders, window = state
        lines.append(f"risk state (bi.risk_state): {trading_state} ({reason}); equity {_num(equity)}, peak "
                     f"{_num(peak)}, drawdown {_pct(dd, 2)}, daily P/L {_num(daily)}; limits: daily loss "
                     f"{_pct(max_daily, 0)}, kill switch at {_pct(max_dd, 0)} drawdown, {max_orders} orders per "
                     f"{window.total_seconds():g} s")
        if equity is None:
            lines.append("  no equity snapshot yet: risk.check_order refuses entries until one is recorded "
                         "(trading.record_portfolio_snapshot), i.e. it fails closed")
    return lines


if __name__ == "__main__":
    from db.connection import connect, database_url

    with connect(autocommit=True) as connection:
        print("\n".join(backtest_lines(connection, database_url())))
