"""`tsquant maintenance`: the database's housekeeping as one cron job.

    tsquant maintenance [--all] [--no-policies] [--no-vacuum] [--no-reindex] [--dry-run]

1. Policies. Plain PostgreSQL mode: the rollups (market.refresh_rollups) and the retention of
   ops.data_classes (ops.run_retention) — what TimescaleDB's policies do in the other mode.
   TimescaleDB mode: every policy job that ops.job_health shows failing or overdue runs now in the
   foreground (db.job_health.run_due_jobs, as the rollups command does), so a stuck
   background scheduler does not stop them (DESIGN §11).
2. VACUUM (ANALYZE) of every table of the project's schemas (and TimescaleDB chunks) that has dead
   rows, changes since its last analyze, or was never analyzed; --all for every table.
3. Indexes: an invalid index (a failed CREATE INDEX CONCURRENTLY) and a B-tree whose leaves are
   less than --reindex-below % full (pgstattuple's avg_leaf_density, indexes of at least
   --min-index-bytes) are rebuilt with REINDEX INDEX CONCURRENTLY (writes are not blocked).

Each run takes a lock (a second one skips, exit 3) and writes a summary to ops.events. Connect as
the database owner or a superuser (VACUUM and REINDEX need it). Exit 0 done, 1 a step failed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass, field

import psycopg
from psycopg import sql

from db.errors import EXIT_FAILED, EXIT_SKIPPED, PROJECT_SCHEMAS, run_main

LOCK_KEY = "tsquant:maintenance"
SCHEMAS = [*PROJECT_SCHEMAS, "_timescaledb_internal"]


@dataclass
class Summary:
    policies: list[str] = field(default_factory=list)
    vacuumed: list[str] = field(default_factory=list)
    reindexed: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def as_json(self) -> str:
        return json.dumps({"policies": self.policies, "vacuumed": self.vacuumed, "reindexed": self.reindexed,
                           "failures": self.failures})


def tables_to_vacuum(conn: psycopg.Connection, everything: bool) -> list[tuple[str, str]]:
    """(schema, table) of the tables VACUUM ANALYZE should visit, most dead rows first."""
    return conn.execute(
        "select s.schemaname, s.relname from pg_catalog.pg_stat_user_tables as s"
        " where s.schemaname = any(%s) and (%s or s.n_dead_tup > 0 or s.n_mod_since_analyze > 0"
        " or coalesce(s.last_analyze, s.last_autoanalyze) is null)"
        " order by s.n_dead_tup desc, s.schemaname, s.relname", (SCHEMAS, everything)).fetchall()


def indexes_to_rebuild(conn: psycopg.Connection, min_bytes: int, below_density: float) -> list[tuple[str, str, str]]:
    """(schema, index, reason): invalid indexes, and sparse B-trees when pgstattuple is installed."""
    out = [(r[0], r[1], "invalid") for r in conn.execute(
        "select n.nspname, c.relname from pg_catalog.pg_index as x"
        " join pg_catalog.pg_class as c on c.oid = x.indexrelid"
        " join pg_catalog.pg_namespace as n on n.oid = c.relnamespace"
        " where not x.indisvalid and n.nspname = any(%s) order by 1, 2", (SCHEMAS,)).fetchall()]
    if conn.execute("select exists (select from pg_catalog.pg_extension where extname = 'pgstattuple')").fetchone()[0]:
        sparse = conn.execute(
            "select n.nspname, c.relname, s.avg_leaf_density from pg_catalog.pg_index as x"
            " join pg_catalog.pg_class as c on c.oid = x.indexrelid"
            " join pg_catalog.pg_namespace as n on n.oid = c.relnamespace"
            " join pg_catalog.pg_am as a on a.oid = c.relam"
            " cross join lateral public.pgstatindex(c.oid) as s"
            " where x.indisvalid and a.amname = 'btree' and c.relkind = 'i' and n.nspname = any(%s)"
            " and pg_catalog.pg_relation_size(c.oid) >= %s and s.avg_leaf_density < %s"
            " and s.avg_leaf_density = s.avg_leaf_density"  # NaN: an empty index
            " order by pg_catalog.pg_relation_size(c.oid) desc", (SCHEMAS, min_bytes, below_density)).fetchall()
        out += [(s, i, f"leaf density {d:.0f} %") for s, i, d in sparse]
    return out


def run_policies(conn: psycopg.Connection, mode: str, dry_run: bool, summary: Summary) -> None:
    if mode == "postgresql":
        # ops.run_retention records its run for ops.job_health (the 'retention' command job)
        steps = [("rollups (market.refresh_rollups)", "call market.refresh_rollups()"),
                 ("retention (ops.run_retention)", "call ops.run_retention()")]
        for label, statement in steps:
            try:
                if not dry_run:
                    conn.execute(statement)
                summary.policies.append(label)
            except psycopg.Error as exc:
                summary.failures.append(f"{label}: {exc.diag.message_primary or exc}")
        return
    if dry_run:
        due = conn.execute("select job_id, job from ops.job_health where job_id is not null and scheduled"
                           " and (failing or overdue) order by job_id").fetchall()
        summary.policies += [f"job {job_id} {job}" for job_id, job in due]
        return
    # the same foreground runner as the rollups cron command (records each run in ops.events)
    from db.job_health import run_due_jobs

    for run in run_due_jobs(conn):
        label = f"job {run.job_id} {run.job}"
        if run.error:
            summary.failures.append(f"{label}: {run.error}")
        else:
            summary.policies.append(label)


def vacuum(conn: psycopg.Connection, everything: bool, dry_run: bool, summary: Summary) -> None:
    for schema, table in tables_to_vacuum(conn, everything):
        name = f"{schema}.{table}"
        try:
            if not dry_run:
                conn.execute(sql.SQL("vacuum (analyze) {}.{}").format(sql.Identifier(schema), sql.Identifier(table)))
            summary.vacuumed.append(name)
        except psycopg.Error as exc:
            summary.failures.append(f"vacuum {name}: {exc.diag.message_primary or exc}")


def reindex(conn: psycopg.Connection, min_bytes: int, below: float, dry_run: bool, summary: Summary) -> None:
    for schema, index, reason in indexes_to_rebuild(conn, min_bytes, below):
        name = f"{schema}.{index}"
        try:
            if not dry_run:
                conn.execute(sql.SQL("reindex index concurrently {}.{}").format(sql.Identifier(schema),
                                                                               sql.Identifier(index)))
            summary.reindexed.append(f"{name} ({reason})")
        except psycopg.Error as exc:
            summary.failures.append(f"reindex {name}: {exc.diag.message_primary or exc}")


def maintain(url: str | None = None, *, everything: bool = False, policies: bool = True, vacuum_tables: bool = True,
             reindex_indexes: bool = True, min_index_bytes: int = 8 << 20, reindex_below: float = 50.0,
             dry_run: bool = False) -> Summary | None:
    """One maintenance pass; None when another pass holds the lock."""
    from db.connection import connect

    summary = Summary()
    with connect(url, autocommit=True, application_name="tsquant-maintenance") as conn:
        if not conn.execute("select pg_try_advisory_lock(hashtextextended(%s, 0))", (LOCK_KEY,)).fetchone()[0]:
            return None
        try:
            mode = conn.execute("select ops.database_mode()").fetchone()[0]
            if policies:
                run_policies(conn, mode, dry_run, summary)
            if vacuum_tables:
                vacuum(conn, everything, dry_run, summary)
            if reindex_indexes:
                reindex(conn, min_index_bytes, reindex_below, dry_run, summary)
            if not dry_run:
                conn.execute("insert into ops.events (source, event_type, severity, message, details)"
                             " values ('maintenance', 'maintenance', %s, %s, %s::jsonb)",
                             ("warning" if summary.failures else "info",
                              f"{len(summary.policies)} policy step(s), {len(summary.vacuumed)} table(s) vacuumed, "
                              f"{len(summary.reindexed)} index(es) rebuilt, {len(summary.failures)} failure(s)",
                              summary.as_json()))
        finally:
            conn.execute("select pg_advisory_unlock(hashtextextended(%s, 0))", (LOCK_KEY,))
    return summary


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="tsquant maintenance", description=__doc__.split("\n\n")[0],
                                epilog=__doc__.split("\n\n", 2)[2], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--all", action="store_true", help="VACUUM ANALYZE every table, not only those that need it")
    p.add_argument("--no-policies", action="store_true", help="skip the rollup/retention/policy step")
    p.add_argument("--no-vacuum", action="store_true", help="skip VACUUM ANALYZE")
    p.add_argument("--no-reindex", action="store_true", help="skip index maintenance")
    p.add_argument("--min-index-bytes", type=int, default=8 << 20, help="smallest index considered (default 8 MiB)")
    p.add_argument("--reindex-below", type=float, default=50.0, metavar="PERCENT",
                   help="rebuild a B-tree whose average leaf density is below this (default 50)")
    p.add_argument("--dry-run", action="store_true", help="list what would be done, do nothing")
    p.add_argument("--url", help="database URL (default: DATABASE_URL or the embedded database)")
    args = p.parse_args(argv)
    t0 = time.perf_counter()
    summary = maintain(args.url, everything=args.all, policies=not args.no_policies, vacuum_tables=not args.no_vacuum,
                       reindex_indexes=not args.no_reindex, min_index_bytes=args.min_index_bytes,
                       reindex_below=args.reindex_below, dry_run=args.dry_run)
    if summary is None:
        print("skipped: another maintenance run is in progress", file=sys.stderr)
        return EXIT_SKIPPED
    verb = "would run" if args.dry_run else "ran"
    for label in summary.policies:
        print(f"policy   {verb}: {label}")
    for name in summary.reindexed:
        print(f"reindex  {'would rebuild' if args.dry_run else 'rebuilt'}: {name}")
    for failure in summary.failures:
        print(f"error: {failure}", file=sys.stderr)
    print(f"maintenance: {len(summary.policies)} policy step(s), {len(summary.vacuumed)} table(s) "
          f"{'to vacuum' if args.dry_run else 'vacuumed and analyzed'}, {len(summary.reindexed)} index(es) "
          f"{'to rebuild' if args.dry_run else 'rebuilt'}, {len(summary.failures)} failure(s) "
          f"in {time.perf_counter() - t0:.1f} s")
    return EXIT_FAILED if summary.failures else 0


if __name__ == "__main__":
    sys.exit(run_main(main))
