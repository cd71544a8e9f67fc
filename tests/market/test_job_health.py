"""Maintenance jobs are watched, not trusted (issue 9, item 5).

ops.job_health shows failing and overdue maintenance in both modes. With TimescaleDB's background
scheduler stopped, the project's cron command (`python -m loaders rollups`) runs the due policy
jobs in the foreground and keeps the continuous aggregates equal to a recomputation from trades.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pandas as pd
import psycopg
import pytest

from .helpers import assert_candles_equal, fetch_candles, load_trades, oracle_candles
from .test_retention import MINUTE_US, NOW_US, synthetic_trades

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _cli(db_url: str, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, DATABASE_URL=db_url)
    return subprocess.run([sys.executable, "-m", "loaders", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def _health(conn: psycopg.Connection) -> dict[str, dict]:
    cur = conn.execute("select * from ops.job_health order by job")
    names = [d.name for d in cur.description]
    return {r[0]: dict(zip(names, r)) for r in cur.fetchall()}


def test_job_health_has_a_comment_on_every_column(conn) -> None:
    missing = conn.execute(
        "select a.attname from pg_attribute as a where a.attrelid = 'ops.job_health'::regclass and a.attnum > 0"
        " and col_description(a.attrelid, a.attnum) is null").fetchall()
    assert missing == []
    assert conn.execute("select obj_description('ops.job_health'::regclass, 'pg_class')").fetchone()[0]


def test_plain_mode_job_health_shows_the_project_maintenance(db_url: str, db_mode: str) -> None:
    if db_mode != "postgresql":
        pytest.skip("plain PostgreSQL mode")
    with psycopg.connect(db_url, autocommit=True) as conn:
        health = _health(conn)
        assert set(health) == {"retention", "rollups"}
        assert health["rollups"]["last_run_status"] is None and health["rollups"]["job_id"] is None
        # A rollups run an hour ago and nothing since: overdue (cron every minute).
        conn.execute("select ops.record_job_run('rollups', null, now() - interval '61 minutes', null)")
        conn.execute("update ops.events set occurred_at = now() - interval '1 hour' where details->>'job' = 'rollups'")
        assert _health(conn)["rollups"]["overdue"] is True
        done = _cli(db_url, "rollups", "--no-indicators")
        assert done.returncode == 0, done.stdout + done.stderr
        conn.execute("call ops.run_retention()")
        health = _health(conn)
        for job in ("rollups", "retention"):
            assert health[job]["last_run_status"] == "succeeded", health[job]
            assert health[job]["overdue"] is False and health[job]["failing"] is False
            assert health[job]["consecutive_failures"] == 0
        # A failed run is shown with its error and counted.
        conn.execute("select ops.record_job_run('rollups', null, now(), 'database is shutting down')")
        rollups = _health(conn)["rollups"]
        assert rollups["failing"] is True and rollups["consecutive_failures"] == 1
        assert rollups["last_error"] == "database is shutting down"


def test_timescaledb_scheduler_stopped_cron_runs_due_jobs_and_keeps_caggs_fresh(db_url: str, db_mode: str) -> None:
    if db_mode != "timescaledb":
        pytest.skip("TimescaleDB mode")
    with psycopg.connect(db_url, autocommit=True) as conn:
        # Stop the background scheduler of this database only (the launcher keeps the others);
        # then make every policy job due, as if the scheduler had been silent for two hours.
        assert conn.execute("select _timescaledb_functions.stop_background_workers()").fetchone()[0]
        conn.execute("select public.alter_job(job_id, next_start => now() - interval '2 hours')"
                     " from timescaledb_information.jobs where job_id >= 1000")
        policy_jobs = {r[0] for r in conn.execute("select job_id from timescaledb_information.jobs where job_id >= 1000")}
        health = _health(conn)
        listed = {h["job_id"] for h in health.values() if h["job_id"] is not None}
        assert listed == policy_jobs
        kinds = {h["kind"] for h in health.values()}
        assert {"refresh", "compression", "retention", "rollups"} <= kinds, kinds
        for h in health.values():
            if h["kind"] in ("compression", "retention"):
                assert h["overdue"] is True, h      # never ran, due two hours ago
        failed_in_background = {r[0] for r in conn.execute("select distinct job_id from timescaledb_information.job_errors")}
        for h in health.values():
            if h["job_id"] in failed_in_background:
                assert h["failing"] is True and h["last_error"], h

        iid = conn.execute("select market.register_instrument('binance', 'BTCUSDT')").fetchone()[0]
        start = (NOW_US - 4 * 3_600_000_000) // 3_600_000_000 * 3_600_000_000
        first = synthetic_trades(iid, start, 120)
        load_trades(conn, first)
        done = _cli(db_url, "rollups", "--no-indicators")
        assert done.returncode == 0, done.stdout + done.stderr
        assert "ran in the foreground" in done.stdout, done.stdout
        for job_id in policy_jobs:
            assert f"job {job_id} " in done.stdout, done.stdout
        assert_candles_equal(fetch_candles(conn, "market.candles_1h"), oracle_candles(first, "1h"), "1h after cron")

        health = _health(conn)
        for h in health.values():
            assert h["overdue"] is False and h["failing"] is False, h
            assert h["last_run_status"] == "succeeded", h
        runs = conn.execute(
            "select details from ops.events where source = 'maintenance' and event_type = 'job_run'"
            " and details ? 'job_id' and (details->>'job_id') is not null").fetchall()
        assert {int(r[0]["job_id"]) for r in runs} == policy_jobs
        assert all(r[0]["succeeded"] and r[0]["foreground"] for r in runs), runs

        # New trades, the scheduler still stopped: the next cron run brings the aggregates along.
        more = synthetic_trades(iid, start + 120 * MINUTE_US, 90, first_id=1_000_000, seed=3)
        load_trades(conn, more)
        done = _cli(db_url, "rollups", "--no-indicators")
        assert done.returncode == 0, done.stdout + done.stderr
        assert_candles_equal(fetch_candles(conn, "market.candles_1h"),
                             oracle_candles(pd.concat([first, more]), "1h"), "1h after more trades")
        assert json.dumps(_health(conn), default=str)
