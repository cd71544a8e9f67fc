"""Run dbt (dbt_project/) against the database everything else uses, from any directory.

The connection comes from db/connection.py (DATABASE_URL or the embedded cluster) as libpq
variables; dbt_project/profiles.yml reads them, so no secret is written to a file. dbt acts as
tsq_dbt (db/roles/V0005__dbt_role.sql). It also arranges the maintained indicators the features
read: dbt_project/seeds/feature_indicators.csv declares them once, `maintain_feature_indicators`
calls ta.maintain for each instrument and feature timeframe.

Usage: python -m db.dbt_runner [--url URL] [--maintain] DBT_ARGS...
  e.g. python -m db.dbt_runner build        python -m db.dbt_runner --maintain build
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

from db.connection import ConfigurationError, connect, database_url, libpq_environment

PROJECT_DIR = Path(__file__).resolve().parent.parent / "dbt_project"
FEATURE_INDICATORS = PROJECT_DIR / "seeds" / "feature_indicators.csv"
FEATURE_TIMEFRAMES = ("1m", "5m", "15m", "1h", "4h", "1d")


def dbt_executable() -> str:
    """The dbt of this virtualenv (beside the running Python), else the one on PATH."""
    here = Path(sys.executable).parent / "dbt"
    return str(here) if here.exists() else "dbt"


def dbt_environment(url: str | None = None, *, run_dir: Path | None = None) -> dict[str, str]:
    """Environment for a dbt subprocess: libpq variables of `url`, offline flags, and (optional)
    private target/log folders so concurrent runs do not share dbt's state."""
    env = dict(os.environ)
    for name in ("PGHOST", "PGPORT", "PGUSER", "PGPASSWORD", "PGDATABASE", "PGSSLMODE"):
        env.pop(name, None)
    env.update(libpq_environment(url or database_url()))
    env.update(
        DBT_PROFILES_DIR=str(PROJECT_DIR),
        DBT_PROJECT_DIR=str(PROJECT_DIR),
        DBT_SEND_ANONYMOUS_USAGE_STATS="False",
        DBT_VERSION_CHECK="false",
        DO_NOT_TRACK="1",
    )
    if run_dir is not None:
        env["DBT_TARGET_PATH"] = str(run_dir / "target")
        env["DBT_LOG_PATH"] = str(run_dir / "logs")
    return env


def run_dbt(args: list[str], url: str | None = None, *, run_dir: Path | None = None,
            capture: bool = False, check: bool = False,
            extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run `dbt <args>` on the project with the shared connection (plus `extra_env`); returns
    the finished process."""
    proc = subprocess.run(
        [dbt_executable(), *args],
        cwd=PROJECT_DIR,
        env={**dbt_environment(url, run_dir=run_dir), **(extra_env or {})},
        text=True,
        capture_output=capture,
    )
    if check and proc.returncode != 0:
        tail = (proc.stdout or "")[-4000:] if capture else ""
        raise RuntimeError(f"dbt {' '.join(args)} failed with exit {proc.returncode}\n{tail}")
    return proc


def feature_indicators() -> list[tuple[str, dict]]:
    """The maintained indicators the features read: (ta indicator, TA-Lib parameters) per seed row."""
    with FEATURE_INDICATORS.open(newline="") as fh:
        return [(row["indicator"], json.loads(row["params"] or "{}")) for row in csv.DictReader(fh)]


def maintain_feature_indicators(conn, instrument_ids: list[int] | None = None,
                                timeframes: tuple[str, ...] = FEATURE_TIMEFRAMES) -> int:
    """ta.maintain every declared feature indicator for the instruments (default: all) and
    timeframes; idempotent. Returns how many configurations were arranged. Values appear after the
    next ta.refresh_indicators()."""
    if instrument_ids is None:
        instrument_ids = [r[0] for r in conn.execute("select instrument_id from market.instruments order by 1")]
    declared = feature_indicators()
    with conn.transaction():  # one commit, not one per configuration
        conn.execute(
            "select count(ta.maintain(i.instrument_id, tf.timeframe, f.indicator, f.params::jsonb))"
            " from unnest(%s::int[]) as i (instrument_id) cross join unnest(%s::text[]) as tf (timeframe)"
            " cross join unnest(%s::text[], %s::text[]) as f (indicator, params)",
            (list(instrument_ids), list(timeframes), [d[0] for d in declared], [json.dumps(d[1]) for d in declared]),
        )
    return len(instrument_ids) * len(timeframes) * len(declared)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    url = None
    maintain = False
    while argv and argv[0] in ("--url", "--maintain", "-h", "--help"):
        flag = argv.pop(0)
        if flag in ("-h", "--help"):
            print(__doc__.split("\n\n", 2)[2].strip())
            return 0
        if flag == "--maintain":
            maintain = True
        elif not argv:
            print("db.dbt_runner: --url needs a value", file=sys.stderr)
            return 2
        else:
            url = argv.pop(0)
    if not argv and not maintain:
        print("usage: python -m db.dbt_runner [--url URL] [--maintain] DBT_ARGS... (e.g. build)", file=sys.stderr)
        return 2
    try:
        if maintain:
            with connect(url, autocommit=True) as conn:
                n = maintain_feature_indicators(conn)
                conn.execute("select ta.refresh_indicators()")
            print(f"feature indicators: {n} configurations maintained and refreshed")
        if not argv:
            return 0
        return run_dbt(argv, url).returncode
    except ConfigurationError as exc:
        print(f"db.dbt_runner: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
