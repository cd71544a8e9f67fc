"""Backups of a tsquant database: logical dumps, restore into a new database, verification and
pruning, plus the point-in-time-recovery pieces for the embedded cluster.

    python -m db.backup backup  [--dir DIR | --file FILE]      pg_dump -Fc + a manifest beside it
    python -m db.backup restore FILE --database NEW [--force]  into a new database, then verified
    python -m db.backup verify  FILE [--database DB]           row counts + checksums vs manifest
    python -m db.backup prune   --dir DIR [--daily 30 --weekly 26 --monthly 24] [--dry-run]
    python -m db.backup basebackup --dir DIR                   physical base backup (for PITR)
    python -m db.backup pitr-restore --base DIR --archive DIR --target-time T --home NEW_TSQ_HOME

A dump is taken in the same snapshot as its manifest (`pg_export_snapshot()` handed to
`pg_dump --snapshot`): the manifest's per-table row counts and content checksums describe exactly
the rows in the file, so `restore` can prove the copy is whole. In TimescaleDB mode the restore
follows Timescale's recipe: create the extension at the dumped version, `timescaledb_pre_restore()`,
`pg_restore`, `timescaledb_post_restore()`.

Connections come from db/connection.py; passwords reach the PostgreSQL tools through the
environment (PGPASSWORD), never on a command line or in a message.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from db.connection import ConfigurationError, connect, database_url, libpq_environment, redact, with_database

MANIFEST_VERSION = 1
DUMP_SUFFIX = ".dump"
# Schemas whose rows are not the user's data: catalogs, and TimescaleDB's internals (chunks and
# materialisations are counted through their hypertables and continuous aggregates).
_SKIPPED_SCHEMAS = ("pg_catalog", "information_schema", "pg_toast", "_timescaledb_catalog",
                    "_timescaledb_internal", "_timescaledb_cache", "_timescaledb_config",
                    "_timescaledb_functions", "_timescaledb_debug", "timescaledb_information",
                    "timescaledb_experimental", "toolkit_experimental")


class BackupError(RuntimeError):
    """A backup, restore or verification could not be done; the message says why."""


# --------------------------------------------------------------------------------------------
# Content of a database: what a manifest records and a restore must reproduce

def data_relations(conn: psycopg.Connection) -> list[tuple[str, str]]:
    """(schema, name) of every relation holding user data: tables, materialised views and, in
    TimescaleDB mode, continuous aggregates (their rows live in internal hypertables)."""
    rows = conn.execute(
        """
        select n.nspname, c.relname
        from pg_catalog.pg_class as c
        inner join pg_catalog.pg_namespace as n on c.relnamespace = n.oid
        where c.relkind in ('r', 'p', 'm')
            and not c.relispartition
            and n.nspname <> all(%s::text[])
            and n.nspname not like 'pg\\_temp%%' and n.nspname not like 'pg\\_toast%%'
        order by 1, 2
        """,
        (list(_SKIPPED_SCHEMAS),),
    ).fetchall()
    relations = [(r[0], r[1]) for r in rows]
    has_caggs = conn.execute(
        "select exists (select from pg_catalog.pg_extension where extname = 'timescaledb')"
    ).fetchone()[0]
    if has_caggs:
        caggs = conn.execute(
            "select view_schema, view_name from timescaledb_information.continuous_aggregates order by 1, 2"
        ).fetchall()
        relations += [(r[0], r[1]) for r in caggs]
    return sorted(set(relations))


def content_summary(conn: psycopg.Connection) -> dict[str, dict[str, object]]:
    """Per relation: row count and an order-independent checksum of the rows' text forms."""
    out: dict[str, dict[str, object]] = {}
    for schema, name in data_relations(conn):
        rel = sql.Identifier(schema, name)
        count, digest = conn.execute(
            sql.SQL(
                "select count(*), coalesce(md5(string_agg(h, '' order by h)), '')"
                " from (select md5(t::text) as h from {} as t) as s"
            ).format(rel)
        ).fetchone()
        out[f"{schema}.{name}"] = {"rows": int(count), "checksum": digest}
    return out


