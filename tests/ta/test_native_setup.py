"""The native ta kernels: built by make setup from db/ta/native, detected by the migrations.

- scripts/build-native.sh as a normal user builds the library and says, in one line, that
  installing it needs root (exit 0: the PL/pgSQL kernels are used);
- on a set-up machine the server runs the library built from this checkout's sources (the source
  fingerprint in ta.kernel_implementation() is the hash of db/ta/native), and
  tsquant.native_kernels = off switches a session to the PL/pgSQL kernels.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NATIVE = ROOT / "db" / "ta" / "native"
PG_CONFIG = Path("/usr/lib/postgresql/15/bin/pg_config")


def source_hash() -> str:
    """The fingerprint scripts/build-native.sh stamps: sha256 of `sha256sum <files>` output."""
    lines = "".join(
        f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.name}\n" for p in sorted(NATIVE.iterdir()) if p.is_file()
    )
    return hashlib.sha256(lines.encode()).hexdigest()[:12]


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run the script as an unprivileged user")
@pytest.mark.skipif(not PG_CONFIG.exists(), reason="postgresql-server-dev-15 is not installed")
def test_normal_user_builds_but_cannot_install():
    readable = subprocess.run(["runuser", "-u", "nobody", "--", "test", "-r", str(ROOT / "scripts/build-native.sh")])
    if readable.returncode != 0:
        pytest.skip("the checkout is not readable by the unprivileged user 'nobody'")
    tmp_path = Path(tempfile.mkdtemp(prefix="tsq-native-"))  # pytest's tmp_path is private to root
    tmp_path.chmod(0o755)
    # A server whose directories are root's and hold no tsquant_ta yet: pg_config answers as the
    # real one, except for the two install directories.
    server = tmp_path / "server"
    (server / "lib").mkdir(parents=True)
    (server / "share" / "extension").mkdir(parents=True)
    fake = tmp_path / "pg_config"
    fake.write_text(
        "#!/bin/sh\n"
        f'case "$1" in --pkglibdir) echo {server / "lib"};; --sharedir) echo {server / "share"};; '
        f'*) exec {PG_CONFIG} "$@";; esac\n'
    )
    fake.chmod(0o755)
    build = tmp_path / "build"
    build.mkdir()
    build.chmod(0o777)
    result = subprocess.run(
        ["runuser", "-u", "nobody", "--", "env", f"TSQ_NATIVE_BUILD={build / 'tree'}", f"TSQ_PG_CONFIG={fake}",
         "bash", str(ROOT / "scripts/build-native.sh"), "15"],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1, result.stdout
    assert lines[0].startswith("setup: native ta kernels built but not installed")
    assert "ta.* runs its PL/pgSQL kernels" in lines[0]
    assert (build / "tree" / "tsquant_ta.so").exists()
    assert list((server / "lib").iterdir()) == []
    shutil.rmtree(tmp_path)


def test_server_runs_the_library_of_this_checkout(conn):
    installed = conn.execute("select exists (select from pg_extension where extname = 'tsquant_ta')").fetchone()[0]
    if not installed:
        assert conn.execute("select ta.kernel_implementation()").fetchone()[0] == "plpgsql"
        pytest.skip("the native ta kernels are not installed on this server")
    implementation = conn.execute("select ta.kernel_implementation()").fetchone()[0]
    assert implementation == f"native: tsquant_ta 1.0 (source {source_hash()})"
    conn.execute("set tsquant.native_kernels = off")
    try:
        assert conn.execute("select ta.kernel_implementation()").fetchone()[0] == "plpgsql"
    finally:
        conn.execute("reset tsquant.native_kernels")
