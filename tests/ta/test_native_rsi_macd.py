"""Native RSI and MACD kernels = their PL/pgSQL originals, bit for bit (tests/ta/native_support.py)."""

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


def prepped_close(shape: str, n: int, seed: int) -> list:
    close = bars(shape, n, seed=seed)["close"]
    if shape == "leading_nulls":
        close = [v for v in close if v is not None] or [1.0]  # kernels get prepped input
    return close


# --------------------------------------------------------------------------------------------
# Step kernels
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("period", [1, 2, 5, 14, 30])
def test_rsi_step_same_bits(conn, shape, period):
    close = prepped_close(shape, 300, seed=period)
    check_step_kernel(conn, "ta._rsi_step", [close], f", {period}", 1, seed=period)


MACD_PARAMS = [(12, 26, 9), (1, 1, 1), (2, 2, 1), (2, 3, 2), (5, 3, 1), (3, 10, 4), (26, 12, 30)]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("params", MACD_PARAMS)
def test_macd_step_same_bits(conn, shape, params):
    seed = sum(params)
    close = prepped_close(shape, 300, seed=seed)
    extra = ", " + ", ".join(str(p) for p in params)
    check_step_kernel(conn, "ta._macd_step", [close], extra, 3, seed=seed)


@pytest.mark.parametrize("call", [
    "select * from ta._rsi_step('{}'::float8[], %s::float8[], 3)",
    "select * from ta._rsi_step((select s.state from ta._rsi_step(null, %s::float8[], 3) as s), '{}'::float8[], 3)",
    "select * from ta._rsi_step(null, '{}'::float8[], 3) where %s is not null",
    "select * from ta._macd_step('{}'::float8[], %s::float8[], 3, 5, 2)",
    "select * from ta._macd_step((select s.state from ta._macd_step(null, %s::float8[], 3, 5, 2) as s), "
    "'{}'::float8[], 3, 5, 2)",
    "select * from ta._macd_step(null, '{}'::float8[], 3, 5, 2) where %s is not null",
])
def test_step_empty_state_and_chunk(conn, call):
    check_public(conn, call, [[1.0, 2.0, 1.5, None, 3.0, 2.5, 2.0, 4.0, 4.5, 4.0]], call)


# --------------------------------------------------------------------------------------------
# Public functions
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("n,period", [(0, 14), (1, 2), (1, 14), (14, 14), (15, 14), (16, 14), (200, 2), (300, 30)])
def test_rsi_public_same_bits(conn, shape, n, period):
    close = bars(shape, n, seed=n + period)["close"]
    check_public(conn, f"select ta.rsi(%s::float8[], {period})", [close], f"ta.rsi {shape} n={n} period={period}")


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("n,params", [
    (0, (12, 26, 9)), (1, (12, 26, 9)), (1, (2, 2, 1)), (33, (12, 26, 9)), (34, (12, 26, 9)), (35, (12, 26, 9)),
    (200, (12, 26, 9)), (200, (26, 12, 9)), (200, (2, 2, 1)), (200, (3, 5, 1)), (300, (30, 60, 20)),
])
def test_macd_public_same_bits(conn, shape, n, params):
    close = bars(shape, n, seed=n + sum(params))["close"]
    args = ", ".join(str(p) for p in params)
    check_public(conn, f"select * from ta.macd(%s::float8[], {args})", [close], f"ta.macd {shape} n={n} {params}")


@pytest.mark.parametrize("call", [
    "select ta.rsi(%s::float8[], 3)",
    "select ta.rsi(%s::float8[])",
    "select * from ta.macd(%s::float8[], 2, 3, 2)",
    "select * from ta.macd(%s::float8[], 3, 2, 1)",
])
def test_public_nan_is_null(conn, call):
    x = [float("nan"), 1.0, float("nan"), 2.0, 3.0, 4.0, 3.5, 5.0, 4.0, float("nan"), 6.0, 7.0]
    check_public(conn, call, [x], call)


@pytest.mark.parametrize("call", [
    "select ta.rsi('[5:12]={1,2,3,2,5,6,4,8}'::float8[], 2) where %s is not null",
    "select * from ta.macd('[0:7]={1,2,3,2,5,6,4,8}'::float8[], 2, 3, 2) where %s is not null",
    "select ta.rsi(%s::float8[], null)",
    "select * from ta.macd(%s::float8[], 12, null, 9)",
    "select ta.rsi(array[null, null]::float8[], 2) where %s is not null",
    "select * from ta.macd(array[null, null]::float8[], 2, 2, 1) where %s is not null",
])
def test_public_edge_inputs(conn, call):
    check_public(conn, call, [[1.0, 2.0, 3.0]], call)


@pytest.mark.parametrize("call", [
    "select ta.rsi(%s::float8[], 1)",
    "select ta.rsi(%s::float8[], 100001)",
    "select ta.rsi(array[[1,2],[3,4]]::float8[], 2) where %s is not null",
    "select ta.rsi(array[[1,2],[3,4]]::float8[], 0) where %s is not null",
    "select * from ta.macd(%s::float8[], 1, 26, 9)",
    "select * from ta.macd(%s::float8[], 12, 1, 9)",
    "select * from ta.macd(%s::float8[], 12, 26, 0)",
    "select * from ta.macd(%s::float8[], 100001, 26, 9)",
    "select * from ta.macd(%s::float8[], 12, 100001, 9)",
    "select * from ta.macd(%s::float8[], 12, 26, 100001)",
    "select * from ta.macd(%s::float8[], 1, 1, 0)",
    "select * from ta.macd(%s::float8[], 12, 1, 0)",
    "select * from ta.macd(array[[1,2],[3,4]]::float8[], 12, 26, 9) where %s is not null",
    "select * from ta.macd(array[[1,2],[3,4]]::float8[], 0, 0, 0) where %s is not null",
])
def test_same_errors(conn, call):
    check_same_error(conn, call, [[1.0, 2.0, 3.0]])


# Long one-sided or flat stretches: the Wilder averages and EMAs decay into subnormals and 0, where
# the PL/pgSQL takes its ta._mul / ta._div branches.
DECAY = [1.0, 3.0, 2.0, 5.0, 4.0] + [4.0] * 1500 + [0.0] * 1500 + [1e-300, 2e-300, 0.0, -1e-300, 0.0]


@pytest.mark.parametrize("period", [2, 3, 14])
def test_rsi_decay_same_bits(conn, period):
    check_step_kernel(conn, "ta._rsi_step", [DECAY], f", {period}", 1, seed=period)
    check_public(conn, f"select ta.rsi(%s::float8[], {period})", [DECAY], f"ta.rsi decay {period}")


@pytest.mark.parametrize("params", [(2, 3, 2), (2, 2, 1), (12, 26, 9)])
def test_macd_decay_same_bits(conn, params):
    extra = ", " + ", ".join(str(p) for p in params)
    check_step_kernel(conn, "ta._macd_step", [DECAY], extra, 3, seed=sum(params))
    check_public(conn, f"select * from ta.macd(%s::float8[]{extra})", [DECAY], f"ta.macd decay {params}")
