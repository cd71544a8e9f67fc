"""Helpers every loader CLI shares. Errors become one sentence and an exit code in db/errors.py
(run_main), for every entry point."""

from __future__ import annotations

from db.errors import UserError  # noqa: F401  (the loaders' name for it)
