"""Helpers every loader CLI shares. Errors become one sentence and an exit code in db/errors.py
(run_main), for every entry point."""

from __future__ import annotations

import sys
from typing import Callable

from db.errors import UserError  # noqa: F401  (the loaders' name for it)


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
