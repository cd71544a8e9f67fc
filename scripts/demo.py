"""`make demo`: show what tsquant does, end to end, on bundled data, and print what it did.

`make demo` has already started the database and applied the migrations when this runs.
"""

from __future__ import annotations

import sys
import time

from db.connection import ConfigurationError, connect, database_url, redact

SCHEMAS = ("market", "ta", "signals", "trading", "risk", "perf", "ops", "bi")


def heading(text: str) -> None:
    print(f"\n== {text}")


def show_database(conn) -> None:
    heading("database")
    mode, version, ts_version, license_, migrated_at = conn.execute(
        "select database_mode, server_version, timescaledb_version, timescaledb_license,"
        " last_migration_at from ops.database_info"
    ).fetchone()
    print(f"url:            {redact(database_url())}")
    print(f"database mode:  {mode}")
    print(f"server:         PostgreSQL {version}")
    print(f"timescaledb:    {ts_version + ' (license ' + str(license_) + ')' if ts_version else 'not used'}")
    applied = conn.execute("select count(*) from ops.schema_migrations").fetchone()[0]
    print(f"migrations:     {applied} ledger rows, last at {migrated_at:%Y-%m-%d %H:%M:%S} UTC")


def show_schemas(conn) -> None:
    heading("schemas")
    rows = conn.execute(
        """
        select n.nspname, obj_description(n.oid, 'pg_namespace'),
               (select count(*) from pg_class as c where c.relnamespace = n.oid and c.relkind in ('r', 'p', 'v', 'm')),
               (select count(*) from pg_proc as p where p.pronamespace = n.oid)
        from pg_namespace as n where n.nspname = any(%s)
        order by array_position(%s, n.nspname::text)
        """,
        (list(SCHEMAS), list(SCHEMAS)),
    ).fetchall()
    for name, comment, relations, functions in rows:
        print(f"{name:<8} {relations:>3} relations {functions:>4} functions  {comment}")


def main() -> int:
    started = time.perf_counter()
    try:
        with connect() as conn:
            show_database(conn)
            show_schemas(conn)
        heading("pipeline: captures, fake exchanges, taapi (DRY_RUN), rollups")
        from loaders.demo_pipeline import run_demo

        for line in run_demo(database_url()):
            print(line)
    except ConfigurationError as exc:
        print(f"demo: {exc}", file=sys.stderr)
        return 1
    print(f"\ndemo finished in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
