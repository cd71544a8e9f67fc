"""The database restarts during a run: the run fails with one clear sentence (or finishes), and
the next run completes — nothing lost, nothing duplicated. Uses a throwaway cluster of its own
(never the shared embedded cluster the other tests use)."""

from __future__ import annotations

import multiprocessing
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pytest

from db.cluster import EmbeddedCluster, find_bindir
from db.migrate import migrate
from loaders.cli import main
from loaders.fakes import MarketData
from loaders.fakes.binance import make_binance
from loaders.fakes.market import utc_us
from tests.loaders.helpers import close, expected_candles, stored_candles


@pytest.fixture
def throwaway_cluster(db_mode):
    home = Path(tempfile.mkdtemp(prefix="tsq-restart-", dir="/tmp"))
    os.chmod(home, 0o755)              # the postgres user (when running as root) must reach it
    cluster = EmbeddedCluster(data_dir=home / "pgdata", port=random.randint(55000, 59999), bindir=find_bindir())
    try:
        cluster.start()
        url = cluster.url("tsquant")
        migrate(url, mode=db_mode, create_db=True, log=lambda _msg: None)
        yield cluster, url
    finally:
        try:
            cluster.stop()
        finally:
            shutil.rmtree(home, ignore_errors=True)


def _child(args: list[str], stderr_path: str) -> None:
    sys.stderr = open(stderr_path, "w", buffering=1)
    code = main(args)
    sys.stderr.flush()
    os._exit(code)


def test_database_restart_during_a_run_then_the_next_run_completes(throwaway_cluster, tmp_path):
    cluster, url = throwaway_cluster
    market = MarketData(now_us=utc_us("2024-08-01T02:00:30"))
    with make_binance({"BTCUSDT": market}) as binance:
        klines = binance.routes[("GET", "/api/v3/klines")]

        def slow_klines(req):
            time.sleep(0.1)
            return klines(req)

        binance.route("GET", "/api/v3/klines", slow_klines)
        args = ["candles", "--exchange", "binance", "--symbol", "BTC/USDT", "--since", "2024-08-01",
                "--page-size", "6", "--base-url", binance.url, "--url", url, "--quiet", "--min-interval", "0"]
        stderr_file = tmp_path / "stderr.txt"
        proc = multiprocessing.get_context("fork").Process(target=_child, args=(args, str(stderr_file)))
        proc.start()
        time.sleep(1.0)
        assert proc.is_alive(), "the run finished before the restart: make it slower"
        cluster.stop()
        cluster.start()
        proc.join(60)
        message = stderr_file.read_text()
        if proc.exitcode != 0:
            assert proc.exitcode == 1
            assert "lost the database connection" in message and "next run continues" in message
            assert "Traceback" not in message
        partial = stored_candles(url, "binance", "1m")
        expected = expected_candles(market, 60, fill_quiet=True)
        assert close(partial, expected[:len(partial)]) and len(partial) % 6 == 0
        assert main(args) == 0
    assert close(stored_candles(url, "binance", "1m"), expected)
    import psycopg

    with psycopg.connect(url) as conn:
        statuses = [r[0] for r in conn.execute("select status from ops.loader_runs order by run_id")]
    assert statuses[-1] == "succeeded" and "running" not in statuses
