"""Errors a user causes, as one sentence on stderr and an exit code: the one mechanism every entry
point uses (`python -m loaders …`, the market data tools, db.migrate, db.cluster, db.connection,
the demo).

    if __name__ == "__main__":
        sys.exit(run_main(main))

Exit codes (docs/loaders.md): 0 done; 1 the run failed; 2 a usage or configuration error (bad
option or input, bad config, a database URL that is not one, a database that is not migrated);
3 skipped because another run of the same job holds its lock; 130 interrupted; 141 the reader of
the output went away (`… | head -1`), quietly, as for any Unix tool.

An exception says its own exit code with a class attribute `exit_code` (UserError: 2); database
errors are classified by SQLSTATE. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable

import psycopg

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_SKIPPED = 0, 1, 2, 3
EXIT_INTERRUPTED, EXIT_BROKEN_PIPE = 130, 141

MIGRATE_HINT = "run make migrate (python -m db.migrate)"
PROJECT_SCHEMAS = ("market", "ops", "ta", "signals", "trading", "risk", "perf", "bi", "features")
# undefined schema / table / function / view naming one of the project's schemas
_NOT_MIGRATED_STATES = {"3F000", "42P01", "42883"}
_PROJECT_OBJECT_RE = re.compile(r'"(?:' + "|".join(PROJECT_SCHEMAS) + r')(?:"|\.)')
# the SQL API rejecting its arguments: raise_exception, no_data_found, data exceptions (22xxx),
# constraint violations (23xxx) — the user's input, reported with the function's own sentence
_BAD_ARGUMENT_CLASSES = ("P0", "22", "23")


class UserError(RuntimeError):
    """Something the user can fix (bad option, path, symbol or setting): one sentence, exit 2."""

    exit_code = EXIT_USAGE


def sentence(text: object) -> str:
    """One line, secrets redacted."""
    from db.connection import redact

    return redact(" ".join(str(text).split()))


def describe(exc: BaseException) -> tuple[int, str] | None:
    """(exit code, one sentence) for an error a user caused or a run that failed; None for a bug."""
    code = getattr(type(exc), "exit_code", None)
    if isinstance(code, int):
        return code, sentence(exc) or type(exc).__name__
    if isinstance(exc, psycopg.Error):
        return describe_database_error(exc)
    return None


def describe_database_error(exc: psycopg.Error) -> tuple[int, str] | None:
    state = exc.sqlstate or ""
    primary = sentence(exc.diag.message_primary or (str(exc).strip().splitlines() or [""])[0])
    # A dropped connection (network, server restart: admin_shutdown 57P01, crash_shutdown 57P02,
    # cannot_connect_now 57P03, class 08) loses nothing committed.
    lost = state[:2] == "08" or state in ("57P01", "57P02", "57P03")
    if isinstance(exc, psycopg.OperationalError) and (lost or state[:2] not in ("53", "57", "40", "55")):
        return EXIT_FAILED, (f"lost the database connection ({primary}); committed batches are kept "
                             "and the next run continues after them")
    if state in _NOT_MIGRATED_STATES and _PROJECT_OBJECT_RE.search(primary):
        return EXIT_USAGE, f"the database is not migrated or not up to date ({primary}): {MIGRATE_HINT}"
    if state.startswith(_BAD_ARGUMENT_CLASSES):
        return EXIT_USAGE, primary
    if state == "42501":
        return EXIT_USAGE, f"{primary}: connect as a role that may do this (docs/security.md)"
    if state[:2] in ("08", "40", "53", "55", "57", "58", "XX"):
        return EXIT_FAILED, f"database error: {primary}"
    return None


def report(exc: BaseException, prefix: str = "") -> int | None:
    """Print the one sentence for `exc` on stderr and return its exit code; None for a bug."""
    described = describe(exc)
    if described is None:
        return None
    code, text = described
    print(f"error: {prefix}{text}", file=sys.stderr, flush=True)
    return code


def _output_gone() -> int:
    # Point stdout at /dev/null so the interpreter's final flush has nowhere to fail.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass
    return EXIT_BROKEN_PIPE


def run_main(main: Callable[[list[str] | None], int | None], argv: list[str] | None = None) -> int:
    """Call an entry point's `main(argv)` and turn what a user can cause into one sentence on
    stderr and the documented exit code; bugs still raise with their traceback."""
    try:
        try:
            code = main(argv)
        finally:
            sys.stdout.flush()  # inside the try: a closed pipe surfaces here, not at exit
    except BrokenPipeError:  # also after argparse's --help, whose SystemExit the flush replaces
        return _output_gone()
    except KeyboardInterrupt:
        print("error: interrupted; committed batches are kept", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:
        code = report(exc)
        if code is None:
            raise
        return code
    return EXIT_OK if code is None else code
