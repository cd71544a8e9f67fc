"""Embedded local PostgreSQL cluster, private to this checkout.

The data directory lives inside the project (`.tsq/pgdata`, git-ignored); the server listens on
its own Unix socket only (no TCP), on its own port number, so it never touches a system cluster.
PostgreSQL refuses to run as root: as root every server command runs through
`runuser -u postgres` and the cluster files belong to `postgres`; as a normal user they belong to
that user. The superuser inside the cluster is always called `postgres`.

When the TimescaleDB extension is installed on the machine, the cluster preloads it (the setting
is rewritten at each start, so installing the extension later takes effect on the next
`make db-up`). Whether a database actually uses it is decided per database by the migration
runner (see `ops.database_mode()`).

Usage: python -m db.cluster {up|down|status|url|psql} [--database NAME]
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PORT = 54329
# Unix socket paths are limited to 107 bytes; ".s.PGSQL.NNNNN" takes 14 of them.
MAX_SOCKET_DIR_LENGTH = 90
SERVER_SETTINGS_FILE = "tsquant.conf"


class ClusterError(RuntimeError):
    """The embedded cluster cannot be set up or started; the message says why."""

    exit_code = 1  # a failed run (db/errors.py)


def find_bindir() -> Path:
    """Directory of initdb/pg_ctl: $TSQ_PG_BINDIR, else the newest Debian-style install >= 15."""
    explicit = os.environ.get("TSQ_PG_BINDIR")
    if explicit:
        return Path(explicit)
    candidates = []
    for initdb in glob.glob("/usr/lib/postgresql/*/bin/initdb"):
        version = Path(initdb).parent.parent.name
        if version.isdigit() and int(version) >= 15:
            candidates.append((int(version), Path(initdb).parent))
    if candidates:
        return max(candidates)[1]
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=True)
        return Path(out.stdout.strip())
    raise ClusterError(
        "PostgreSQL server binaries (initdb, pg_ctl) were not found: install postgresql-15 "
        "(run 'make setup' as root) or set TSQ_PG_BINDIR"
    )


def timescaledb_installed(bindir: Path) -> bool:
    """True when the timescaledb extension files are installed for this server version."""
    pg_config = bindir / "pg_config"
    sharedir = None
    if pg_config.exists():
        out = subprocess.run([str(pg_config), "--sharedir"], capture_output=True, text=True)
        sharedir = out.stdout.strip() if out.returncode == 0 else None
    if not sharedir:
        sharedir = f"/usr/share/postgresql/{bindir.parent.name}"
    return Path(sharedir, "extension", "timescaledb.control").exists()


@dataclass
class EmbeddedCluster:
    data_dir: Path
    port: int
    bindir: Path

    @classmethod
    def from_environment(cls) -> "EmbeddedCluster":
        home = Path(os.environ.get("TSQ_HOME", PROJECT_ROOT / ".tsq"))
        port_text = str(os.environ.get("TSQ_PG_PORT", DEFAULT_PORT)).strip()
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            from db.errors import UserError

            raise UserError(f"TSQ_PG_PORT must be a port number (1-65535), got {port_text!r}")
        port = int(port_text)
        bindir = Path(os.environ["TSQ_PG_BINDIR"]) if "TSQ_PG_BINDIR" in os.environ else None
        return cls(data_dir=home / "pgdata", port=port, bindir=bindir or _lazy_bindir())

    # -- locations -----------------------------------------------------------------------------
    @property
    def home(self) -> Path:
        return self.data_dir.parent

    @property
    def log_file(self) -> Path:
        return self.home / "log" / "postgresql.log"

    @property
    def socket_dir(self) -> Path:
        preferred = self.home / "run"
        if len(str(preferred)) <= MAX_SOCKET_DIR_LENGTH:
            return preferred
        digest = hashlib.sha1(str(preferred).encode()).hexdigest()[:12]
        return Path(tempfile.gettempdir()) / f"tsquant-{os.getuid()}-{digest}"

    def url(self, dbname: str = "postgres") -> str:
        return (
            f"postgresql:///{quote(dbname)}?host={quote(str(self.socket_dir), safe='/')}"
            f"&port={self.port}&user=postgres"
        )

    # -- running server commands as the right user -----------------------------------------------
    @property
    def _as_root(self) -> bool:
        return os.geteuid() == 0

    def _server_command(self, args: list[str]) -> list[str]:
        if self._as_root:
            return ["runuser", "-u", "postgres", "--", *args]
        return args

    def _run(self, args: list[str], **kwargs) -> subprocess.CompletedProcess:
        return subprocess.run(self._server_command(args), text=True, capture_output=True, **kwargs)

    def _tool(self, name: str) -> str:
        path = self.bindir / name
        if not path.exists():
            raise ClusterError(f"{path} is missing: install the PostgreSQL server package")
        return str(path)

    def _make_private_dir(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        os.chmod(path, 0o700)
        if self._as_root:
            pw = pwd.getpwnam("postgres")
            os.chown(path, pw.pw_uid, pw.pw_gid)

    # -- lifecycle -----------------------------------------------------------------------------
    def is_initialized(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    def is_running(self) -> bool:
        if not self.is_initialized():
            return False
        result = self._run([self._tool("pg_ctl"), "status", "-D", str(self.data_dir)])
        return result.returncode == 0

    def init(self) -> bool:
        """Create the cluster if it does not exist; True when it was created now."""
        if self.is_initialized():
            return False
        if self._as_root:
            try:
                pwd.getpwnam("postgres")
            except KeyError as exc:
                raise ClusterError(
                    "running as root needs the 'postgres' system user (installed with postgresql)"
                ) from exc
        self.home.mkdir(parents=True, exist_ok=True)
        for path in (self.data_dir, self.log_file.parent, self.socket_dir):
            self._make_private_dir(path)
        result = self._run(
            [
                self._tool("initdb"),
                "-D", str(self.data_dir),
                "-U", "postgres",
                "--auth-local=trust",
                "--auth-host=reject",
                "-E", "UTF8",
                "--locale=C.UTF-8",
            ]
        )
        if result.returncode != 0:
            raise ClusterError(f"initdb failed: {result.stderr.strip() or result.stdout.strip()}")
        with open(self.data_dir / "postgresql.conf", "a", encoding="utf-8") as conf:
            conf.write(f"\n# tsquant: settings managed by db/cluster.py\ninclude_if_exists = '{SERVER_SETTINGS_FILE}'\n")
        return True

    def server_settings(self) -> dict[str, str]:
        """Settings written to tsquant.conf at each start."""
        settings = {
            "port": str(self.port),
            "listen_addresses": "''",
            "unix_socket_directories": f"'{self.socket_dir}'",
            "unix_socket_permissions": "0700",
            "shared_buffers": "'512MB'",
            "work_mem": "'64MB'",
            "maintenance_work_mem": "'512MB'",
            "max_wal_size": "'4GB'",
            "max_connections": "60",
            "log_min_messages": "warning",
            "log_line_prefix": "'%m [%p] %q%u@%d '",
            "timezone": "'UTC'",
            # short, selective queries over views with many subplans: JIT compiling costs seconds
            # (db/ops/V0013__jit_off.sql)
            "jit": "off",
        }
        # pg_stat_statements feeds ops.top_statements (it ships with the server package).
        preload = ["pg_stat_statements"]
        if os.environ.get("TSQ_TIMESCALEDB", "auto") != "off" and timescaledb_installed(self.bindir):
            preload.insert(0, "timescaledb")
            settings["timescaledb.telemetry_level"] = "off"
            settings["max_worker_processes"] = "24"
            settings["timescaledb.max_background_workers"] = "8"
        settings["shared_preload_libraries"] = "'" + ",".join(preload) + "'"
        archive = os.environ.get("TSQ_WAL_ARCHIVE", "").strip()
        if archive:
            # Continuous WAL archiving for point-in-time recovery (db/backup.py, docs/operations.md).
            settings["archive_mode"] = "on"
            settings["archive_command"] = f"'test ! -f {archive}/%f && cp %p {archive}/%f'"
            settings["archive_timeout"] = "'300s'"
            Path(archive).mkdir(parents=True, exist_ok=True)
            if self._as_root:
                pw = pwd.getpwnam("postgres")
                os.chown(archive, pw.pw_uid, pw.pw_gid)
        return settings

    def write_server_settings(self) -> None:
        path = self.data_dir / SERVER_SETTINGS_FILE
        body = "".join(f"{k} = {v}\n" for k, v in self.server_settings().items())
        path.write_text("# Rewritten by db/cluster.py at every start; edit there.\n" + body)
        if self._as_root:
            pw = pwd.getpwnam("postgres")
            os.chown(path, pw.pw_uid, pw.pw_gid)

    def start(self) -> str:
        """Initialise if needed and start; returns a short description of what happened."""
        created = self.init()
        if self.is_running():
            return f"embedded PostgreSQL already running ({self.data_dir})"
        self._make_private_dir(self.socket_dir)
        self.write_server_settings()
        result = self._run(
            [self._tool("pg_ctl"), "start", "-w", "-t", "60", "-D", str(self.data_dir),
             "-l", str(self.log_file)]
        )
        if result.returncode != 0:
            tail = _tail(self.log_file)
            raise ClusterError(f"the embedded PostgreSQL did not start: {tail or result.stderr.strip()}")
        self._ensure_database("tsquant")
        verb = "created and started" if created else "started"
        return f"embedded PostgreSQL {verb} ({self.data_dir}, socket {self.socket_dir}, port {self.port})"

    def stop(self) -> str:
        if not self.is_running():
            return "embedded PostgreSQL is not running"
        result = self._run([self._tool("pg_ctl"), "stop", "-w", "-m", "fast", "-D", str(self.data_dir)])
        if result.returncode != 0:
            raise ClusterError(f"pg_ctl stop failed: {result.stderr.strip()}")
        return "embedded PostgreSQL stopped"

    def _ensure_database(self, name: str) -> None:
        import psycopg

        deadline = time.monotonic() + 30
        while True:
            try:
                with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
                    exists = conn.execute(
                        "select 1 from pg_database where datname = %s", (name,)
                    ).fetchone()
                    if not exists:
                        conn.execute(f'create database "{name}"')
                    return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)


def _lazy_bindir() -> Path:
    try:
        return find_bindir()
    except ClusterError:
        # Only the commands that start a server need the binaries; url() does not.
        return Path("/usr/lib/postgresql/15/bin")


def _tail(path: Path, lines: int = 5) -> str:
    try:
        return " | ".join(path.read_text(errors="replace").strip().splitlines()[-lines:])
    except OSError:
        return ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m db.cluster", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["up", "down", "status", "url", "psql"])
    parser.add_argument("--database", default="tsquant", help="database name for url/psql")
    args = parser.parse_args(argv)
    cluster = EmbeddedCluster.from_environment()
    try:
        if args.command == "up":
            print(cluster.start())
        elif args.command == "down":
            print(cluster.stop())
        elif args.command == "status":
            state = "running" if cluster.is_running() else (
                "stopped" if cluster.is_initialized() else "not created")
            print(f"embedded PostgreSQL: {state} ({cluster.data_dir}); url: {cluster.url(args.database)}")
            return 0 if state == "running" else 3
        elif args.command == "url":
            print(cluster.url(args.database))
        elif args.command == "psql":
            os.execvp("psql", ["psql", cluster.url(args.database)])
    except ClusterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    from db.errors import run_main

    sys.exit(run_main(main))
