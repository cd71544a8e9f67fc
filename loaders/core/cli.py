"""Helpers every loader CLI shares: one clear sentence and a non-zero exit on user errors."""

from __future__ import annotations

import sys
from typing import Callable

from loaders.core.runs import JobLocked


class UserError(RuntimeError):
    """Something the user can fix (bad path, bad symbol, bad option): one sentence, exit 2."""


def main_wrapper(main: Callable[[list[str] | None], int], argv: list[str] | None = None) -> int:
    from db.connection import ConfigurationError

    try:
        return main(argv)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ConfigurationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except JobLocked as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130


def progress_printer(enabled: bool) -> Callable[[str], None] | None:
    if not enabled:
        return None
    tty = sys.stderr.isatty()

    def show(msg: str) -> None:
        if tty:
            print("\r" + msg[:120].ljust(120), end="", file=sys.stderr, flush=True)
        else:
            print(msg, file=sys.stderr, flush=True)

    return show