def _server_facts(conn: psycopg.Connection) -> dict[str, object]:
    row = conn.execute(
        """
        select current_setting('server_version_num')::int,
            (select extversion from pg_catalog.pg_extension where extname = 'timescaledb'),
            (select count(*) from pg_catalog.pg_namespace where nspname = 'ops')
        """
    ).fetchone()
    mode = None
    if row[2]:
        mode = conn.execute("select ops.database_mode()").fetchone()[0]
    return {"server_version_num": row[0], "timescaledb_version": row[1], "mode": mode}


# --------------------------------------------------------------------------------------------
# Tools

def _tool(name: str) -> str:
    from db.cluster import find_bindir

    try:
        path = find_bindir() / name
    except Exception:  # noqa: BLE001 - fall back to PATH below
        path = None
    if path is not None and path.exists():
        return str(path)
    found = shutil.which(name)
    if not found:
        raise BackupError(f"{name} was not found: install the PostgreSQL client/server package (make setup)")
    return found


def _run_tool(args: list[str], url: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.update(libpq_environment(url))
    result = subprocess.run(args, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        message = (result.stderr or result.stdout).strip().splitlines()
        raise BackupError(f"{Path(args[0]).name} failed: {message[-1] if message else 'exit ' + str(result.returncode)}")
    return result


# --------------------------------------------------------------------------------------------
# Backup

def _stamp(now: dt.datetime | None = None) -> str:
    return (now or dt.datetime.now(dt.timezone.utc)).strftime("%Y%m%dT%H%M%SZ")


def manifest_path(dump: Path) -> Path:
    return dump.with_suffix(".json")


def backup(url: str | None = None, *, directory: Path | None = None, file: Path | None = None) -> Path:
    """Dump the database to a custom-format file with a manifest beside it; returns the file."""
    url = url or database_url()
    with connect(url) as conn:
        dbname = conn.info.dbname
        if file is None:
            directory = Path(directory or "backups")
            file = directory / f"tsquant-{dbname}-{_stamp()}{DUMP_SUFFIX}"
        file.parent.mkdir(parents=True, exist_ok=True)
        conn.execute("begin isolation level repeatable read read only")
        snapshot = conn.execute("select pg_export_snapshot()").fetchone()[0]
        facts = _server_facts(conn)
        summary = content_summary(conn)
        # pg_dump joins the snapshot while this transaction keeps it alive.
        _run_tool([_tool("pg_dump"), "--format=custom", f"--snapshot={snapshot}",
                   f"--file={file}", "--no-password"], url)
        conn.rollback()
    manifest = {
        "manifest_version": MANIFEST_VERSION,
        "database": dbname,
        "created_at": dt.datetime.now(dt.timezone.utc).isoformat(),
        "file": file.name,
        "size_bytes": file.stat().st_size,
        **facts,
        "relations": summary,
    }
    manifest_path(file).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    _log_event(url, "backup", f"backup of {dbname} written to {file.name}",
               {"file": str(file), "relations": len(summary),
                "rows": sum(int(v["rows"]) for v in summary.values())})
    return file


def _log_event(url: str, kind: str, message: str, detail: dict) -> None:
    """Record an operation in ops.events when the database has it (a bare one does not)."""
    try:
        with connect(url, autocommit=True) as conn:
            present = conn.execute("select to_regclass('ops.events') is not null").fetchone()[0]
            if present:
                conn.execute(
                    "insert into ops.events (source, event_type, message, details) values ('db.backup', %s, %s, %s)",
                    (kind, message, json.dumps(detail)),
                )
    except (psycopg.Error, ConfigurationError):
        pass  # the backup itself succeeded; the event is a courtesy


def read_manifest(dump: Path) -> dict:
    path = manifest_path(dump)
    if not dump.exists():
        raise BackupError(f"backup file {dump} does not exist")
    if not path.exists():
        raise BackupError(f"{dump} has no manifest ({path.name}); it was not written by tsquant backup")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise BackupError(f"manifest {path} is not valid JSON ({exc.msg})") from None


# --------------------------------------------------------------------------------------------
# Restore and verify

@dataclass
class Difference:
    relation: str
    expected: object
    actual: object


def compare(manifest: dict, actual: dict[str, dict[str, object]]) -> list[Difference]:
    expected = manifest["relations"]
    diffs = []
    for rel in sorted(set(expected) | set(actual)):
        if expected.get(rel) != actual.get(rel):
            diffs.append(Difference(rel, expected.get(rel), actual.get(rel)))
    return diffs


def restore(dump: Path, database: str, *, url: str | None = None, force: bool = False,
            log=print) -> list[Difference]:
    """Restore `dump` into a new database on the configured server, then verify it against the
    manifest; returns the differences (none for a whole copy)."""
    manifest = read_manifest(dump)
    server_url = url or database_url()
    target = with_database(server_url, database)
    admin = with_database(server_url, "postgres")
    with connect(admin, autocommit=True) as conn:
        exists = conn.execute("select 1 from pg_catalog.pg_database where datname = %s", (database,)).fetchone()
        if exists and not force:
            raise BackupError(f"database {database} already exists: restore into a new name, or pass --force to replace it")
        if exists:
            conn.execute(sql.SQL("drop database {} with (force)").format(sql.Identifier(database)))
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(database)))
    ts_version = manifest.get("timescaledb_version")
    with connect(target, autocommit=True) as conn:
        # The group roles are cluster-wide; a new server needs them before objects get owners.
        roles_sql = (Path(__file__).parent / "roles" / "V0001__roles.sql").read_text()
        conn.execute(roles_sql)
        if ts_version:
            available = conn.execute(
                "select version from pg_catalog.pg_available_extension_versions"
                " where name = 'timescaledb' and version = %s", (ts_version,),
            ).fetchone()
            if not available:
                raise BackupError(f"the dump needs TimescaleDB {ts_version}, which this server does not have")
            conn.execute(sql.SQL("create extension if not exists timescaledb version {}").format(sql.Literal(ts_version)))
            conn.execute("select timescaledb_pre_restore()")
    log(f"restoring {dump.name} into {database}")
    try:
        args = [_tool("pg_restore"), "--exit-on-error", "--no-password", f"--dbname={database}"]
        _run_tool(args + [str(dump)], target)
    finally:
        if ts_version:
            with connect(target, autocommit=True) as conn:
                conn.execute("select timescaledb_post_restore()")
    with connect(target) as conn:
        diffs = compare(manifest, content_summary(conn))
    _log_event(target, "restore", f"restored {dump.name} into {database}",
               {"file": str(dump), "differences": len(diffs)})
    return diffs


