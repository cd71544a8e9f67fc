"""TimescaleDB mode: the rollups wait for a concurrent refresh of a continuous aggregate.

TimescaleDB refuses a refresh whose window overlaps one in progress with LockNotAvailable ("could
not refresh continuous aggregate … due to a concurrent refresh") instead of waiting, so a
`tsquant rollups` that met a policy job of the background scheduler failed. The test registers a
refresh in progress the way TimescaleDB does (a row of the tracking table for a live backend),
ends it after a second, and market.refresh_rollups() must complete after it, without an error.
"""

from __future__ import annotations

import threading
import time

import psycopg
import pytest

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
