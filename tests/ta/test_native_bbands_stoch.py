"""Native BBANDS and STOCH kernels (and STOCHRSI's raw %K) = their PL/pgSQL originals, bit for bit.

See tests/ta/native_support.py.
"""

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


def complete_rows(series: dict[str, list], names: list[str]) -> list[list]:
    """The named series without their leading rows that hold a NULL (kernels get prepped input)."""
    n = len(series[names[0]])
    start = next((i for i in range(n) if all(series[name][i] is not None for name in names)), n)
    out = [series[name][start:] for name in names]
    return out if out[0] else [[1.0] for _ in names]


# --------------------------------------------------------------------------------------------
# BBANDS
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("period,nbdevup,nbdevdn", [(1, 2, 2), (2, 2, 2), (5, 1.5, 0.5), (20, 2, 2), (30, 0, -1)])
def test_bbands_step_same_bits(conn, shape, period, nbdevup, nbdevdn):
    # 700 bars: the variance is re-anchored every 32*period bars, and on cancellation
    (close,) = complete_rows(bars(shape, 700, seed=period), ["close"])
    check_step_kernel(
        conn, "ta._bbands_step", [close], f", {period}, {nbdevup}::float8, {nbdevdn}::float8", 3, seed=period
    )


def test_bbands_step_null_nbdev(conn):
    close = bars("walk", 100, seed=3)["close"]
    check_step_kernel(conn, "ta._bbands_step", [close], ", 5, null::float8, 1::float8", 3, seed=3)


BBANDS_CALL = "select * from ta.bbands(%s::float8[], {period}, {up}::float8, {dn}::float8)"


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("n,period", [(0, 5), (1, 2), (1, 5), (4, 5), (5, 5), (200, 2), (200, 20), (800, 5)])
def test_bbands_public_same_bits(conn, shape, n, period):
    close = bars(shape, n, seed=n + period)["close"]
    for up, dn in [(2, 2), (1.25, 3)]:
        check_public(
            conn, BBANDS_CALL.format(period=period, up=up, dn=dn), [close], f"ta.bbands {shape} n={n} p={period}"
        )


def test_bbands_public_defaults_nan_and_null(conn):
    close = bars("walk", 100, seed=1)["close"]
    check_public(conn, "select * from ta.bbands(%s::float8[])", [close], "ta.bbands defaults")
    x = [1.0, float("nan"), 2.0, 3.0, 4.0, 5.0, float("nan"), 6.0]
    check_public(conn, "select * from ta.bbands(%s::float8[], 3)", [x], "ta.bbands NaN")
    check_public(conn, "select * from ta.bbands(%s::float8[], 3)", [[float("nan")] * 5], "ta.bbands all NaN")
    check_public(conn, "select * from ta.bbands(%s::float8[], 3, null)", [x], "ta.bbands strict")


@pytest.mark.parametrize("call", [
    "select * from ta.bbands(%s::float8[], 1)",
    "select * from ta.bbands(%s::float8[], 100001)",
    "select * from ta.bbands(%s::float8[], 5, 4e37)",
    "select * from ta.bbands(%s::float8[], 5, 2, -1e38)",
    "select * from ta.bbands(%s::float8[], 5, 'NaN')",
    "select * from ta.bbands(%s::float8[], 5, 2, 'Infinity')",
    "select * from ta.bbands(%s::float8[], 5, -3.0000001e37)",
    "select * from ta.bbands(%s::float8[], 1, 4e37)",
    "select * from ta.bbands(array[[1,2],[3,4]]::float8[], 0) where %s is not null",
])
def test_bbands_same_errors(conn, call):
    check_same_error(conn, call, [[1.0, 2.0, 3.0]])


# --------------------------------------------------------------------------------------------
# STOCH
# --------------------------------------------------------------------------------------------

STOCH_PERIODS = [(5, 3, 3), (1, 1, 1), (1, 3, 1), (3, 1, 2), (2, 2, 2), (14, 3, 5), (30, 10, 4)]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("fastk,slowk,slowd", STOCH_PERIODS)
def test_stoch_step_same_bits(conn, shape, fastk, slowk, slowd):
    inputs = complete_rows(bars(shape, 300, seed=fastk * 100 + slowk * 10 + slowd), ["high", "low", "close"])
    check_step_kernel(conn, "ta._stoch_step", inputs, f", {fastk}, {slowk}, {slowd}", 2, seed=fastk + slowd)


STOCH_CALL = "select * from ta.stoch(%s::float8[], %s::float8[], %s::float8[], {}, {}, {})"


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("n", [0, 1, 6, 9, 10, 200])
@pytest.mark.parametrize("fastk,slowk,slowd", [(5, 3, 3), (1, 1, 1), (3, 1, 2), (14, 3, 5)])
def test_stoch_public_same_bits(conn, shape, n, fastk, slowk, slowd):
    # n 9: one bar short of the default lookback 4+2+2 (+1); n 10: its first output
    series = bars(shape, n, seed=n + fastk)
    check_public(
        conn, STOCH_CALL.format(fastk, slowk, slowd), [series["high"], series["low"], series["close"]],
        f"ta.stoch {shape} n={n} ({fastk},{slowk},{slowd})",
    )


