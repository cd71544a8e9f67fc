"""Idempotency of the ingest core: the same file twice, overlapping windows, a batch failing
midway, and a run killed with SIGKILL then re-run all end with exactly one copy of each row."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import psycopg
import pytest

from loaders.binance_capture import import_files
from loaders.core.ingest import TRADES, load_batch
from loaders.core.runs import JobLocked, LoaderRun
from loaders.core.instruments import attach_ids
from loaders.sources.binance_capture import parse_capture
from scripts.synthetic import generate_trades, register

from .helpers import CAPTURES

ROOT = Path(__file__).resolve().parents[2]
needs_captures = pytest.mark.skipif(not CAPTURES, reason="the shared Binance captures are not present")


def _expected_keys(path) -> tuple[int, int]:
    cap = parse_capture(path)
    return (len(cap.trades.drop_duplicates(["symbol", "time", "trade_id"])),
            len(cap.quotes.drop_duplicates(["symbol", "time", "update_id"])))


@needs_captures
def test_loading_the_same_capture_twice_keeps_one_copy_of_each_row(db_url: str) -> None:
    path = CAPTURES[0]
    n_trades, n_quotes = _expected_keys(path)
    with psycopg.connect(db_url) as conn:
        _, first, _ = import_files(conn, [path], batch_size=7000)
        _, second, per = import_files(conn, [path], batch_size=7000)
        assert conn.execute("select count(*) from market.trades").fetchone()[0] == n_trades
        assert conn.execute("select count(*) from market.quotes").fetchone()[0] == n_quotes
    assert first.loaded == n_trades + n_quotes and first.balanced
    assert second.loaded == 0 and second.duplicate == n_trades + n_quotes and second.balanced
    assert per["trades"].duplicate == n_trades


def test_overlapping_windows_leave_exactly_one_copy(conn: psycopg.Connection) -> None:
    trades = generate_trades(2, 0.2, seed=4, start="2024-04-02", trades_per_day=30_000)
    frame = attach_ids(trades.sort_values(["time", "trade_id"]).reset_index(drop=True), register(conn, n_instruments=2))
    n = len(frame)
    windows = [(0, n // 2), (n // 3, 2 * n // 3), (n // 4, n), (0, n)]
    total_loaded = 0
    for lo, hi in windows:
        c = load_batch(conn, TRADES, frame.iloc[lo:hi], source="test")
        assert c.balanced and c.quarantined == 0
        total_loaded += c.loaded
    assert total_loaded == n
    stored = conn.execute("select count(*), count(distinct (instrument_id, trade_id)) from market.trades").fetchone()
    assert stored == (n, n)


def test_a_batch_that_fails_midway_leaves_nothing_behind(db_url: str, monkeypatch) -> None:
    trades = generate_trades(1, 0.1, seed=8, start="2024-04-03", trades_per_day=50_000)
    with psycopg.connect(db_url) as conn:
        frame = attach_ids(trades, register(conn, n_instruments=1))
        calls = {"n": 0}
        original = LoaderRun._watermark

        def failing_watermark(self, *args):
            # Runs after the batch's COPY, inside its transaction: the second batch dies here.
            calls["n"] += 1
            if calls["n"] == 2:
                raise RuntimeError("simulated failure after COPY")
            return original(self, *args)

        monkeypatch.setattr(LoaderRun, "_watermark", failing_watermark)
        with pytest.raises(RuntimeError, match="simulated failure"):
            with LoaderRun(conn, job="fail_test", source="test") as run:
                run.load(TRADES, frame, batch_size=1000)
        assert conn.execute("select count(*) from market.trades").fetchone()[0] == 1000
        status, loaded, batches = conn.execute(
            "select status, rows_loaded, batches from ops.loader_runs where run_id = %s", (run.run_id,)).fetchone()
        assert (status, loaded, batches) == ("failed", 1000, 1)
        hw = conn.execute("select (extract(epoch from high_water) * 1e6)::bigint from ops.watermarks"
                          " where job = 'fail_test'").fetchone()[0]
        assert hw == int(frame["time"].iloc[:1000].max())


@needs_captures
def test_a_run_killed_with_sigkill_and_rerun_ends_with_exactly_the_expected_rows(db_url: str) -> None:
    path = CAPTURES[0]
    n_trades, n_quotes = _expected_keys(path)
    cmd = [sys.executable, "-m", "loaders.binance_capture", str(path), "--url", db_url, "--batch-size", "1500",
           "--quiet"]
    slow = ["--pause-between-batches", "0.15"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(cmd + slow, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    with psycopg.connect(db_url, autocommit=True) as conn:
        deadline = time.time() + 60
        while time.time() < deadline:
            row = conn.execute("select batches from ops.loader_runs order by run_id desc limit 1").fetchone()
            if row and row[0] >= 3:
                break
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        partial = conn.execute("select count(*) from market.trades").fetchone()[0]
        assert 0 < partial < n_trades, "the kill landed mid-run"
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert conn.execute("select count(*) from market.trades").fetchone()[0] == n_trades
        assert conn.execute("select count(*) from market.quotes").fetchone()[0] == n_quotes
        runs = conn.execute("select status, rows_in, rows_loaded, rows_quarantined, rows_duplicate"
                            " from ops.loader_runs order by run_id").fetchall()
    assert [r[0] for r in runs] == ["abandoned", "succeeded"]
    _, rows_in, loaded, quarantined, duplicate = runs[1]
    assert rows_in == loaded + quarantined + duplicate
    assert loaded + duplicate == n_trades + n_quotes


def test_a_second_run_of_the_same_job_is_refused_while_the_first_holds_the_lock(db_url: str) -> None:
    with psycopg.connect(db_url) as first, psycopg.connect(db_url) as second:
        with LoaderRun(first, job="locked_job", source="test"):
            with pytest.raises(JobLocked):
                with LoaderRun(second, job="locked_job", source="test"):
                    pass
            with LoaderRun(second, job="another_job", source="test"):
                pass


@needs_captures
def test_the_cli_exits_3_with_one_sentence_when_the_job_is_locked(db_url: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with psycopg.connect(db_url, autocommit=True) as holder:
        holder.execute("select pg_advisory_lock(hashtextextended('tsquant.loader:binance_capture', 0))")
        r = subprocess.run([sys.executable, "-m", "loaders.binance_capture", str(CAPTURES[0]), "--url", db_url],
                           env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 3
    assert r.stderr.strip() == "error: another run of job 'binance_capture' is in progress"


def test_the_cli_rejects_a_missing_file_with_one_sentence(tmp_path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    r = subprocess.run([sys.executable, "-m", "loaders.binance_capture", str(tmp_path / "nope.ws.gz")],
                       env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 2
    assert r.stderr.strip() == f"error: capture file {tmp_path / 'nope.ws.gz'} does not exist"
    assert "Traceback" not in r.stderr
