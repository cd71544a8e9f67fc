"""TimescaleDB mode: the rollups wait for a concurrent refresh of a continuous aggregate.

TimescaleDB refuses a refresh whose window overlaps one in progress with LockNotAvailable ("could
not refresh continuous aggregate … due to a concurrent refresh") instead of waiting, so a
`tsquant rollups` that met a policy job of the background scheduler failed. The test registers a
refresh in progress the way TimescaleDB does (a row of the tracking table for a live backend),
ends it after a second, and market.refresh_rollups() must complete after it, without an error.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo


REGISTER = """
insert into _timescaledb_catalog.continuous_aggs_jobs_refresh_ranges
    (materialization_id, start_range, end_range, pid, job_id, created_at)
select a.mat_hypertable_id, -9223372036854775808, 9223372036854775807, %s, 0, now()
from _timescaledb_catalog.continuous_agg as a
where a.user_view_schema = 'market' and a.user_view_name = %s
"""
UNREGISTER = "delete from _timescaledb_catalog.continuous_aggs_jobs_refresh_ranges where pid = %s"


@pytest.fixture
def ts_db(db_url: str, db_mode: str) -> str:
    if db_mode != "timescaledb":
        pytest.skip("TimescaleDB mode")
    return db_url


def test_refresh_rollups_waits_for_a_concurrent_refresh_to_end(ts_db: str) -> None:
    with psycopg.connect(ts_db, autocommit=True) as other, psycopg.connect(ts_db, autocommit=True) as admin:
        # the scheduler of this database must not refresh at the same time as the test
        admin.execute("select public.alter_job(job_id, scheduled => false) from timescaledb_information.jobs"
                      " where proc_name = 'policy_refresh_continuous_aggregate'")
        other_pid = other.execute("select pg_backend_pid()").fetchone()[0]
        assert admin.execute(REGISTER, (other_pid, "native_candles_1h")).rowcount == 1
        outcome: dict[str, object] = {}

        def refresh() -> None:
            started = time.monotonic()
            try:
                with psycopg.connect(ts_db, autocommit=True) as conn:
                    conn.execute("call market.refresh_rollups()")
            except psycopg.Error as exc:
                outcome["error"] = exc
            outcome["seconds"] = time.monotonic() - started

        worker = threading.Thread(target=refresh)
        worker.start()
        time.sleep(1.0)
        assert worker.is_alive(), f"refresh_rollups did not wait for the refresh in progress: {outcome}"
        admin.execute(UNREGISTER, (other_pid,))
        worker.join(timeout=120)
        assert not worker.is_alive()
        assert "error" not in outcome, outcome.get("error")
        assert outcome["seconds"] >= 1.0


def test_the_wait_ends_at_its_timeout_while_the_refresh_is_still_in_progress(ts_db: str) -> None:
    with psycopg.connect(ts_db, autocommit=True) as other, psycopg.connect(ts_db, autocommit=True) as admin:
        other_pid = other.execute("select pg_backend_pid()").fetchone()[0]
        admin.execute(REGISTER, (other_pid, "trade_candles_1m"))
        try:
            waited = admin.execute("select market._await_concurrent_refresh('trade_candles_1m', '0.3 s')").fetchone()[0]
            assert waited is False
            # a refresh of another aggregate is not waited for
            assert admin.execute("select market._await_concurrent_refresh('trade_candles_5m', '0 s')").fetchone()[0]
        finally:
            admin.execute(UNREGISTER, (other_pid,))
        assert admin.execute("select market._await_concurrent_refresh('trade_candles_1m', '0 s')").fetchone()[0]



@contextlib.contextmanager
def policy_refreshing(url: str) -> Iterator[dict[str, int]]:
    """Another session refreshes native_candles_5m in a tight loop over a policy's window, the way
    the scheduler's policy job does; its own refusals are expected (it is the one that lost).
    The scheduler of this database is paused so that the loop is the only other refresher."""
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute("select public.alter_job(job_id, scheduled => false) from timescaledb_information.jobs"
                      " where proc_name = 'policy_refresh_continuous_aggregate'")
    stop = threading.Event()
    runs = {"ok": 0, "lost": 0}

    def policy() -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            while not stop.is_set():
                try:
                    conn.execute("call public.refresh_continuous_aggregate('market.native_candles_5m',"
                                 " now() - interval '7 days', now() - interval '5 minutes')")
                    runs["ok"] += 1
                except psycopg.errors.LockNotAvailable:
                    runs["lost"] += 1

    worker = threading.Thread(target=policy)
    worker.start()
    try:
        yield runs
    finally:
        stop.set()
        worker.join(timeout=60)
    assert runs["ok"] + runs["lost"] > 0, "the concurrent refresh never ran"


NEW_MINUTES = (
    "insert into market.candles (instrument_id, timeframe, open_time, open, high, low, close, volume, source)"
    " select %s, '1m', t, 1.08, 1.082, 1.079, 1.0805, 10 + %s, 'mt5'"
    " from generate_series(now() - interval '2 days', now() - interval '1 hour', interval '1 minute') as t"
    " on conflict (instrument_id, timeframe, open_time) do update set volume = excluded.volume"
)


def test_a_policy_refresh_starting_at_any_moment_never_fails_the_rollups(ts_db: str) -> None:
    """The race behind a failed CI run: a policy job registered its refresh between the wait's check
    and refresh_rollups' own registration, and the rollups failed with LockNotAvailable. As a
    superuser the procedure itself must never lose."""
    with psycopg.connect(ts_db, autocommit=True) as conn:
        eur = conn.execute("select market.register_instrument('mt5', 'EURUSD')").fetchone()[0]
        with policy_refreshing(ts_db):
            for i in range(15):
                # new values each round: both refreshes have work, so their windows stay registered a while
                conn.execute(NEW_MINUTES, (eur, i))
                conn.execute("call market.refresh_rollups()")


@pytest.fixture
def owner_login(ts_db: str) -> Iterator[str]:
    """A login role in tsq_owner (not a superuser: it may not take TimescaleDB's catalog lock)."""
    role = f"tsq_t_rollups_{os.getpid()}"
    with psycopg.connect(ts_db, autocommit=True) as admin:
        admin.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(role)))
        admin.execute(sql.SQL("create role {} login in role tsq_owner").format(sql.Identifier(role)))
    try:
        yield make_conninfo(ts_db, user=role)
    finally:
        with psycopg.connect(ts_db, autocommit=True) as admin:
            admin.execute(sql.SQL("drop owned by {}").format(sql.Identifier(role)))
            admin.execute(sql.SQL("drop role {}").format(sql.Identifier(role)))


def test_a_login_role_in_tsq_owner_never_loses_the_race_either(ts_db: str, owner_login: str) -> None:
    """The cron command and the loaders log in as a role in tsq_owner, not a superuser: V0151 lets
    tsq_owner take the registration lock, so the procedure wins there too."""
    with psycopg.connect(owner_login, autocommit=True) as conn, psycopg.connect(ts_db, autocommit=True) as admin:
        assert not conn.execute("select rolsuper from pg_roles where rolname = current_user").fetchone()[0]
        assert conn.execute("select has_table_privilege("
                            "'_timescaledb_catalog.continuous_aggs_jobs_refresh_ranges', 'UPDATE')").fetchone()[0]
        eur = admin.execute("select market.register_instrument('mt5', 'EURUSD')").fetchone()[0]
        with policy_refreshing(ts_db):
            for i in range(15):
                admin.execute(NEW_MINUTES, (eur, i))
                conn.execute("call market.refresh_rollups()")
