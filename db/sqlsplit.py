"""Split a SQL file into statements, keeping the line each statement starts on.

Knows what psql knows: quoted strings ('…', E'…', "…"), dollar quotes ($$…$$, $tag$…$tag$),
line and nested block comments, and SQL-standard function bodies (`begin atomic … end`), whose
inner semicolons do not end the statement. Used by the migration runner so that an error can be
reported as file:line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_DOLLAR_TAG = re.compile(r"\$([A-Za-z_][A-Za-z_0-9]*)?\$")
_WORD = re.compile(r"[A-Za-z_][A-Za-z_0-9$]*")


@dataclass(frozen=True)
class Statement:
    sql: str
    line: int  # 1-based line of the statement's first non-blank character in the file


def split_statements(text: str) -> list[Statement]:
    statements: list[Statement] = []
    start = 0
    i = 0
    n = len(text)
    first_word: str | None = None
    previous_word = ""
    atomic_depth = 0

    def flush(end: int) -> None:
        chunk = text[start:end]
        if _has_code(chunk):
            offset = len(chunk) - len(chunk.lstrip())
            line = text.count("\n", 0, start + offset) + 1
            statements.append(Statement(chunk.strip(), line))

    while i < n:
        ch = text[i]
        if ch == "-" and text.startswith("--", i):
            end = text.find("\n", i)
            i = n if end < 0 else end + 1
        elif ch == "/" and text.startswith("/*", i):
            i = _skip_block_comment(text, i)
        elif ch == "'":
            escaped = i > 0 and text[i - 1] in "eE" and not _is_word_char(text, i - 2)
            i = _skip_quoted(text, i, "'", backslash=escaped)
        elif ch == '"':
            i = _skip_quoted(text, i, '"', backslash=False)
        elif ch == "$" and not _is_word_char(text, i - 1):
            match = _DOLLAR_TAG.match(text, i)
            if match:
                close = text.find(match.group(0), match.end())
                i = n if close < 0 else close + len(match.group(0))
            else:
                i += 1
        elif _is_word_start(text, i):
            match = _WORD.match(text, i)
            word = match.group(0).lower()
            if first_word is None:
                first_word = word
            if first_word == "create":
                if word == "atomic" and previous_word == "begin":
                    atomic_depth += 1
                elif atomic_depth and word == "case":
                    atomic_depth += 1
                elif atomic_depth and word == "end":
                    atomic_depth -= 1
            previous_word = word
            i = match.end()
        elif ch == ";" and atomic_depth == 0:
            flush(i + 1)
            i += 1
            start = i
            first_word = None
            previous_word = ""
        else:
            i += 1
    flush(n)
    return statements


def _is_word_char(text: str, i: int) -> bool:
    return 0 <= i < len(text) and (text[i].isalnum() or text[i] in "_$")


def _is_word_start(text: str, i: int) -> bool:
    return (text[i].isalpha() or text[i] == "_") and not _is_word_char(text, i - 1)


def _skip_quoted(text: str, i: int, quote: str, *, backslash: bool) -> int:
    i += 1
    while i < len(text):
        ch = text[i]
        if backslash and ch == "\\":
            i += 2
            continue
        if ch == quote:
            if text.startswith(quote * 2, i):
                i += 2
                continue
            return i + 1
        i += 1
    return i


def _skip_block_comment(text: str, i: int) -> int:
    depth = 0
    while i < len(text):
        if text.startswith("/*", i):
            depth += 1
            i += 2
        elif text.startswith("*/", i):
            depth -= 1
            i += 2
            if depth == 0:
                return i
        else:
            i += 1
    return i


def _has_code(chunk: str) -> bool:
    """True when the chunk holds more than whitespace, comments and semicolons."""
    i = 0
    while i < len(chunk):
        ch = chunk[i]
        if ch.isspace() or ch == ";":
            i += 1
        elif chunk.startswith("--", i):
            end = chunk.find("\n", i)
            i = len(chunk) if end < 0 else end + 1
        elif chunk.startswith("/*", i):
            i = _skip_block_comment(chunk, i)
        else:
            return True
    return False
