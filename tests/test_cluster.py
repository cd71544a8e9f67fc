"""The embedded cluster: private to the checkout, works as root and as a normal user."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

import psycopg
import pytest

from db.cluster import EmbeddedCluster, MAX_SOCKET_DIR_LENGTH
from db.connection import libpq_environment, redact, with_database

ROOT = Path(__file__).resolve().parents[1]


def test_url_points_at_the_private_socket_and_port(tmp_path: Path) -> None:
    cluster = EmbeddedCluster(data_dir=tmp_path / "pgdata", port=54999, bindir=Path("/nonexistent"))
    env = libpq_environment(cluster.url("tsquant"))
    assert env == {"PGHOST": str(tmp_path / "run"), "PGPORT": "54999", "PGUSER": "postgres", "PGDATABASE": "tsquant"}


def test_long_project_paths_get_a_short_socket_directory(tmp_path: Path) -> None:
    deep = tmp_path.joinpath(*["d" * 30] * 5)
    cluster = EmbeddedCluster(data_dir=deep / "pgdata", port=54999, bindir=Path("/nonexistent"))
    assert len(str(cluster.socket_dir)) <= MAX_SOCKET_DIR_LENGTH


def test_url_helpers_keep_the_query_and_hide_passwords() -> None:
    url = "postgresql://app:s3cret@db.example:5432/tsquant?sslmode=require"
    assert with_database(url, "other") == "postgresql://app:s3cret@db.example:5432/other?sslmode=require"
    assert "s3cret" not in redact(url)


def _interpreter_for_postgres_user() -> tuple[str, str]:
    """A Python the unprivileged user can execute, with this venv's packages importable.

    The venv's interpreter may link to a root-only location (e.g. pyenv under /root); the
    system python3 of the same minor version can use the venv's site-packages instead.
    """
    site = sysconfig.get_paths()["purelib"]
    candidates = [sys.executable, "/usr/bin/python3", "/usr/local/bin/python3"]
    for python in candidates:
        pythonpath = f"{ROOT}:{site}"
        probe = subprocess.run(
            ["runuser", "-u", "postgres", "--", python, "-c",
             f"import sys; assert sys.version_info[:2] == {sys.version_info[:2]!r}; import psycopg"],
            env={**os.environ, "PYTHONPATH": pythonpath}, capture_output=True, text=True,
        )
        if probe.returncode == 0:
            return python, pythonpath
    pytest.skip("no Python interpreter usable by the unprivileged 'postgres' user")


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to switch to an unprivileged user")
def test_a_normal_user_can_run_its_own_embedded_cluster() -> None:
    """Run db.cluster as the unprivileged 'postgres' user with its own TSQ_HOME and port."""
    home = Path(tempfile.mkdtemp(prefix="tsq-user-home-"))  # pytest's tmp dirs are root-only
    pw = pwd.getpwnam("postgres")
    os.chown(home, pw.pw_uid, pw.pw_gid)
    python, pythonpath = _interpreter_for_postgres_user()
    env = {**os.environ, "TSQ_HOME": str(home / ".tsq"), "TSQ_PG_PORT": "54987", "PYTHONPATH": pythonpath}
    env.pop("DATABASE_URL", None)

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["runuser", "-u", "postgres", "--", python, "-m", "db.cluster", *args],
            env=env, cwd=ROOT, capture_output=True, text=True, timeout=120,
        )

    try:
        up = run("up")
        assert up.returncode == 0, up.stderr
        assert "created and started" in up.stdout
        url = run("url").stdout.strip()
        with psycopg.connect(url) as conn:
            assert conn.execute("select current_database()").fetchone()[0] == "tsquant"
        assert "already running" in run("up").stdout
        assert (home / ".tsq" / "pgdata" / "PG_VERSION").exists(), "data lives under TSQ_HOME"
    finally:
        down = run("down")
        stopped = run("status").returncode
        shutil.rmtree(home, ignore_errors=True)
    assert down.returncode == 0 and "stopped" in down.stdout
    assert stopped == 3
