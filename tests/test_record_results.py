"""--record-results writes one row per test to ops.test_results and a line to the log file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]

SAMPLE = '''
import pytest

def test_ok():
    assert 1 + 1 == 2

def test_broken():
    assert 1 + 1 == 3, "arithmetic is broken"

@pytest.mark.skip(reason="not today")
def test_skipped():
    pass
'''


def test_results_are_recorded_in_the_database_and_the_log(db_url: str, tmp_path: Path) -> None:
    (tmp_path / "test_sample.py").write_text(SAMPLE)
    log = tmp_path / "test_results.log"
    env = {**os.environ, "DATABASE_URL": db_url, "TSQ_TEST_LOG": str(log), "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "tests.plugins.record_results",
         "--record-results", "--rootdir", str(tmp_path), str(tmp_path / "test_sample.py")],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 1, result.stdout + result.stderr  # one test fails on purpose
    assert "3 recorded in ops.test_results" in result.stdout
    with psycopg.connect(db_url) as conn:
        rows = dict(
            conn.execute(
                "select split_part(test_name, '::', 2), status from ops.test_results"
            ).fetchall()
        )
        details = conn.execute(
            "select details from ops.test_results where test_name like '%test_broken'"
        ).fetchone()[0]
    assert rows == {"test_ok": "passed", "test_broken": "failed", "test_skipped": "skipped"}
    assert "arithmetic is broken" in details
    lines = log.read_text().splitlines()
    assert len(lines) == 3
    assert any("FAILED" in line and "test_broken" in line for line in lines)