def verify(dump: Path, database: str | None = None, *, url: str | None = None) -> list[Difference]:
    manifest = read_manifest(dump)
    target = url or database_url(database)
    with connect(target) as conn:
        return compare(manifest, content_summary(conn))


# --------------------------------------------------------------------------------------------
# Pruning: daily for 30 days, weekly for 26 weeks, monthly for 24 months (grandfather-father-son)

_STAMP_RE = re.compile(r"-(\d{8}T\d{6}Z)" + re.escape(DUMP_SUFFIX) + "$")


def backup_time(path: Path) -> dt.datetime | None:
    m = _STAMP_RE.search(path.name)
    if not m:
        return None
    return dt.datetime.strptime(m.group(1), "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.timezone.utc)


def to_keep(times: list[dt.datetime], now: dt.datetime, *, daily: int = 30, weekly: int = 26,
            monthly: int = 24) -> set[dt.datetime]:
    """The backups a daily/weekly/monthly schedule keeps: the newest of each day within `daily`
    days, of each ISO week within `weekly` weeks, of each month within `monthly` months."""
    keep: set[dt.datetime] = set()
    newest: dict[tuple, dt.datetime] = {}
    for t in sorted(times):
        age = now - t
        months = (now.year - t.year) * 12 + now.month - t.month
        for key, inside in ((("d", t.date()), age < dt.timedelta(days=daily)),
                            (("w",) + tuple(t.isocalendar()[:2]), age < dt.timedelta(weeks=weekly)),
                            (("m", t.year, t.month), months < monthly)):
            if inside:
                newest[key] = t  # times ascend: the last one seen is the newest of its period
    keep.update(newest.values())
    return keep


def prune(directory: Path, *, now: dt.datetime | None = None, dry_run: bool = False,
          **schedule: int) -> tuple[list[Path], list[Path]]:
    """(kept, deleted) dump files of `directory` under the schedule; manifests go with them."""
    now = now or dt.datetime.now(dt.timezone.utc)
    dumps = {p: backup_time(p) for p in sorted(directory.glob(f"*{DUMP_SUFFIX}"))}
    dumps = {p: t for p, t in dumps.items() if t is not None}
    keep_times = to_keep(list(dumps.values()), now, **schedule)
    kept, deleted = [], []
    for path, t in dumps.items():
        if t in keep_times:
            kept.append(path)
            continue
        deleted.append(path)
        if not dry_run:
            path.unlink()
            manifest_path(path).unlink(missing_ok=True)
    return kept, deleted


# --------------------------------------------------------------------------------------------
# Point-in-time recovery (physical): base backup + archived WAL, replayed up to a moment

def basebackup(directory: Path, *, url: str | None = None) -> Path:
    """A tar-format base backup of the whole server (the embedded cluster or DATABASE_URL's
    server) into `directory`/base-<stamp>; WAL comes from the archive at restore time."""
    target = directory / f"base-{_stamp()}"
    target.parent.mkdir(parents=True, exist_ok=True)
    _run_tool([_tool("pg_basebackup"), "--pgdata", str(target), "--format=tar", "--gzip",
               "--wal-method=none", "--checkpoint=fast", "--no-password"], url or database_url("postgres"))
    return target


def pitr_restore(base: Path, archive: Path, target_time: dt.datetime, home: Path, *, port: int,
                 log=print) -> Path:
    """Lay out a new embedded-cluster home from a base backup that replays archived WAL up to
    `target_time` and then promotes; start it with TSQ_HOME=home TSQ_PG_PORT=port make db-up."""
    from db.cluster import EmbeddedCluster

    cluster = EmbeddedCluster(data_dir=home / "pgdata", port=port, bindir=_lazy_bindir())
    if cluster.is_initialized():
        raise BackupError(f"{cluster.data_dir} already holds a cluster: choose a new --home")
    tar = base / "base.tar.gz"
    if not tar.exists():
        raise BackupError(f"{base} is not a tsquant base backup (no base.tar.gz)")
    cluster.home.mkdir(parents=True, exist_ok=True)
    for path in (cluster.data_dir, cluster.log_file.parent):
        cluster._make_private_dir(path)
    subprocess.run(["tar", "-xzf", str(tar), "-C", str(cluster.data_dir)], check=True)
    stamp = target_time.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f+00")
    with open(cluster.data_dir / "postgresql.auto.conf", "a", encoding="utf-8") as conf:
        conf.write(
            "\n# tsquant point-in-time recovery\n"
            f"restore_command = 'cp {archive}/%f %p'\n"
            f"recovery_target_time = '{stamp}'\n"
            "recovery_target_action = 'promote'\n"
        )
    (cluster.data_dir / "recovery.signal").write_text("")
    if os.geteuid() == 0:
        subprocess.run(["chown", "-R", "postgres:postgres", str(cluster.home)], check=True)
    os.chmod(cluster.data_dir, 0o700)
    log(f"recovery prepared in {cluster.data_dir} (target {stamp})")
    return cluster.data_dir


def _lazy_bindir() -> Path:
    from db.cluster import find_bindir

    return find_bindir()


# --------------------------------------------------------------------------------------------
# Command line

def _parse_time(value: str) -> dt.datetime:
    try:
        t = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {value!r}") from None
    return t if t.tzinfo else t.replace(tzinfo=dt.timezone.utc)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m db.backup", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("backup", help="pg_dump (custom format) with a manifest")
    b.add_argument("--dir", type=Path, default=Path("backups"), help="directory (default backups/)")
    b.add_argument("--file", type=Path, help="exact file name instead of --dir")
    r = sub.add_parser("restore", help="restore a dump into a new database and verify it")
    r.add_argument("file", type=Path)
    r.add_argument("--database", required=True, help="name of the new database")
    r.add_argument("--force", action="store_true", help="replace an existing database of that name")
    v = sub.add_parser("verify", help="compare a database with a dump's manifest")
    v.add_argument("file", type=Path)
    v.add_argument("--database", help="database to check (default: the configured one)")
    p = sub.add_parser("prune", help="delete dumps outside the daily/weekly/monthly schedule")
    p.add_argument("--dir", type=Path, default=Path("backups"))
    p.add_argument("--daily", type=int, default=30, help="days of daily backups (default 30)")
    p.add_argument("--weekly", type=int, default=26, help="weeks of weekly backups (default 26)")
    p.add_argument("--monthly", type=int, default=24, help="months of monthly backups (default 24)")
    p.add_argument("--dry-run", action="store_true")
    bb = sub.add_parser("basebackup", help="physical base backup of the server (for PITR)")
    bb.add_argument("--dir", type=Path, default=Path("backups/base"))
    pr = sub.add_parser("pitr-restore", help="prepare a cluster that recovers to a point in time")
    pr.add_argument("--base", type=Path, required=True, help="a base backup directory")
    pr.add_argument("--archive", type=Path, required=True, help="the WAL archive directory")
    pr.add_argument("--target-time", type=_parse_time, required=True, help="ISO 8601, UTC if no zone")
    pr.add_argument("--home", type=Path, required=True, help="new TSQ_HOME for the recovered cluster")
    pr.add_argument("--port", type=int, default=54339, help="port number of the recovered cluster")
    return parser


def _print_differences(diffs: list[Difference]) -> None:
    for d in diffs[:20]:
        print(f"  {d.relation}: manifest {d.expected}, database {d.actual}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "backup":
            path = backup(directory=args.dir, file=args.file)
            m = read_manifest(path)
            rows = sum(int(v["rows"]) for v in m["relations"].values())
            print(f"backup written: {path} ({m['size_bytes']:,} bytes, {len(m['relations'])} relations, {rows:,} rows)")
        elif args.command in ("restore", "verify"):
            if args.command == "restore":
                diffs = restore(args.file, args.database, force=args.force)
            else:
                diffs = verify(args.file, args.database)
            if diffs:
                print(f"{args.command}: {len(diffs)} relation(s) differ from the manifest:", file=sys.stderr)
                _print_differences(diffs)
                return 1
            n = len(read_manifest(args.file)["relations"])
            print(f"{args.command}: every relation matches the manifest ({n} relations, counts and checksums)")
        elif args.command == "prune":
            kept, deleted = prune(args.dir, dry_run=args.dry_run, daily=args.daily,
                                  weekly=args.weekly, monthly=args.monthly)
            verb = "would delete" if args.dry_run else "deleted"
            print(f"prune: kept {len(kept)}, {verb} {len(deleted)} backup(s) in {args.dir}")
            for path in deleted:
                print(f"  {verb} {path.name}")
        elif args.command == "basebackup":
            print(f"base backup written: {basebackup(args.dir)}")
        elif args.command == "pitr-restore":
            pitr_restore(args.base, args.archive, args.target_time, args.home, port=args.port)
            print(f"start it with: TSQ_HOME={args.home} TSQ_PG_PORT={args.port} make db-up")
    except (BackupError, ConfigurationError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except psycopg.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"error: {redact(first)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
