"""Test data for the user surfaces (API, dashboards, report, watch): synthetic market data through
the real loader and rollups, maintained indicators, strategy signals, a small trading ledger
written through the trading.* functions, and a backtest run with its equity curve and metrics.

bi.trading_signals is built by dbt (dbt_project/models/signals); a dbt run costs minutes, so when
it is absent the same contract (columns and types of signals.strategy_signals / bi.trading_signals
in _signals__models.yml) is created here as a table and a view, filled with chosen signals.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import numpy as np
import psycopg

ROOT = Path(__file__).resolve().parents[1]
STRATEGY = "rsi_reversion"

SIGNALS_CONTRACT = """
create table signals.strategy_signals (
    symbol text, instrument_id integer, exchange text, timeframe text, signal_type text,
    signal_source text, direction text, strength double precision, confidence double precision,
    parameters jsonb, bar_time timestamptz, signal_time timestamptz, generated_at timestamptz
);
create view bi.trading_signals as
select symbol, instrument_id, exchange, timeframe, signal_type, signal_source, direction, strength,
    confidence, parameters, bar_time, signal_time, generated_at
from signals.strategy_signals;
"""


def load_market(url: str, *, instruments: int = 2, days: int = 3, trades_per_day: int = 6000,
                start: dt.datetime | None = None) -> dt.datetime:
    """Synthetic trades through scripts.synthetic, rollups, rsi/ema/bbands maintained on 1h of the
    first instrument, and a fresh 1m candle per instrument (the risk checks want a current price).
    Returns the start of the data."""
    start = start or (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=days + 1)).replace(
        hour=0, minute=0, second=0, microsecond=0)
    done = subprocess.run([sys.executable, "-m", "scripts.synthetic", "--instruments", str(instruments),
                           "--days", str(days), "--start", start.strftime("%Y-%m-%d"),
                           "--trades-per-day", str(trades_per_day), "--load", "--quiet", "--url", url],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("call market.refresh_rollups()")
        for indicator, params in (("rsi", '{"timeperiod": 14}'), ("ema", '{"timeperiod": 20}'), ("bbands", "{}")):
            conn.execute("select ta.maintain('synthetic', 'BTCUSDT', '1h', %s, %s::jsonb)", (indicator, params))
        conn.execute("select * from ta.refresh_indicators()")
    add_fresh_candles(url)
    return start


def add_fresh_candles(url: str) -> None:
    """A 1m candle a minute ago per instrument at its last close (the risk checks want a current price)."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "insert into market.candles (instrument_id, timeframe, open_time, open, high, low, close, volume, source)"
            " select i.instrument_id, '1m', date_trunc('minute', now()) - interval '1 minute',"
            " c.close, c.close * 1.001, c.close * 0.999, c.close, 1, 'test'"
            " from market.instruments as i cross join lateral (select m.close from market.candles_1m as m"
            " where m.instrument_id = i.instrument_id order by m.open_time desc limit 1) as c"
            " on conflict do nothing")
        conn.execute("call market.refresh_rollups()")
        conn.execute("select * from ta.refresh_indicators()")


def instrument_id(conn: psycopg.Connection, symbol: str = "BTC/USDT") -> int:
    return conn.execute("select instrument_id from market.instruments where symbol = %s", (symbol,)).fetchone()[0]


def seed_signals(url: str, *, timeframe: str = "1h", every: int = 9) -> int:
    """BUY / SELL signals of STRATEGY on alternate bars `every` bars apart (BTC/USDT)."""
    with psycopg.connect(url, autocommit=True) as conn:
        if not conn.execute("select to_regclass('bi.trading_signals') is not null").fetchone()[0]:
            conn.execute("set role tsq_owner")
            conn.execute(SIGNALS_CONTRACT)
            conn.execute("reset role")
        iid = instrument_id(conn)
        bars = [r[0] for r in conn.execute(
            f"select open_time from market.candles_{timeframe} where instrument_id = %s order by open_time",
            (iid,)).fetchall()]
        rows = [(t, "BUY" if k % 2 == 0 else "SELL") for k, t in enumerate(bars[every::every])]
        with conn.cursor() as cur:
            cur.executemany(
                "insert into signals.strategy_signals (symbol, instrument_id, exchange, timeframe, signal_type,"
                " signal_source, direction, strength, confidence, parameters, bar_time, signal_time, generated_at)"
                " values ('BTC/USDT', %s, 'synthetic', %s, 'rsi', %s, %s, 0.7, 0.6, '{}', %s, %s, now())",
                [(iid, timeframe, STRATEGY, d, t, t) for t, d in rows])
        return len(rows)


