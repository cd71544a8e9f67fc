"""Migration runner: applies db/**/*.sql to a database, once and in order.

- Versioned files `V0001__name.sql` run once, in version order across all folders; their sha256
  is recorded in the ledger `ops.schema_migrations`. A versioned file edited after it was applied
  (or deleted) is refused. A new file whose version is below one already applied (another area's
  range) is applied and reported as out of order.
- Repeatable files `R__name.sql` run after the versioned ones, again whenever their checksum
  changes; a file with `-- tsquant:fingerprint <query>` also whenever that query's answer changes
  (e.g. an optional extension appears on the server).
- `native/` folders hold C sources of optional extensions (built by `make setup`), not migrations.
- `….timescaledb.sql` / `….postgresql.sql` run only in that database mode. The mode is decided
  once, at the first migration of a database (`--mode auto` picks TimescaleDB when the extension is
  available, preloaded and Timescale-licensed), and recorded in the ledger.
- Each file runs in its own transaction with its ledger row, under `set role tsq_owner` unless it
  says `-- tsquant:as-admin`. A failing file is rolled back and reported as `path:line: message`.
- An advisory lock makes concurrent runs wait for each other; running twice changes nothing.

Usage: python -m db.migrate [--url URL] [--mode auto|postgresql|timescaledb] [--create-db] [--status]
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql

from db.connection import connect, database_url, redact, with_database
from db.sqlsplit import Statement, split_statements

DB_ROOT = Path(__file__).resolve().parent
PROJECT_ROOT = DB_ROOT.parent
MODES = ("postgresql", "timescaledb")
SCHEMA_ORDER = ("roles", "ops", "market", "ta", "signals", "trading", "risk", "perf", "bi")
LOCK_KEY = "tsquant.migrate"
OWNER_ROLE = "tsq_owner"

_NAME = re.compile(
    r"^(?:V(?P<version>\d+)|(?P<repeatable>R))__(?P<name>[a-z0-9_]+)"
    r"(?:\.(?P<mode>postgresql|timescaledb))?\.sql$"
)
_DIRECTIVE = re.compile(r"^--\s*tsquant:(?P<key>[a-z-]+)\s*(?P<value>.*?)\s*$")

LEDGER_DDL = """
create schema if not exists ops;
create table if not exists ops.schema_migrations (
    id bigint generated always as identity primary key,
    kind text not null check (kind in ('versioned', 'repeatable')),
    version integer,
    path text not null,
    checksum text not null,
    database_mode text not null check (database_mode in ('postgresql', 'timescaledb')),
    applied_at timestamptz not null default now(),
    applied_by text not null default session_user,
    duration_ms double precision not null
);
create unique index if not exists schema_migrations_version_key
    on ops.schema_migrations (version) where kind = 'versioned';
comment on table ops.schema_migrations is
    'Ledger of the migration runner (db/migrate.py): one row per versioned file applied, one row per application of a repeatable file.';
