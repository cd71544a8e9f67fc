"""Maintenance jobs that are watched, not trusted (issue 9, item 5).

TimescaleDB's background scheduler may not run the policy jobs: on TimescaleDB 2.28.3 with
PostgreSQL 15.20 every background run fails (`cannot drop portal "" while it is being set up`),
while `call run_job(id)` in the foreground works. `ops.job_health` shows failing and overdue jobs;
`run_due_jobs()` — called by `python -m loaders rollups`, the project's cron command — runs every
failing or overdue TimescaleDB job in the foreground and records each run in ops.events
(`ops.record_job_run`), which is how ops.job_health knows it succeeded (TimescaleDB does not record
foreground runs in job_stats). `health_lines()` is the job-state section of the demo.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import psycopg


@dataclass
class JobRun:
    job_id: int
    job: str
    seconds: float
    error: str | None = None


def run_due_jobs(conn: psycopg.Connection) -> list[JobRun]:
    """Run every failing or overdue, scheduled TimescaleDB job in the foreground (TimescaleDB mode;
    plain mode has none). `run_job` cannot run inside a transaction block: the connection is
    switched to autocommit. A failed job does not stop the others; its error is recorded."""
    conn.autocommit = True
    due = conn.execute(
        "select job_id, job from ops.job_health where job_id is not null and scheduled"
        " and (failing or overdue) order by job_id"
    ).fetchall()
    runs = []
    for job_id, job in due:
        started = conn.execute("select clock_timestamp()").fetchone()[0]
        t0 = time.perf_counter()
        error = None
        try:
            conn.execute("call public.run_job(%s)", (job_id,))
        except psycopg.Error as exc:
            error = (exc.diag.message_primary or str(exc)).strip()
        conn.execute("select ops.record_job_run(%s, %s, %s, %s)", (job, job_id, started, error))
        runs.append(JobRun(job_id, job, time.perf_counter() - t0, error))
    return runs


def record_command_run(conn: psycopg.Connection, job: str, started, error: str | None = None) -> None:
    """Record a run of one of the project's own maintenance commands (e.g. rollups)."""
    conn.execute("select ops.record_job_run(%s, null, %s, %s)", (job, started, error))


def health_lines(conn: psycopg.Connection) -> list[str]:
    """ops.job_health as a few printable lines: one per job, problems first."""
    rows = conn.execute(
        "select job, job_id, coalesce(last_run_status, 'never ran'), last_run_by, last_success_at,"
        " consecutive_failures, last_error, failing, overdue"
        " from ops.job_health order by (failing or overdue) desc, job"
    ).fetchall()
    lines = [f"{'job':<36} {'id':>5}  {'last run':<22} {'last success':<17} state"]
    for job, job_id, status, by, success, failures, error, failing, overdue in rows:
        state = "FAILING" if failing else "OVERDUE" if overdue else "ok"
        if failing and failures:
            state += f" ({failures} failures in a row)"
        last = f"{status} ({by})" if by else status
        lines.append(f"{job[:36]:<36} {job_id if job_id is not None else '-':>5}  {last:<22} "
                     f"{success.strftime('%Y-%m-%d %H:%M') if success else '-':<17} {state}")
        if failing and error:
            lines.append(f"{'':<44}last error: {error[:100]}")
    bad = [r for r in rows if r[7] or r[8]]
    if not bad:
        lines.append(f"all {len(rows)} jobs ok")
    else:
        fix = ("`python -m loaders rollups` (cron) runs failing and overdue TimescaleDB jobs in the foreground"
               if any(r[1] is not None for r in bad) else "check the cron lines of the README")
        lines.append(f"{len(bad)} of {len(rows)} jobs failing or overdue: {fix}")
    return lines


def after_rollups(conn: psycopg.Connection, started) -> list[str]:
    """The maintenance part of `python -m loaders rollups`: run the failing and overdue TimescaleDB
    jobs in the foreground, record this rollups run, and return what was done as lines."""
    runs = run_due_jobs(conn)
    record_command_run(conn, "rollups", started)
    if not runs:
        return []
    failed = sum(1 for r in runs if r.error)
    lines = [f"{len(runs)} failing or overdue TimescaleDB jobs ran in the foreground"
             + (f", {failed} failed" if failed else "") + ":"]
    for r in runs:
        outcome = f"failed: {r.error}" if r.error else "ok"
        lines.append(f"  job {r.job_id} {r.job}: {outcome} ({r.seconds:.2f} s)")
    return lines
