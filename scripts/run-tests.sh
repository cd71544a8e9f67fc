#!/usr/bin/env bash
# The whole suite, as `make test` runs it:
#   for each database mode (plain PostgreSQL always; TimescaleDB when installed on the server):
#     pytest (incl. the plpgsql_check test), then pg_prove over tests/pgtap on a fresh database,
#     then dbt build + source freshness + docs generate on another (tests/features/dbt_step.py)
#   once: sqlfluff lint over db/ and dbt_project/
# Prints a summary with how many of each ran; exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH=$PWD
PY=${PY:-.venv/bin/python}
REPORTS=.tsq/reports
mkdir -p "$REPORTS"
rm -f "$REPORTS"/*
failed=0
summary=()
total_passed=0
total_failed=0

dburl() { $PY -c 'import sys; from db.connection import database_url; print(database_url(sys.argv[1]))' "$1"; }

$PY -m db.migrate --create-db --quiet >/dev/null || { echo "run-tests: the main database could not be migrated" >&2; exit 1; }

modes=(postgresql)
ts_reason=$($PY - <<'PY'
from db.connection import connect, database_url
from db.migrate import timescaledb_status
with connect(database_url("postgres")) as conn:
    usable, reason = timescaledb_status(conn)
print(("yes " if usable else "no ") + reason)
PY
)
# Anything but a yes/no answer is a broken probe, not a reason to skip a mode.
if [[ $ts_reason != yes* && $ts_reason != no* ]]; then
    echo "run-tests: could not tell whether TimescaleDB mode can run (the probe failed)" >&2
    exit 1
fi
if [[ $ts_reason == yes* ]]; then
    modes+=(timescaledb)
else
    summary+=("timescaledb mode: SKIPPED — ${ts_reason#no }")
fi

for mode in "${modes[@]}"; do
    echo
    echo "=================== pytest, $mode mode ==================="
    log="$REPORTS/pytest-$mode.log"
    # --durations: the slowest tests in the log, to keep the suite inside its time budget
    TSQ_TEST_MODE=$mode $PY -m pytest --db-mode "$mode" -p no:cacheprovider --durations=25 ${PYTEST_ARGS:-} 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    line=$(grep -E '^=+ .*(passed|failed|error|no tests ran).* in [0-9.]+s' "$log" | tail -1 | sed -E 's/^=+ //; s/ =+$//')
    summary+=("pytest ($mode): ${line:-no summary} (exit $rc)")
    p=$(grep -oE '[0-9]+ passed' <<<"$line" | awk '{print $1}'); f=$(grep -oE '[0-9]+ (failed|error)' <<<"$line" | awk '{s+=$1} END {print s+0}')
    total_passed=$((total_passed + ${p:-0})); total_failed=$((total_failed + ${f:-0}))
    [ "$rc" = 0 ] || failed=1
    if [ -f "$REPORTS/plpgsql_check-$mode.txt" ]; then
        summary+=("plpgsql_check ($mode): $(cat "$REPORTS/plpgsql_check-$mode.txt")")
    fi

    echo
    echo "=================== pg_prove, $mode mode ==================="
    db="tsq_pgtap_${mode}_$$"
    url=$(dburl "$db")
    if $PY -m db.migrate --url "$url" --mode "$mode" --create-db --quiet >/dev/null; then
        psql -X -q "$url" -c "create extension if not exists pgtap" >/dev/null
        log="$REPORTS/pg_prove-$mode.log"
        (eval "$($PY -m db.connection env "$db")" && pg_prove --ext .sql -r tests/pgtap) 2>&1 | tee "$log"
        rc=${PIPESTATUS[0]}
        tests=$(sed -nE 's/^Files=([0-9]+), Tests=([0-9]+).*/\1 files, \2 tests/p' "$log")
        result=$(sed -nE 's/^Result: (.*)/\1/p' "$log")
        summary+=("pg_prove ($mode): ${tests:-0 tests} — ${result:-no result} (exit $rc)")
        n=$(sed -nE 's/^Files=[0-9]+, Tests=([0-9]+).*/\1/p' "$log")
        if [ "$rc" = 0 ]; then total_passed=$((total_passed + ${n:-0})); else total_failed=$((total_failed + 1)); failed=1; fi
        native=$(psql -X -At "$url" -c "select exists (select from pg_extension where extname = 'tsquant_ta')")
        if [ "$native" = t ]; then
            # the hand-checked indicator examples again, on the PL/pgSQL kernels (the fallback)
            log="$REPORTS/pg_prove-$mode-plpgsql-kernels.log"
            (eval "$($PY -m db.connection env "$db")" && PGOPTIONS="-c tsquant.native_kernels=off" \
                pg_prove --ext .sql tests/pgtap/2*_ta_*.sql) 2>&1 | tee "$log"
            rc=${PIPESTATUS[0]}
            tests=$(sed -nE 's/^Files=([0-9]+), Tests=([0-9]+).*/\1 files, \2 tests/p' "$log")
            result=$(sed -nE 's/^Result: (.*)/\1/p' "$log")
            summary+=("pg_prove ($mode, PL/pgSQL kernels): ${tests:-0 tests} — ${result:-no result} (exit $rc)")
            n=$(sed -nE 's/^Files=[0-9]+, Tests=([0-9]+).*/\1/p' "$log")
            if [ "$rc" = 0 ]; then total_passed=$((total_passed + ${n:-0})); else total_failed=$((total_failed + 1)); failed=1; fi
        fi
    else
        summary+=("pg_prove ($mode): database could not be migrated"); failed=1; total_failed=$((total_failed + 1))
    fi
    $PY -c 'import sys, psycopg; from db.connection import database_url
with psycopg.connect(database_url("postgres"), autocommit=True) as c: c.execute(f"drop database if exists \"{sys.argv[1]}\" with (force)")' "$db"

    echo
    echo "=================== dbt build, source freshness, docs generate, $mode mode ==================="
    # a fresh database of this mode with a small fixture (tests/features/dbt_step.py); a failing
    # dbt model, data test or unit test, a stale source or a broken docs build fails the suite
    log="$REPORTS/dbt-$mode.log"
    $PY -m tests.features.dbt_step --mode "$mode" 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    line=$(grep -E '^dbt step \(' "$log" | tail -1)
    summary+=("${line:-dbt step ($mode): no summary} (exit $rc)")
    n=$(sed -nE 's/^dbt step.* build: PASS=([0-9]+) .*/\1/p' "$log"); e=$(sed -nE 's/^dbt step.* ERROR=([0-9]+) .*/\1/p' "$log")
    if [ "$rc" = 0 ]; then total_passed=$((total_passed + ${n:-0})); else failed=1; total_failed=$((total_failed + (${e:-0} > 0 ? ${e:-0} : 1))); fi
done

echo
echo "=================== sqlfluff lint ==================="
log="$REPORTS/sqlfluff.log"
files=$(find db dbt_project -name '*.sql' 2>/dev/null | wc -l)
.venv/bin/sqlfluff lint db dbt_project --processes 2 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
violations=$(grep -cE '^L: *[0-9]+' "$log")
summary+=("sqlfluff: $files SQL files linted, $violations violations (exit $rc)")
if [ "$rc" = 0 ]; then total_passed=$((total_passed + files)); else failed=1; total_failed=$((total_failed + violations)); fi

echo
echo "=================== summary ==================="
printf '%s\n' "${summary[@]}"
echo "suite: $total_passed passed, $total_failed failed"
exit $failed
