"""perf.backtest on the real signals mart: 30 days of a random walk as native 15m, 1h and 4h
candles (the strategies' timeframes and the 4h trend), the declared feature indicators
maintained, dbt builds signals.strategy_signals and bi.trading_signals; then a backtest of every
enabled strategy of the seed equals the numpy backtest run on the candles and the BUY/SELL rows
read back from bi.trading_signals."""

from __future__ import annotations

import csv

import numpy as np
import psycopg
import pytest

from db.dbt_runner import PROJECT_DIR
from tests.conftest import _clone, _drop_database
from tests.features import helpers as h
from tests.perf.test_backtest import check_run, run

DAYS = 30
ANNUALIZATION = {"15m": 35040, "1h": 8760}


def enabled_strategies() -> list[tuple[str, str]]:
    with (PROJECT_DIR / "seeds" / "strategies.csv").open(newline="") as fh:
        return [(r["strategy_name"], r["timeframe"]) for r in csv.DictReader(fh) if r["enabled"] == "true"]


@pytest.fixture(scope="module")
def mart(template_db, worker_tag, tmp_path_factory):
    name = f"tsq_bt_dbt_{worker_tag}"
    url = _clone(template_db, name)
    with psycopg.connect(url, autocommit=True) as conn:
        iid = h.register(conn, "WALK/USDT")
        walk = h.random_walk_candles(DAYS * 1440, seed=31).set_index("open_time")
        for timeframe, rule in (("15m", "15min"), ("1h", "1h"), ("4h", "4h")):
            bars = walk.resample(rule).agg({"open": "first", "high": "max", "low": "min", "close": "last",
                                            "volume": "sum"}).reset_index()
            with conn.cursor().copy("copy market.candles (instrument_id, timeframe, open_time, open, high, low,"
                                    " close, volume, source) from stdin") as copy:
                for r in bars.itertuples(index=False):
                    copy.write_row((iid, timeframe, r.open_time.to_pydatetime(), r.open, r.high, r.low, r.close,
                                    r.volume, "test"))
        h.maintain(conn, [iid])
        h.refresh(conn)
    h.dbt(url, tmp_path_factory.mktemp("dbt"), "build", "--select", "+trading_signals")
    yield url, iid
    _drop_database(name)


@pytest.mark.parametrize("strategy,timeframe", enabled_strategies())
def test_backtest_of_each_strategy_equals_the_numpy_backtest_of_its_mart_signals(mart, strategy, timeframe):
    url, iid = mart
    with psycopg.connect(url) as conn:
        candles = conn.execute(
            f"select open_time, open, high, low, close from market.candles_{timeframe}"  # noqa: S608 - known names
            " where instrument_id = %s order by open_time", (iid,)).fetchall()
        times = [c[0] for c in candles]
        bars = {k: np.array([c[i] for c in candles], float) for i, k in enumerate(("open", "high", "low", "close"), 1)}
        directions = dict(conn.execute(
            "select bar_time, direction from bi.trading_signals where signal_source = %s and instrument_id = %s"
            " and timeframe = %s", (strategy, iid, timeframe)).fetchall())
        entries = [directions.get(t) == "BUY" for t in times]
        exits = [directions.get(t) == "SELL" for t in times]
        params = dict(fees_bps=10.0, slippage_bps=2.0)
        run_id = run(conn, strategy, iid, times[0], times[-1] + (times[1] - times[0]), timeframe, **params)
        check_run(conn, run_id, bars, times, entries, exits, annualization=ANNUALIZATION[timeframe], **params)
        assert conn.execute("select signal_relation, bars from perf.backtest_runs where run_id = %s",
                            (run_id,)).fetchone() == ("bi.trading_signals", len(times))
        conn.rollback()


def test_the_mart_has_signals_to_backtest(mart):
    url, iid = mart
    with psycopg.connect(url) as conn:
        counts = dict(conn.execute("select signal_source, count(*) filter (where direction in ('BUY', 'SELL'))"
                                   " from bi.trading_signals group by 1").fetchall())
    traded = [s for s, _ in enabled_strategies() if counts.get(s, 0) >= 2]
    assert len(traded) >= 4, f"too few strategies fire on the walk: {counts}"


def test_demo_section_records_a_run_per_strategy_and_prints_its_metrics(mart):
    from scripts.demo_backtests import backtest_lines

    url, iid = mart
    with psycopg.connect(url, autocommit=True) as conn:
        before = conn.execute("select coalesce(max(run_id), 0) from perf.backtest_runs").fetchone()[0]
        lines = backtest_lines(conn, url, build=False)
        runs = conn.execute("select r.strategy, m.total_trades, r.final_equity from perf.backtest_runs as r"
                            " join perf.performance_metrics as m using (run_id) where r.run_id > %s", (before,)).fetchall()
    assert sorted(r[0] for r in runs) == sorted(s for s, _ in enabled_strategies()), "one run per enabled strategy"
    names = {r[0] for r in runs}
    table = {line.split()[0]: line.split() for line in lines if line[:1].strip() and line.split()[0] in names}
    for strategy, trades, equity in runs:
        assert int(table[strategy][5]) == trades and table[strategy][-1] == f"{equity:.2f}", table[strategy]
    assert any(line.startswith("open positions in the trading ledger (bi.open_positions): none") for line in lines)
    assert any(line.startswith("risk state (bi.risk_state): ACTIVE") for line in lines)
