"""Say at load time when rows are already beyond their retention horizon (issue 9, item 4).

A backfill of history older than the data class horizon (`ops.data_classes`, e.g. raw trades:
2 years) loads, and the next retention run deletes it again. The loader says so once per run and
table, at the first load that has such rows (a backfill can still be stopped): a warning on the
log and an `ops.events` row (event_type beyond_retention) with that load's count. Candles are
kept forever by default, so loading old candles says nothing.
"""

from __future__ import annotations

import logging

import pandas as pd
import psycopg

log = logging.getLogger("loaders.retention")

_warned: set[tuple] = set()  # (database, run id, table) already reported, per process


def warn_beyond_horizon(conn: psycopg.Connection, table: str, time_col: str, df: pd.DataFrame, *,
                        run_id: int | None, source: str) -> int:
    """Count the rows of `df` (times as int64 Unix microseconds) older than the retention cutoff
    of `table`; warn once per (run, table) when there are any. Returns the count."""
    key = (conn.info.host, conn.info.port, conn.info.dbname, run_id, table)
    if not len(df) or key in _warned:
        return 0
    row = conn.execute(
        "select (extract(epoch from c.cutoff) * 1000000)::bigint, c.cutoff, r.data_class, d.retain_for::text"
        " from (select ops.retention_cutoff(%s) as cutoff) as c"
        " join ops.data_class_relations as r on r.relation = %s"
        " join ops.data_classes as d on d.data_class = r.data_class",
        (table, table),
    ).fetchone()
    if row is None or row[0] is None:
        return 0
    cutoff_us, cutoff, data_class, retain_for = row
    n = int((df[time_col].to_numpy() < cutoff_us).sum())
    if not n:
        return 0
    _warned.add(key)
    message = (f"{table}: {n} rows of this load are older than the {retain_for} retention horizon of "
               f"{data_class} (before {cutoff:%Y-%m-%d %H:%M} UTC); the next retention run deletes them "
               f"(keep them: update ops.data_classes set retain_for = null where data_class = '{data_class}'); "
               f"later loads of this run are not reported again")
    log.warning(message)
    conn.execute(
        "insert into ops.events (source, event_type, severity, message, details)"
        " values (%s, 'beyond_retention', 'warning', %s,"
        " jsonb_build_object('relation', %s::text, 'rows', %s::bigint, 'cutoff', %s::timestamptz,"
        " 'data_class', %s::text, 'run_id', %s::bigint))",
        (f"loader:{source}", message, table, n, cutoff, data_class, run_id),
    )
    return n
