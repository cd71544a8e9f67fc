"""Record every test result in ops.test_results and in logs/test_results.log (seed 000).

Enabled with `pytest --record-results` or TSQ_RECORD_TESTS=1 (`make test RECORD_TESTS=1`).
Results go to the main tsquant database (DATABASE_URL or the embedded one), not to the
throwaway test databases, so they outlive the run. One row per test: the call phase's outcome,
or the setup/teardown error when there is one.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
from pathlib import Path

import pytest

LOG_FILE = Path(
    os.environ.get("TSQ_TEST_LOG", Path(__file__).resolve().parents[2] / "logs" / "test_results.log")
)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--record-results",
        action="store_true",
        default=os.environ.get("TSQ_RECORD_TESTS", "") not in ("", "0"),
        help="record each result in ops.test_results and logs/test_results.log",
    )


class ResultRecorder:
    def __init__(self, mode: str) -> None:
        now = dt.datetime.now(dt.timezone.utc)
        self.run_id = f"{now:%Y%m%dT%H%M%SZ}-{socket.gethostname()}-{os.getpid()}"
        self.mode = mode
        self.rows: list[tuple] = []

    def add(self, report: pytest.TestReport) -> None:
        if report.when == "call" or (report.when != "call" and not report.passed):
            status = report.outcome
            if hasattr(report, "wasxfail"):
                status = "xfailed" if report.skipped else "xpassed"
            elif report.when != "call" and report.failed:
                status = "error"
            details = None
            if report.failed:
                details = str(report.longrepr)[-4000:]
            elif report.skipped and isinstance(report.longrepr, tuple):
                details = report.longrepr[2]
            self.rows.append((report.nodeid, status, details, round(report.duration, 6)))

    def flush(self) -> str:
        LOG_FILE.parent.mkdir(parents=True, exist_ok=True)
        with LOG_FILE.open("a", encoding="utf-8") as log:
            for nodeid, status, details, duration in self.rows:
                first = (details or "").strip().splitlines()[-1:] or [""]
                log.write(
                    f"{dt.datetime.now(dt.timezone.utc).isoformat()} run={self.run_id} "
                    f"mode={self.mode} {status.upper():8} {duration:9.3f}s {nodeid}"
                    + (f" | {first[0][:300]}" if details else "")
                    + "\n"
                )
        from db.connection import ConfigurationError, connect

        try:
            with connect() as conn:
                with conn.cursor() as cur:
                    cur.executemany(
                        "insert into ops.test_results"
                        " (run_id, test_name, status, details, duration_s, database_mode)"
                        " values (%s, %s, %s, %s, %s, %s)",
                        [(self.run_id, *row, self.mode) for row in self.rows],
                    )
                conn.commit()
        except (ConfigurationError, Exception) as exc:  # recording must never fail the run
            return f"test results: written to {LOG_FILE}; NOT recorded in the database ({exc})"
        return f"test results: {len(self.rows)} recorded in ops.test_results (run {self.run_id}) and {LOG_FILE}"


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("--record-results"):
        mode = config.getoption("--db-mode", default="postgresql")
        config._tsq_recorder = ResultRecorder(mode)  # type: ignore[attr-defined]


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    recorder = getattr(_config, "_tsq_recorder", None) if _config else None
    if recorder:
        recorder.add(report)


_config: pytest.Config | None = None


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    global _config
    _config = session.config


def pytest_terminal_summary(terminalreporter, exitstatus, config: pytest.Config) -> None:
    recorder = getattr(config, "_tsq_recorder", None)
    if recorder:
        terminalreporter.write_line(recorder.flush())
