"""Run records, watermarks and the per-job lock (ops.loader_runs, ops.watermarks).

    with LoaderRun(conn, job="binance_capture", source="binance_capture") as run:
        run.load(TRADES, frame, batch_size=50_000)

The connection is switched to autocommit so each batch is its own transaction (BEGIN … COMMIT):
a batch that fails leaves nothing behind, a killed run keeps the batches committed before it,
and re-running skips them as duplicates. The run row is committed first (status running) and
updated with the counts in every batch's transaction.
"""

from __future__ import annotations

import json
import os
import socket
import time
from typing import Callable

import numpy as np
import pandas as pd
import psycopg

from db.connection import redact
from loaders.core.ingest import Counts, Dataset, Reject, load_batch, write_quarantine
from loaders.core.retention import warn_beyond_horizon


class JobLocked(RuntimeError):
    """Another run of the same job holds the lock."""

    exit_code = 3  # skipped (db/errors.py)


def _lock_key(job: str) -> str:
    return f"tsquant.loader:{job}"


class LoaderRun:
    def __init__(self, conn: psycopg.Connection, *, job: str, source: str, dataset: str | None = None,
                 args: dict | None = None, progress: Callable[[str], None] | None = None,
                 pause_between_batches: float = 0.0) -> None:
        self.conn = conn
        self.job = job
        self.source = source
        self.dataset = dataset
        self.args = args or {}
        self.progress = progress
        self.pause = pause_between_batches
        self.run_id: int | None = None
        self.counts = Counts()
        self.skipped = 0
        self.batches = 0
        self._locked = False

    # -- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> "LoaderRun":
        if self.conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            self.conn.rollback()
        self.conn.autocommit = True
        # Keep the merge stage of a whole batch in memory (effective before the session's first
        # temporary table; harmless afterwards).
        self.conn.execute("set temp_buffers = '256MB'")
        got = self.conn.execute(
            "select pg_try_advisory_lock(hashtextextended(%s, 0))", (_lock_key(self.job),)
        ).fetchone()[0]
        if not got:
            raise JobLocked(f"another run of job {self.job!r} is in progress")
        self._locked = True
        with self.conn.transaction():
            # The lock proves no other run of this job is alive: older running rows were killed.
            self.conn.execute(
                "update ops.loader_runs set status = 'abandoned', finished_at = clock_timestamp(),"
                " error = 'process ended without finishing (killed?)' where job = %s and status = 'running'",
                (self.job,),
            )
            self.run_id = self.conn.execute(
                "insert into ops.loader_runs (job, source, dataset, args, host, pid)"
                " values (%s, %s, %s, %s, %s, %s) returning run_id",
                (self.job, self.source, self.dataset, redact(json.dumps(self.args, default=str)),
                 socket.gethostname(), os.getpid()),
            ).fetchone()[0]
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if self.conn.closed:
                return
            if self.conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                self.conn.rollback()
            with self.conn.transaction():
                if exc is None:
                    self._update(status="succeeded")
                else:
                    self._update(status="failed", error=redact(f"{exc_type.__name__}: {exc}")[:2000])
        finally:
            if self._locked and not self.conn.closed:
                self.conn.execute("select pg_advisory_unlock(hashtextextended(%s, 0))", (_lock_key(self.job),))
                self._locked = False

    def _update(self, *, status: str = "running", error: str | None = None) -> None:
        c = self.counts
        self.conn.execute(
            "update ops.loader_runs set rows_in = %s, rows_loaded = %s, rows_quarantined = %s,"
            " rows_duplicate = %s, rows_skipped = %s, batches = %s, status = %s, error = %s,"
            " finished_at = case when %s = 'running' then null else clock_timestamp() end"
            " where run_id = %s",
            (c.rows_in, c.loaded, c.quarantined, c.duplicate, self.skipped, self.batches, status,
             error, status, self.run_id),
        )

    def record_batch(self, batch: Counts) -> None:
        """Add a batch a job loaded itself (in its own transaction) to this run's record."""
        self.counts.add(batch)
        self.batches += 1
        self._update()

    # -- loading -----------------------------------------------------------------------------

    def load(self, ds: Dataset, df: pd.DataFrame, *, batch_size: int = 100_000,
             rejects: list[Reject] | None = None, now_us: int | None = None) -> Counts:
        """Load `df` in batches of `batch_size`, one transaction each (rejects go with the first).
        `now_us` is the source's clock (its server time; default this machine's): rows after it
        are quarantined as time_in_future and no watermark moves past it."""
        now = int(time.time() * 1_000_000) if now_us is None else now_us
        total = Counts()
        n = len(df)
        warn_beyond_horizon(self.conn, ds.table, ds.time_col, df, run_id=self.run_id, source=self.source)
        starts = range(0, max(n, 1), batch_size) if n or rejects else []
        for i, start in enumerate(starts):
            part = df.iloc[start:start + batch_size]
            with self.conn.transaction():
                counts = load_batch(self.conn, ds, part, source=self.source, run_id=self.run_id,
                                    rejects=rejects if i == 0 else None, now_us=now)
                self._watermark(ds, counts.stored, now)
                self.counts.add(counts)
                self.batches += 1
                self._update()
            total.add(counts)
            if self.progress:
                self.progress(f"{ds.name}: {min(start + batch_size, n)}/{n} rows"
                              f" (loaded {total.loaded}, duplicate {total.duplicate},"
                              f" quarantined {total.quarantined})")
            if self.pause:
                time.sleep(self.pause)
        return total

    def quarantine_only(self, dataset: str, rejects: list[Reject]) -> None:
        """Record input records that never became rows of a dataset (e.g. malformed lines)."""
        if not rejects:
            return
        with self.conn.transaction(), self.conn.cursor() as cur:
            write_quarantine(cur, run_id=self.run_id, source=self.source, dataset=dataset,
                             rows=[(r.reason, r.symbol, r.record_time_us, r.payload) for r in rejects])
            self.counts.rows_in += len(rejects)
            self.counts.quarantined += len(rejects)
            for r in rejects:
                self.counts.reasons[r.reason] = self.counts.reasons.get(r.reason, 0) + 1
            self._update()

    def _watermark(self, ds: Dataset, stored: pd.DataFrame | None, now_us: int) -> None:
        """Move the watermark of every series in the batch (one statement) to its newest stored
        row, never past `now_us`: a quarantined row (say, stamped far in the future) must not end
        the series by making every later run ask for nothing."""
        if stored is None:
            return
        ok = stored[stored["instrument_id"].to_numpy() >= 0]
        if not len(ok):
            return
        keys = list(ds.series)
        idx = ok.groupby(keys, sort=False)[ds.time_col].idxmax()
        last = ok.loc[idx.to_numpy()]
        self.conn.execute(
            "insert into ops.watermarks as w (job, source, instrument_id, dataset, timeframe,"
            " high_water, last_id, run_id)"
            " select %s, %s, s.i, %s, s.tf, timestamptz 'epoch' + s.t * interval '1 microsecond', s.id, %s"
            " from unnest(%s::integer[], %s::text[], %s::bigint[], %s::bigint[]) as s (i, tf, t, id)"
            " on conflict (job, source, instrument_id, dataset, timeframe) do update"
            " set last_id = case when excluded.high_water >= w.high_water then excluded.last_id else w.last_id end,"
            " high_water = greatest(w.high_water, excluded.high_water),"
            " run_id = excluded.run_id, updated_at = now()",
            (self.job, self.source, ds.name, self.run_id,
             last["instrument_id"].astype(int).tolist(),
             last["timeframe"].astype(str).tolist() if ds.timeframe else [""] * len(last),
             np.minimum(last[ds.time_col].astype(np.int64).to_numpy(), now_us).tolist(),
             last[ds.id_col].astype(np.int64).tolist() if ds.id_col else [None] * len(last)),
        )


def watermark(conn: psycopg.Connection, *, job: str, source: str, instrument_id: int, dataset: str,
              timeframe: str = "") -> tuple[pd.Timestamp | None, int | None]:
    """(high_water, last_id) of a series, or (None, None) before its first run."""
    row = conn.execute(
        "select high_water, last_id from ops.watermarks where job = %s and source = %s"
        " and instrument_id = %s and dataset = %s and timeframe = %s",
        (job, source, instrument_id, dataset, timeframe),
    ).fetchone()
    return (row[0], row[1]) if row else (None, None)
