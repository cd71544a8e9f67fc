"""scripts/setup.sh: a normal user without the OS packages gets one sentence saying what to install."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run the script as an unprivileged user")
def test_normal_user_missing_packages_gets_one_clear_sentence() -> None:
    readable = subprocess.run(["runuser", "-u", "nobody", "--", "test", "-r", str(ROOT / "scripts/setup.sh")])
    if readable.returncode != 0:
        pytest.skip("the checkout is not readable by the unprivileged user 'nobody'")
    # PG_MAJOR=99 names server packages that no machine has installed.
    result = subprocess.run(
        ["runuser", "-u", "nobody", "--", "env", "PG_MAJOR=99", "VENV=/nonexistent", "bash", str(ROOT / "scripts/setup.sh")],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("setup: missing OS packages: postgresql-99 postgresql-99-pgtap")
    assert "install them with: sudo apt-get install -y" in lines[0]


def test_second_run_is_a_no_op_when_everything_is_installed() -> None:
    result = subprocess.run(["bash", str(ROOT / "scripts/setup.sh")], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().startswith("setup: ready"), "nothing to install on a set-up machine"