comment on column ops.schema_migrations.id is 'Order of application.';
comment on column ops.schema_migrations.kind is 'versioned (V<nnnn>__name.sql, applied once) or repeatable (R__name.sql, reapplied when it changes).';
comment on column ops.schema_migrations.version is 'Version number of a versioned file; NULL for a repeatable one.';
comment on column ops.schema_migrations.path is 'File path relative to the project root, e.g. db/market/V0100__instruments_and_timeframes.sql.';
comment on column ops.schema_migrations.checksum is 'sha256 of the file as applied (a versioned file edited later is refused).';
comment on column ops.schema_migrations.database_mode is 'postgresql or timescaledb: the mode the file ran in.';
comment on column ops.schema_migrations.applied_at is 'When the file was applied.';
comment on column ops.schema_migrations.applied_by is 'Session role that ran the migration.';
comment on column ops.schema_migrations.duration_ms is 'How long the file took to apply, in milliseconds.';
"""


class MigrationError(RuntimeError):
    """A migration cannot be applied; the message names the file and, when known, the line."""

    exit_code = 1  # a failed run (db/errors.py)


@dataclass
class MigrationFile:
    path: Path
    kind: str  # 'versioned' | 'repeatable'
    version: int | None
    mode: str | None
    text: str
    checksum: str
    requires: list[str] = field(default_factory=list)
    as_admin: bool = False
    no_transaction: bool = False
    fingerprint: str | None = None  # a query whose answer is part of the checksum

    root: Path = DB_ROOT

    @property
    def rel(self) -> str:
        """Path as recorded in the ledger, e.g. db/ops/V0010__events.sql."""
        return self.path.relative_to(self.root.parent).as_posix()

    @property
    def schema_folder(self) -> str:
        return self.path.relative_to(self.root).parts[0]

    def applies_to(self, mode: str) -> bool:
        return self.mode is None or self.mode == mode


def load_file(path: Path, root: Path = DB_ROOT) -> MigrationFile:
    match = _NAME.match(path.name)
    if not match:
        raise MigrationError(
            f"{path.relative_to(root.parent)}: file name must look like V0123__name.sql or "
            "R__name.sql (optionally .postgresql.sql / .timescaledb.sql)"
        )
    raw = path.read_bytes()
    text = raw.decode("utf-8")
    mf = MigrationFile(
        path=path,
        kind="repeatable" if match.group("repeatable") else "versioned",
        version=int(match.group("version")) if match.group("version") else None,
        mode=match.group("mode"),
        text=text,
        checksum=hashlib.sha256(raw).hexdigest(),
        root=root,
    )
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        if not stripped.startswith("--"):
            break
        directive = _DIRECTIVE.match(stripped)
        if not directive:
            continue
        key, value = directive.group("key"), directive.group("value")
        if key == "requires":
            mf.requires.append(value)
        elif key == "as-admin":
            mf.as_admin = True
        elif key == "no-transaction":
            mf.no_transaction = True
        elif key == "fingerprint":
            if mf.kind != "repeatable":
                raise MigrationError(f"{mf.rel}: tsquant:fingerprint is for repeatable files only")
            mf.fingerprint = value
        else:
            raise MigrationError(f"{mf.rel}: unknown directive 'tsquant:{key}'")
    return mf


def discover(root: Path = DB_ROOT) -> tuple[list[MigrationFile], list[MigrationFile]]:
    """Versioned files in version order, repeatable files in dependency order."""
    files = [
        load_file(p, root)
        for p in sorted(root.rglob("*.sql"))
        if "native" not in p.relative_to(root).parts  # C extension sources (db/ta/native)
    ]
    versioned = sorted((f for f in files if f.kind == "versioned"), key=lambda f: (f.version, f.rel))
    seen: dict[tuple[int, str | None], MigrationFile] = {}
    for f in versioned:
        for mode in ([f.mode] if f.mode else list(MODES)):
            other = seen.get((f.version, mode))
            if other:
                raise MigrationError(f"{f.rel}: version {f.version} is also used by {other.rel}")
            seen[(f.version, mode)] = f
    repeatable = _order_repeatables([f for f in files if f.kind == "repeatable"])
    return versioned, repeatable


def _order_repeatables(files: list[MigrationFile]) -> list[MigrationFile]:
    def rank(f: MigrationFile) -> tuple:
        folder = f.schema_folder
        position = SCHEMA_ORDER.index(folder) if folder in SCHEMA_ORDER else len(SCHEMA_ORDER)
        return (position, f.rel)

    by_rel = {f.rel: f for f in files}
    ordered: list[MigrationFile] = []
    state: dict[str, str] = {}

    def visit(f: MigrationFile, chain: tuple[str, ...]) -> None:
        if state.get(f.rel) == "done":
            return
        if state.get(f.rel) == "visiting":
            raise MigrationError(f"{f.rel}: circular tsquant:requires ({' -> '.join(chain + (f.rel,))})")
        state[f.rel] = "visiting"
        for dep in f.requires:
            if dep not in by_rel:
                raise MigrationError(f"{f.rel}: tsquant:requires names {dep}, which is not a repeatable file")
            visit(by_rel[dep], chain + (f.rel,))
        state[f.rel] = "done"
        ordered.append(f)

    for f in sorted(files, key=rank):
        visit(f, ())
    return ordered


# -- database side -----------------------------------------------------------------------------

def _ensure_database(url: str) -> None:
    from urllib.parse import unquote, urlsplit

    name = unquote(urlsplit(url).path.lstrip("/"))
    with connect(with_database(url, "postgres"), autocommit=True) as admin:
        if not admin.execute("select 1 from pg_database where datname = %s", (name,)).fetchone():
            admin.execute(sql.SQL("create database {}").format(sql.Identifier(name)))


def timescaledb_status(conn: psycopg.Connection) -> tuple[bool, str]:
    """(usable, reason) for TimescaleDB mode on this server."""
    available = conn.execute(
        "select 1 from pg_available_extensions where name = 'timescaledb'"
    ).fetchone()
    if not available:
        return False, "the timescaledb extension is not installed on the server"
    preload = conn.execute("select current_setting('shared_preload_libraries')").fetchone()[0]
    if "timescaledb" not in preload:
        return False, "timescaledb is installed but not preloaded (shared_preload_libraries)"
    # The GUC is defined once the extension library is loaded; before that it only has a value
    # when postgresql.conf sets it, and TimescaleDB's default is 'timescale'.
    license_ = conn.execute("select current_setting('timescaledb.license', true)").fetchone()[0]
    if license_ not in (None, "", "timescale"):
        return False, f"timescaledb.license is '{license_}', not 'timescale' (Apache-only build)"
    return True, "timescaledb is available with the Timescale license"


def _recorded_mode(conn: psycopg.Connection) -> str | None:
    row = conn.execute(
        "select database_mode from ops.schema_migrations order by id limit 1"
    ).fetchone()
    return row[0] if row else None


def resolve_mode(conn: psycopg.Connection, requested: str) -> tuple[str, str]:
    recorded = _recorded_mode(conn)
    if recorded:
        if requested not in ("auto", recorded):
            raise MigrationError(
                f"this database was migrated in {recorded} mode; it cannot switch to {requested} "
                "(migrate a new database instead)"
            )
        return recorded, f"recorded at the first migration of this database"
    usable, reason = timescaledb_status(conn)
    if requested == "timescaledb" and not usable:
        raise MigrationError(f"TimescaleDB mode was requested but {reason}")
    if requested == "postgresql":
        return "postgresql", "requested"
    return ("timescaledb", reason) if usable else ("postgresql", reason)


def _fingerprint_checksum(conn: psycopg.Connection, mf: MigrationFile) -> str:
    """The file's sha256 with its fingerprint query's answer (what the server has now) folded in."""
    try:
        answer = conn.execute(mf.fingerprint).fetchall()
    except psycopg.Error as exc:
        raise MigrationError(f"{mf.rel}:1: tsquant:fingerprint query failed: {_describe(exc)}") from exc
    return hashlib.sha256(mf.text.encode("utf-8") + repr(answer).encode("utf-8")).hexdigest()


def _with_fingerprint(conn: psycopg.Connection, files: list[MigrationFile]) -> None:
    """Set each fingerprinted file's checksum from the server's current state (read-only)."""
    for mf in files:
        if mf.fingerprint is None:
            continue
        try:
            mf.checksum = _fingerprint_checksum(conn, mf)
        finally:
            conn.rollback()


def _applied(conn: psycopg.Connection) -> tuple[dict[int, tuple[str, str]], dict[str, str]]:
    versioned = {
        version: (path, checksum)
        for version, path, checksum in conn.execute(
            "select version, path, checksum from ops.schema_migrations where kind = 'versioned'"
        )
    }
    repeatable = dict(
        conn.execute(
            "select distinct on (path) path, checksum from ops.schema_migrations"
            " where kind = 'repeatable' order by path, id desc"
        ).fetchall()
    )
    return versioned, repeatable


def _error_line(stmt: Statement, exc: psycopg.Error) -> int:
    position = getattr(exc.diag, "statement_position", None)
    if position and str(position).isdigit():
        return stmt.line + stmt.sql.count("\n", 0, int(position) - 1)
    return stmt.line


def _describe(exc: psycopg.Error) -> str:
    message = exc.diag.message_primary or str(exc).strip().splitlines()[0]
    extra = [part for part in (exc.diag.message_detail, exc.diag.message_hint) if part]
    context = exc.diag.context
    if context:
        extra.append("context: " + " / ".join(context.strip().splitlines()[:3]))
    return message + ("" if not extra else " (" + "; ".join(extra) + ")")


def _apply(conn: psycopg.Connection, mf: MigrationFile, mode: str) -> float:
    statements = split_statements(mf.text)
    started = time.perf_counter()

    def run(stmt: Statement) -> None:
        try:
            conn.execute(stmt.sql)
        except psycopg.Error as exc:
            raise MigrationError(
                f"{mf.rel}:{_error_line(stmt, exc)}: {_describe(exc)}"
                + ("" if mf.no_transaction else " — the file was rolled back, nothing of it was applied")
            ) from exc

    def record(elapsed_ms: float) -> None:
        if mf.fingerprint is not None:
            # The answer as this file leaves the server: the next run compares against it, so a
            # file that itself changes the answer (or runs before the objects its query reads
            # exist) is not applied again for nothing.
            mf.checksum = _fingerprint_checksum(conn, mf)
        conn.execute(
            "insert into ops.schema_migrations"
            " (kind, version, path, checksum, database_mode, duration_ms)"
            " values (%s, %s, %s, %s, %s, %s)",
            (mf.kind, mf.version, mf.rel, mf.checksum, mode, elapsed_ms),
        )

    if mf.no_transaction:
        conn.autocommit = True
        try:
            for stmt in statements:
                run(stmt)
            elapsed = (time.perf_counter() - started) * 1000
            record(elapsed)
        finally:
            conn.autocommit = False
        return elapsed

    with conn.transaction():
        if not mf.as_admin:
            conn.execute(sql.SQL("set local role {}").format(sql.Identifier(OWNER_ROLE)))
        for stmt in statements:
            run(stmt)
        conn.execute("reset role")
        elapsed = (time.perf_counter() - started) * 1000
        record(elapsed)
    return elapsed


@dataclass
class Report:
    mode: str
    mode_reason: str
    applied: list[tuple[str, float]] = field(default_factory=list)
    unchanged: int = 0
    skipped_other_mode: int = 0


def migrate(url: str | None = None, *, mode: str = "auto", create_db: bool = False,
            log=print, root: Path = DB_ROOT) -> Report:
    target = url or database_url()
    if create_db:
        _ensure_database(target)
    versioned, repeatable = discover(root)
    with connect(target) as conn:
        conn.autocommit = True
        conn.execute("select pg_advisory_lock(hashtext(%s))", (LOCK_KEY,))
        conn.execute("set client_min_messages = warning")
        conn.execute(LEDGER_DDL)
        conn.autocommit = False
        try:
            chosen, reason = resolve_mode(conn, mode)
            conn.commit()
            report = Report(chosen, reason)
            applied_v, applied_r = _applied(conn)
            conn.commit()
            _check_versioned(versioned, applied_v, chosen)
            newest = max(applied_v, default=0)
            for mf in versioned:
                if not mf.applies_to(chosen):
                    report.skipped_other_mode += 1
                elif mf.version in applied_v:
                    report.unchanged += 1
                else:
                    # Version ranges belong to areas (db/README.md), so a new file of one area may
                    # sort below the newest applied file of another: it is applied, and said so.
                    late = " — out of order, below applied version %d" % newest if mf.version < newest else ""
                    report.applied.append((mf.rel, _apply(conn, mf, chosen)))
                    log(f"applied {mf.rel} ({report.applied[-1][1]:.0f} ms){late}")
            for mf in repeatable:
                if mf.fingerprint is not None and mf.applies_to(chosen):
                    # Read after the versioned files and the repeatables before it have run.
                    _with_fingerprint(conn, [mf])
                if not mf.applies_to(chosen):
                    report.skipped_other_mode += 1
                elif applied_r.get(mf.rel) == mf.checksum:
                    report.unchanged += 1
                else:
                    verb = "re-applied" if mf.rel in applied_r else "applied"
                    report.applied.append((mf.rel, _apply(conn, mf, chosen)))
                    log(f"{verb} {mf.rel} ({report.applied[-1][1]:.0f} ms)")
        finally:
            conn.rollback()
            conn.autocommit = True
            conn.execute("select pg_advisory_unlock(hashtext(%s))", (LOCK_KEY,))
    return report


def _check_versioned(files: list[MigrationFile], applied: dict[int, tuple[str, str]], mode: str) -> None:
    by_version = {f.version: f for f in files if f.applies_to(mode)}
    for version, (path, checksum) in sorted(applied.items()):
        mf = by_version.get(version)
        if mf is None:
            raise MigrationError(
                f"{path}: versioned migration {version} was applied to this database but the file "
                "is gone; restore it (applied migrations are never deleted)"
            )
        if mf.checksum != checksum:
            raise MigrationError(
                f"{mf.rel}: versioned migration {version} was edited after it was applied "
                f"(recorded sha256 {checksum[:12]}…, file now {mf.checksum[:12]}…); versioned files "
                "are immutable: revert the edit and put the change in a new versioned file"
            )


def status(url: str | None = None) -> list[str]:
    versioned, repeatable = discover()
    with connect(url or database_url()) as conn:
        exists = conn.execute("select to_regclass('ops.schema_migrations')").fetchone()[0]
        applied_v, applied_r = _applied(conn) if exists else ({}, {})
        mode = _recorded_mode(conn) if exists else None
        _with_fingerprint(conn, repeatable)
    lines = [f"database mode: {mode or 'not migrated yet'}"]
    for mf in versioned:
        if mode and not mf.applies_to(mode):
            state = f"skipped ({mf.mode} only)"
        elif mf.version in applied_v:
            state = "applied" if applied_v[mf.version][1] == mf.checksum else "EDITED after apply"
        else:
            state = "pending"
        lines.append(f"{state:<24} {mf.rel}")
    for mf in repeatable:
        if mode and not mf.applies_to(mode):
            state = f"skipped ({mf.mode} only)"
        elif mf.rel not in applied_r:
            state = "pending"
        else:
            state = "applied" if applied_r[mf.rel] == mf.checksum else "changed (will re-apply)"
        lines.append(f"{state:<24} {mf.rel}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m db.migrate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="database URL (default: DATABASE_URL or the embedded cluster)")
    parser.add_argument("--mode", choices=("auto",) + MODES, default="auto",
                        help="database mode for a database migrated for the first time")
    parser.add_argument("--create-db", action="store_true", help="create the database if missing")
    parser.add_argument("--status", action="store_true", help="list files and their state; apply nothing")
    parser.add_argument("--quiet", action="store_true", help="print only the summary line")
    args = parser.parse_args(argv)
    if args.status:
        print("\n".join(status(args.url)))
        return 0
    report = migrate(args.url, mode=args.mode, create_db=args.create_db,
                     log=(lambda _msg: None) if args.quiet else print)
    target = redact(args.url or database_url())
    print(
        f"migrate: {len(report.applied)} applied, {report.unchanged} unchanged, "
        f"{report.skipped_other_mode} for the other mode; database mode: {report.mode} "
        f"({report.mode_reason}); {target}"
    )
    return 0


if __name__ == "__main__":
    from db.errors import run_main

    sys.exit(run_main(main))
