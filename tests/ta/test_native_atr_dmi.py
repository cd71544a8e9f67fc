"""Native ATR/NATR and DMI (PLUS_DI, MINUS_DI, ADX) kernels = their PL/pgSQL originals, bit for bit
(tests/ta/native_support.py)."""

from __future__ import annotations

import random

import pytest

from tests.ta.native_support import native_kernels  # noqa: F401 - fixture used by pytestmark
from tests.ta.native_support import (
    SHAPES,
    assert_same_bits,
    bars,
    check_public,
    check_same_error,
    check_step_kernel,
    require_native,
    use_native,
)

DMI_OUTPUTS = ("plus_di", "minus_di", "adx")
PUBLIC = ("atr", "natr", "plus_di", "minus_di", "adx")
MIN_PERIOD = {"atr": 1, "natr": 1, "plus_di": 1, "minus_di": 1, "adx": 2}


pytestmark = pytest.mark.usefixtures("native_kernels")


def hlc(shape: str, n: int, seed: int, prepped: bool = False) -> list[list]:
    """high, low, close of bars(); prepped: without the leading rows that hold a NULL (kernels get
    prepared input, where the public functions skip those rows)."""
    series = bars(shape, n, seed)
    rows = list(zip(series["high"], series["low"], series["close"]))
    if prepped:
        while rows and None in rows[0]:
            rows.pop(0)
        rows = rows or [(1.0, 1.0, 1.0)]
    return [list(column) for column in zip(*rows)] if rows else [[], [], []]


def decaying(n_moves: int, n_flat: int, seed: int) -> list[list]:
    """Random bars, then a long flat stretch: the Wilder sums and averages decay through the
    subnormal range to 0 (the PL/pgSQL's ta._mul / ta._div slow paths)."""
    rng = random.Random(seed)
    high, low, close = [], [], []
    price = 100.0
    for _ in range(n_moves):
        price *= 1 + rng.gauss(0, 0.01)
        high.append(price * (1 + abs(rng.gauss(0, 0.005))))
        low.append(price * (1 - abs(rng.gauss(0, 0.005))))
        close.append(price)
    high += [price] * n_flat
    low += [price] * n_flat
    close += [price] * n_flat
    return [high, low, close]


# --------------------------------------------------------------------------------------------
# Step kernels
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("period", [1, 2, 5, 14, 30])
def test_atr_step_same_bits(conn, shape, period):
    inputs = hlc(shape, 300, seed=period, prepped=True)
    check_step_kernel(conn, "ta._atr_step", inputs, f", {period}", 1, seed=period)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("output", DMI_OUTPUTS)
@pytest.mark.parametrize("period", [1, 2, 5, 14, 30])
def test_dmi_step_same_bits(conn, shape, output, period):
    inputs = hlc(shape, 300, seed=period, prepped=True)
    check_step_kernel(conn, "ta._dmi_step", inputs, f", {period}, '{output}'", 1, seed=period)


@pytest.mark.parametrize("output", ["adx", "other", None])
@pytest.mark.parametrize("period", [1, 3])
def test_dmi_step_odd_outputs(conn, output, period):
    # p_output other than plus_di/adx (NULL included) takes the -DI branches, as in the PL/pgSQL
    inputs = hlc("nulls", 120, seed=7, prepped=True)
    literal = "null::text" if output is None else f"'{output}'"
    check_step_kernel(conn, "ta._dmi_step", inputs, f", {period}, {literal}", 1, seed=period)


@pytest.mark.parametrize("period", [2, 3, 14])
def test_step_kernels_decay_to_subnormal(conn, period):
    inputs = decaying(40, 2600 if period == 2 else 5000 if period == 3 else 600, seed=period)
    check_step_kernel(conn, "ta._atr_step", inputs, f", {period}", 1, seed=period)
    for output in DMI_OUTPUTS:
        check_step_kernel(conn, "ta._dmi_step", inputs, f", {period}, '{output}'", 1, seed=period)


@pytest.mark.parametrize("kernel,extra", [
    ("ta._atr_step", ", 3"),
    ("ta._dmi_step", ", 3, 'adx'"),
    ("ta._dmi_step", ", 1, 'plus_di'"),
])
def test_step_kernels_short_inputs_and_state(conn, kernel, extra):
    """Past the end of a short high/low (or state) array the PL/pgSQL reads NULL: so does C."""
    high, low, close = hlc("walk", 12, seed=3)
    query = f"select * from {kernel}(%s::float8[], %s::float8[], %s::float8[], %s::float8[]{extra})"
    for state, args in [
        (None, [high[:5], low, close]),
        (None, [high, low[:7], close]),
        (None, [[], [], close]),
        (None, [high, low, []]),
        ([4.0, 101.0], [high, low, close]),
        ([0.0], [high, low, close]),
        ([], [high, low, close]),
    ]:
        rows = []
        for native in (True, False):
            use_native(conn, native)
            rows.append(conn.execute(query, [state, *args]).fetchone())
        for k in range(2):
            assert_same_bits(rows[0][k], rows[1][k], f"{kernel}{extra} state={state} column {k + 1}")


