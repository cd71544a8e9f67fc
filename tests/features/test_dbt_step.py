"""The dbt step of `make test` (tests/features/dbt_step.py, run by scripts/run-tests.sh in each
database mode) fails when a dbt data test fails, and its freshness check fails on stale sources.
(The passing case is the step itself, in every `make test`.)"""

from __future__ import annotations

import datetime as dt

import psycopg

from db.dbt_runner import run_dbt
from tests.features import dbt_step


def test_a_failing_data_test_fails_the_step(db_url, tmp_path):
    dbt_step.load_fixture(db_url)
    with psycopg.connect(db_url, autocommit=True) as conn:
        # a taapi.io RSI of 150 (a bad value from the provider) on the newest 1h bar
        bad = conn.execute(
            "update signals.raw_signals set value = 150 where raw_signal_id = (select max(raw_signal_id)"
            " from signals.raw_signals where indicator = 'rsi') returning raw_signal_id").fetchone()[0]
    results = dbt_step.run_checks(db_url, tmp_path)
    build, freshness, docs = results
    assert build.returncode != 0, build.output[-3000:]
    assert "Failure in test taapi_rsi_between_0_and_100" in build.output
    assert "ERROR=1 " in build.summary, build.summary  # that test and nothing else failed ...
    assert "SKIP=0 " not in build.summary  # ... and the models downstream of the bad source were skipped
    assert freshness.ok, freshness.summary
    # the marts the failed test held back are not built, so the catalog cannot describe them
    assert not docs.ok and "missing model.tsquant.strategy_signals" in docs.summary, docs.summary
    assert "model.tsquant.candle_features" not in docs.summary
    assert dbt_step.step_exit_code(results) == 1
    line = dbt_step.summary_line("postgresql", results)
    assert line.startswith("dbt step (postgresql): build FAILED (exit 1): PASS="), line

    # the control: without the bad row the same test passes
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("update signals.raw_signals set value = 50 where raw_signal_id = %s", (bad,))
    proc = run_dbt(["test", "--select", "taapi_rsi_between_0_and_100"], db_url, run_dir=tmp_path, capture=True)
    assert proc.returncode == 0, proc.stdout[-3000:]


def test_stale_sources_fail_the_freshness_check(db_url, tmp_path):
    dbt_step.load_fixture(db_url, end=dt.datetime(2024, 3, 6, tzinfo=dt.timezone.utc))
    result = dbt_step.source_freshness(db_url, tmp_path)
    assert result.returncode != 0, result.output[-3000:]
    assert "market.candles_1m" in result.summary and "error" in result.summary, result.summary
    assert "signals.raw_signals" not in result.summary  # received just now: fresh
