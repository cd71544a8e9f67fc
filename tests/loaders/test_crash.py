"""Crash safety: a loader run killed with SIGKILL at random points and re-run until done ends
with exactly the rows of an uninterrupted run (20 times). The runs are real processes (forked
from the test process, so no interpreter start-up per run) talking HTTP to the fake exchange."""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import time
from pathlib import Path

import psycopg

from loaders.cli import main
from loaders.fakes import MarketData
from loaders.fakes.binance import make_binance
from loaders.fakes.market import utc_us
from tests.loaders.helpers import close, expected_candles, expected_trades, stored_candles, stored_trades

ROUNDS = 20
# trading.dispatches (the dispatcher's decisions) references ops.loader_runs: emptied with it
TABLES = "market.candles, market.trades, market.quarantine, ops.watermarks, ops.loader_runs, trading.dispatches"


def _write_config(path: Path, base_url: str) -> Path:
    path.write_text(f"""
exchanges:
  binance:
    base_url: {base_url}
    pairs: [BTC/USDT]
    timeframes: [1m]
    datasets: [candles, trades]
    since: 2024-08-01
    page_size: 12
    min_interval: 0
    timeout: 2
""")
    return path


def _child(args: list[str]) -> None:
    os._exit(main(args))


def _start(args: list[str]) -> multiprocessing.Process:
    proc = multiprocessing.get_context("fork").Process(target=_child, args=(args,))
    proc.start()
    return proc


def _run_to_completion(args: list[str]) -> None:
    for _ in range(50):
        proc = _start(args)
        proc.join(60)
        if proc.exitcode == 0:
            return
        assert proc.exitcode == 3, f"loader run failed with exit code {proc.exitcode}"
        time.sleep(0.05)       # the killed run's session has not released its lock yet
    raise AssertionError("the loader never completed")


def _snapshot(url: str) -> tuple[list, list]:
    return stored_candles(url, "binance", "1m"), stored_trades(url, "binance")


def _reset(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"truncate {TABLES}")


def test_sigkill_at_random_points_then_rerun_gives_exactly_the_rows_of_an_uninterrupted_run(db_url, tmp_path):
    market = MarketData(now_us=utc_us("2024-08-01T01:00:30"), trades_per_minute=2)
    with make_binance({"BTCUSDT": market}) as binance:
        _crash_rounds(db_url, market, _write_config(tmp_path / "config.yaml", binance.url))


def _crash_rounds(db_url: str, market: MarketData, config: Path) -> None:
    args = ["run", "--config", str(config), "--url", db_url, "--quiet"]
    started = time.monotonic()
    _run_to_completion(args)
    # kill points spread over the length of a whole run on this machine (a fixed window let most
    # runs finish before the kill on a fast machine)
    run_seconds = time.monotonic() - started
    uninterrupted = _snapshot(db_url)
    assert close(uninterrupted[0], expected_candles(market, 60, fill_quiet=True))
    assert close(uninterrupted[1], expected_trades(market))
    rng = random.Random(20240801)
    killed_mid_run = 0
    for _ in range(ROUNDS):
        _reset(db_url)
        for _ in range(rng.choice((1, 1, 2))):
            proc = _start(args)
            time.sleep(rng.uniform(0.02, 0.95) * run_seconds)
            if proc.is_alive():
                os.kill(proc.pid, signal.SIGKILL)
                killed_mid_run += 1
            proc.join(30)
        _run_to_completion(args)
        assert _snapshot(db_url) == uninterrupted
        with psycopg.connect(db_url) as conn:
            statuses = dict(conn.execute("select status, count(*) from ops.loader_runs group by 1").fetchall())
            assert conn.execute("select count(*) from market.quarantine").fetchone()[0] == 0
        assert "running" not in statuses or statuses["running"] == 0
    assert killed_mid_run >= ROUNDS // 2