# --------------------------------------------------------------------------------------------
# Public functions
# --------------------------------------------------------------------------------------------


def lengths_for(function: str) -> list[tuple[int, int]]:
    """(n, period): empty, one bar, shorter than / at / just past the lookback, long."""
    if function == "adx":
        return [(0, 5), (1, 2), (1, 5), (8, 5), (9, 5), (10, 5), (200, 2), (200, 14), (200, 30)]
    return [(0, 5), (1, 1), (1, 5), (2, 1), (4, 5), (5, 5), (6, 5), (200, 1), (200, 2), (200, 14), (200, 30)]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("function", PUBLIC)
def test_public_same_bits(conn, function, shape):
    for n, period in lengths_for(function):
        inputs = hlc(shape, n, seed=n + period)
        check_public(
            conn, f"select ta.{function}(%s::float8[], %s::float8[], %s::float8[], {period})", inputs,
            f"ta.{function} {shape} n={n} period={period}",
        )


@pytest.mark.parametrize("function", PUBLIC)
def test_public_nan_is_null(conn, function):
    nan = float("nan")
    high = [nan, 11.0, 12.0, 11.5, nan, 12.5, 13.0, 12.0, 12.2, 12.8, 13.1, 12.9]
    low = [9.0, 10.0, nan, 10.5, 10.8, 11.0, 11.9, 11.0, 11.1, 11.7, 12.0, 12.1]
    close = [10.0, 10.5, 11.0, nan, 11.2, 12.0, 12.5, 11.5, 11.9, 12.5, 12.7, 12.5]
    check_public(conn, f"select ta.{function}(%s::float8[], %s::float8[], %s::float8[], 2)", [high, low, close], function)


@pytest.mark.parametrize("period", [1, 2, 3])
def test_natr_zero_close(conn, period):
    high = [1.0, 2.0, 1.5, 0.5, 1.0, 2.0, 3.0, 2.5]
    low = [0.0, -1.0, 0.0, -0.5, 0.0, 1.0, 2.0, 2.0]
    close = [0.5, 0.0, 1.0, -0.0, 0.0, 1.5, 0.0, 2.2]
    check_public(conn, f"select ta.natr(%s::float8[], %s::float8[], %s::float8[], {period})", [high, low, close], "natr")


@pytest.mark.parametrize("function", PUBLIC)
def test_public_decay_to_subnormal(conn, function):
    inputs = decaying(40, 2600, seed=11)
    check_public(conn, f"select ta.{function}(%s::float8[], %s::float8[], %s::float8[], 2)", inputs, function)


@pytest.mark.parametrize("function", PUBLIC)
def test_public_without_complete_row(conn, function):
    # no row with all three inputs: the wrappers run the kernel on the last row alone
    inputs = [[1.0, None, 3.0], [None, 1.0, 2.0], [1.0, 1.0, None]]
    check_public(conn, f"select ta.{function}(%s::float8[], %s::float8[], %s::float8[], 2)", inputs, function)


def test_public_non_one_lower_bound(conn):
    for function in PUBLIC:
        check_public(
            conn,
            f"select ta.{function}('[0:3]={{3,4,5,6}}'::float8[], '[5:8]={{1,2,3,4}}'::float8[], "
            "%s::float8[], 2)",
            [[2.0, 3.0, 4.0, 5.0]],
            function,
        )


@pytest.mark.parametrize("function", PUBLIC)
@pytest.mark.parametrize("call", [
    "select ta.{f}(%s::float8[], %s::float8[], %s::float8[], {low})",
    "select ta.{f}(%s::float8[], %s::float8[], %s::float8[], 100001)",
    "select ta.{f}(%s::float8[], %s::float8[], %s::float8[], -3)",
    "select ta.{f}(%s::float8[], %s::float8[], (%s::float8[])[1:2], 3)",
    "select ta.{f}(array[[1,2],[3,4]]::float8[], %s::float8[], %s::float8[], 2) where %s is not null",
    "select ta.{f}(%s::float8[], array[[1,2],[3,4]]::float8[], %s::float8[], 2) where %s is not null",
    "select ta.{f}(%s::float8[], %s::float8[], array[[1,2],[3,4]]::float8[], 2) where %s is not null",
    "select ta.{f}(array[[1,2],[3,4]]::float8[], %s::float8[], %s::float8[], 0) where %s::float8[] is not null",
    "select ta.{f}(%s::float8[], %s::float8[], array[[1,2,3]]::float8[], 3) where %s is not null",
    "select ta.{f}(%s::float8[], %s::float8[], %s::float8[] || 1::float8, 0)",
    "select ta.{f}(%s::float8[] || 1::float8, %s::float8[], %s::float8[], 3)",
])
def test_same_errors(conn, function, call):
    args = [[1.0, 2.0, 3.0], [0.5, 1.0, 2.0], [0.8, 1.5, 2.5]]
    check_same_error(conn, call.format(f=function, low=MIN_PERIOD[function] - 1), args)
