"""Native SMA and EMA kernels = their PL/pgSQL originals, bit for bit (tests/ta/native_support.py)."""

from __future__ import annotations

import pytest

from tests.ta.native_support import native_kernels  # noqa: F401 - fixture used by pytestmark
from tests.ta.native_support import (
    bars,
    check_public,
    check_same_error,
    check_step_kernel,
    SHAPES,
)


pytestmark = pytest.mark.usefixtures("native_kernels")


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("function", ["sma", "ema"])
@pytest.mark.parametrize("period", [1, 2, 5, 30])
def test_step_kernel_same_bits(conn, function, shape, period):
    close = bars(shape, 300, seed=period)["close"]
    if shape == "leading_nulls":
        close = [v for v in close if v is not None] or [1.0]  # kernels get prepped input
    check_step_kernel(conn, f"ta._{function}_step", [close], f", {period}", 1, seed=period)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("function", ["sma", "ema"])
@pytest.mark.parametrize("n,period", [(0, 5), (1, 1), (1, 5), (4, 5), (5, 5), (200, 2), (200, 30)])
def test_public_same_bits(conn, function, shape, n, period):
    close = bars(shape, n, seed=n + period)["close"]
    check_public(conn, f"select ta.{function}(%s::float8[], {period})", [close], f"ta.{function} {shape} n={n}")


@pytest.mark.parametrize("function", ["sma", "ema"])
def test_public_nan_is_null(conn, function):
    check_public(conn, f"select ta.{function}(%s::float8[], 3)", [[1.0, float("nan"), 2.0, 3.0, 4.0, 5.0]], function)


@pytest.mark.parametrize("function", ["sma", "ema"])
@pytest.mark.parametrize("call", [
    "select ta.{f}(%s::float8[], 0)",
    "select ta.{f}(%s::float8[], 100001)",
    "select ta.{f}(array[[1,2],[3,4]]::float8[], 2) where %s is not null",
])
def test_same_errors(conn, function, call):
    check_same_error(conn, call.format(f=function), [[1.0, 2.0, 3.0]])
