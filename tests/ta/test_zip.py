"""ta.zip: keys and float8 series side by side as rows, natively (C) or by unnest(), same rows.

The database has one ta.zip (C when tsquant_ta is installed, else the PL/pgSQL fallback), so the
fallback's body is also created from db/ta/R__zip.sql under another name and both are run on the
same inputs.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import psycopg
import pytest

ZIP_FILE = Path(__file__).resolve().parents[2] / "db" / "ta" / "R__zip.sql"
NAN = float("nan")


@pytest.fixture()
def implementations(conn) -> list[str]:
    """ta.zip as installed, and the fallback from R__zip.sql as pg_temp.zip_fallback."""
    fallback = re.search(r"^    (create function ta\.zip\(.*?language plpgsql.*?\$body\$);", ZIP_FILE.read_text(), re.S | re.M)
    conn.execute(fallback.group(1).replace("create function ta.zip(", "create or replace function pg_temp.zip_fallback("))
    conn.commit()
    yield ["ta.zip", "pg_temp.zip_fallback"]
    conn.rollback()


def rows(conn, function: str, call: str, args: list) -> list:
    return conn.execute(f"select (q.z).* from (select {function}({call}) as z) as q", args).fetchall()


def test_series_side_by_side(conn, implementations):
    t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
    keys = [t0 + timedelta(minutes=i) for i in range(4)]
    a = [1.0, None, 3.0, NAN]
    b = [0.5, 1.5, 2.5, 3.5]
    for function in implementations:
        got = conn.execute(
            f"select (z).key, (z).v1, (z).v2, (z).v3, (z).v16 from (select {function}(%s::timestamptz[], %s::float8[], %s::float8[]) as z) as q",
            [keys, a, b],
        ).fetchall()
        assert got == [
            (keys[0], 1.0, 0.5, None, None),
            (keys[1], None, 1.5, None, None),
            (keys[2], 3.0, 2.5, None, None),
            (keys[3], None, 3.5, None, None),  # NaN is NULL
        ], function


def test_all_sixteen_series_and_integer_keys(conn, implementations):
    series = [[float(i * 100 + k) for i in range(3)] for k in range(16)]
    placeholders = ", ".join(["%s::float8[]"] * 16)
    results = [rows(conn, f, f"%s::int[], {placeholders}", [[7, 8, 9], *series]) for f in implementations]
    assert results[0] == results[1]
    assert [r[0] for r in results[0]] == [7, 8, 9]
    assert [r[-1] for r in results[0]] == [15.0, 115.0, 215.0]


def test_empty_and_null_keys(conn, implementations):
    for function in implementations:
        assert rows(conn, function, "%s::int[], %s::float8[]", [[], []]) == []
        assert rows(conn, function, "null::int[], %s::float8[]", [[1.0]]) == []


@pytest.mark.parametrize("call,args,message", [
    ("%s::int[], %s::float8[]", [[1, 2], [1.0]], "ta.zip: x1 must be a one-dimensional array of 2 values (got 1)"),
    ("%s::int[], null, %s::float8[]", [[1], [1.0, 2.0]], "ta.zip: x2 must be a one-dimensional array of 1 values (got 2)"),
    ("'{{1,2},{3,4}}'::int[], %s::float8[]", [[1.0]], "ta.zip: keys must be a one-dimensional array"),
])
def test_errors(conn, implementations, call, args, message):
    for function in implementations:
        with pytest.raises(psycopg.errors.InvalidParameterValue, match=re.escape(message)):
            rows(conn, function, call, args)
        conn.rollback()


def test_native_when_installed(conn):
    native = conn.execute("select exists (select from pg_extension where extname = 'tsquant_ta')").fetchone()[0]
    language = conn.execute(
        "select l.lanname from pg_proc as p join pg_language as l on l.oid = p.prolang "
        "where p.oid = 'ta.zip(anyarray, float8[], float8[], float8[], float8[], float8[], float8[], float8[], "
        "float8[], float8[], float8[], float8[], float8[], float8[], float8[], float8[], float8[])'::regprocedure"
    ).fetchone()[0]
    assert language == ("c" if native else "plpgsql")