def seed_trading(url: str) -> dict[str, list[str]]:
    """A strategy, a closed winning and a closed losing round trip on BTC/USDT and an open one on
    ETH/USDT, all through submit_order / set_order_status / record_fill, plus portfolio snapshots."""
    now = dt.datetime.now(dt.timezone.utc)
    with psycopg.connect(url, autocommit=True) as conn:
        btc, eth = instrument_id(conn, "BTC/USDT"), instrument_id(conn, "ETH/USDT")
        for k, (balance, equity) in enumerate(((10000, 10000), (10020, 10035), (10050, 10040))):
            conn.execute("select trading.record_portfolio_snapshot(%s, %s, %s)",
                         (balance, equity, now - dt.timedelta(minutes=30 - 10 * k)))
        conn.execute("select trading.register_strategy(%s, 'rsi_reversion', '{\"timeperiod\": 14}'::jsonb)", (STRATEGY,))
        ids: list[str] = []

        def order(iid: int, side: str, qty: str, price: str, fee: str, minutes_ago: int) -> str:
            cid = conn.execute("select (trading.submit_order(%s, %s, %s::numeric, p_strategy => %s)).client_order_id",
                               (iid, side, qty, STRATEGY)).fetchone()[0]
            conn.execute("select trading.set_order_status(%s, 'submitted')", (cid,))
            conn.execute("select trading.record_fill(%s, %s::numeric, %s::numeric, %s::numeric, %s)",
                         (cid, qty, price, fee, now - dt.timedelta(minutes=minutes_ago)))
            ids.append(cid)
            return cid

        order(btc, "buy", "0.010", "100.5", "0.01", 25)
        order(btc, "sell", "0.010", "103.25", "0.01", 20)   # +2.75 × 0.01 − fees
        order(btc, "buy", "0.020", "104.0", "0.02", 15)
        order(btc, "sell", "0.020", "101.5", "0.02", 10)    # loss
        order(eth, "buy", "0.5", "20.0", "0.005", 5)        # stays open
    return {"client_order_ids": ids}


def seed_backtest(url: str, *, timeframe: str = "1h", init_cash: float = 10_000.0, fees: float = 0.001) -> int:
    """A backtest run of STRATEGY on BTC/USDT: the signals executed at the next bar's open (long
    only, all in), its equity per bar, trades and a metrics row — computed here with numpy."""
    with psycopg.connect(url, autocommit=True) as conn:
        iid = instrument_id(conn)
        bars = conn.execute(f"select open_time, open, close from market.candles_{timeframe}"
                            " where instrument_id = %s order by open_time", (iid,)).fetchall()
        sig = dict(conn.execute("select bar_time, direction from bi.trading_signals where signal_source = %s"
                                " and instrument_id = %s and timeframe = %s", (STRATEGY, iid, timeframe)).fetchall())
        cash, qty, equity, trades, entry = init_cash, 0.0, [], [], None
        for k, (t, o, c) in enumerate(bars):
            prev = sig.get(bars[k - 1][0]) if k else None
            if prev == "BUY" and qty == 0:
                qty = cash / (o * (1 + fees))
                entry = (t, o, cash)
                cash = 0.0
            elif prev == "SELL" and qty > 0:
                proceeds = qty * o * (1 - fees)
                trades.append((entry[0], entry[1], t, o, qty, entry[2] * fees / (1 + fees) + qty * o * fees,
                               proceeds - entry[2], (proceeds - entry[2]) / entry[2] * 100))
                cash, qty = proceeds, 0.0
            equity.append((t, c, qty, cash, cash + qty * c))
        run_id = conn.execute(
            "insert into perf.backtest_runs (strategy, instrument_id, timeframe, start_time, end_time, init_cash,"
            " fees_bps, signal_relation, bars, final_equity, finished_at)"
            " values (%s, %s, %s, %s, %s, %s, %s, 'bi.trading_signals', %s, %s, now()) returning run_id",
            (STRATEGY, iid, timeframe, bars[0][0], bars[-1][0] + dt.timedelta(hours=1), init_cash, fees * 1e4,
             len(bars), equity[-1][4])).fetchone()[0]
        with conn.cursor() as cur:
            cur.executemany("insert into perf.backtest_equity (run_id, bar_time, close, position, cash, equity)"
                            " values (%s, %s, %s, %s, %s, %s)", [(run_id, *e) for e in equity])
            cur.executemany("insert into perf.backtest_trades (run_id, trade_no, entry_time, entry_price, exit_time,"
                            " exit_price, quantity, fees, pnl, pnl_percent, exit_reason, status)"
                            " values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 'signal', 'CLOSED')",
                            [(run_id, n + 1, *tr) for n, tr in enumerate(trades)])
        eq = np.array([e[4] for e in equity])
        peak = np.maximum.accumulate(np.concatenate([[init_cash], eq]))[1:]
        pnl = np.array([tr[6] for tr in trades])
        conn.execute(
            "insert into perf.performance_metrics (date, run_id, total_trades, win_rate, net_profit, total_return,"
            " max_drawdown, exposure, annualization) values (%s, %s, %s, %s, %s, %s, %s, %s, 8760)",
            (bars[-1][0].date(), run_id, len(trades), float((pnl > 0).mean()) if len(pnl) else None,
             float(pnl.sum()), float(eq[-1] / init_cash - 1), float((eq / peak - 1).min()),
             float(np.mean([e[2] > 0 for e in equity]))))
        return run_id