def test_stoch_public_defaults_nan_and_null(conn):
    s = bars("walk", 60, seed=2)
    check_public(conn, "select * from ta.stoch(%s::float8[], %s::float8[], %s::float8[])",
                 [s["high"], s["low"], s["close"]], "ta.stoch defaults")
    nan = float("nan")
    high = [3.0, 4.0, nan, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 9.0, 8.0, 8.5]
    low = [1.0, 2.0, 3.0, 3.0, nan, 5.0, 6.0, 7.0, 8.0, 7.0, 6.0, 6.5]
    close = [2.0, 3.0, 4.0, 5.0, 6.0, nan, 7.0, 8.0, 9.0, 8.0, 7.0, 7.5]
    for periods in [(3, 1, 1), (3, 2, 2), (1, 1, 1)]:
        check_public(conn, STOCH_CALL.format(*periods), [high, low, close], f"ta.stoch NaN {periods}")
    check_public(conn, STOCH_CALL.format(3, 2, 2), [[nan] * 4, [1.0] * 4, [1.0] * 4], "ta.stoch all NaN")
    check_public(conn, STOCH_CALL.format(3, 2, 2), [None, [1.0], [1.0]], "ta.stoch strict")


@pytest.mark.parametrize("call", [
    "select * from ta.stoch(%s::float8[], %s::float8[], %s::float8[], 0, 3, 3)",
    "select * from ta.stoch(%s::float8[], %s::float8[], %s::float8[], 5, 0, 3)",
    "select * from ta.stoch(%s::float8[], %s::float8[], %s::float8[], 5, 3, 100001)",
    "select * from ta.stoch(%s::float8[], %s::float8[], %s::float8[] || 1::float8, 5, 3, 3)",
    "select * from ta.stoch(%s::float8[], %s::float8[] || 1::float8, %s::float8[], 0, 3, 3)",
    "select * from ta.stoch(array[[1,2],[3,4]]::float8[], %s::float8[], %s::float8[] || %s::float8[], 0, 3, 3)",
    "select * from ta.stoch(%s::float8[], array[[1,2],[3,4]]::float8[], %s::float8[] || %s::float8[], 5, 3, 3)",
    "select * from ta.stoch(%s::float8[], %s::float8[] || %s::float8[], array[[1,2],[3,4]]::float8[], 5, 3, 3)",
])
def test_stoch_same_errors(conn, call):
    check_same_error(conn, call, [[1.0, 2.0, 3.0], [1.0, 2.0, 3.0], [1.0, 2.0, 3.0]])


# --------------------------------------------------------------------------------------------
# STOCHRSI's raw %K (ta._stoch_fastk) and STOCHRSI itself
# --------------------------------------------------------------------------------------------

FASTK_CALL = "select ta._stoch_fastk(%s::float8[], %s::float8[], %s::float8[], {}, {})"


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("kperiod,start", [(1, 1), (5, 1), (5, 15), (14, 3), (40, 1), (3, 199), (3, 250)])
def test_stoch_fastk_same_bits(conn, shape, kperiod, start):
    s = bars(shape, 200, seed=kperiod + start)
    check_public(conn, FASTK_CALL.format(kperiod, start), [s["high"], s["low"], s["close"]],
                 f"ta._stoch_fastk {shape} k={kperiod} start={start}")
    # high and low shorter than close (PL/pgSQL reads NULL past their end)
    check_public(conn, FASTK_CALL.format(kperiod, start), [s["high"][:150], s["low"][:120], s["close"]],
                 f"ta._stoch_fastk short {shape} k={kperiod} start={start}")


def test_stoch_fastk_edges(conn):
    s = bars("walk", 30, seed=5)
    args = [s["high"], s["low"], s["close"]]
    # outside what the native kernel takes: the PL/pgSQL runs in both modes
    for kperiod, start in [(0, 3), (3, 0), (-2, 5)]:
        check_public(conn, FASTK_CALL.format(kperiod, start), args, f"ta._stoch_fastk k={kperiod} start={start}")
    check_public(conn, FASTK_CALL.format(3, 1), [None, None, s["close"]], "ta._stoch_fastk null high/low")
    check_public(conn, FASTK_CALL.format(3, 1), [[], [], []], "ta._stoch_fastk empty")
    check_same_error(conn, "select ta._stoch_fastk(%s::float8[], %s::float8[], null::float8[], 3, 1)", args[:2])


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("n,periods", [(0, (14, 5, 3)), (5, (2, 1, 1)), (22, (14, 5, 3)), (300, (14, 5, 3)),
                                       (300, (5, 1, 1)), (300, (3, 14, 5))])
def test_stochrsi_public_same_bits(conn, shape, n, periods):
    close = bars(shape, n, seed=n + periods[0])["close"]
    check_public(conn, "select * from ta.stochrsi(%s::float8[], {}, {}, {})".format(*periods), [close],
                 f"ta.stochrsi {shape} n={n} {periods}")
