"""Native OBV and VWAP kernels = their PL/pgSQL originals, bit for bit (tests/ta/native_support.py).

Both kernels see infinities (ta._prep replaces only NaN): an infinite price or volume makes VWAP
skip the bar, and opposite infinite volumes make OBV a real NaN, which PL/pgSQL keeps apart from
NULL in the output and in the state. The step kernels also get NaN (not NULL) straight from a
caller, where PostgreSQL's float8 order (NaN above every number) decides OBV's direction.
"""

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

INF = float("inf")
NAN = float("nan")

INPUTS = {"obv": ("close", "volume"), "vwap": ("high", "low", "close", "volume")}
# Extra shapes on top of SHAPES: infinities, and (step kernels only) NaN that is not a NULL.
INF_SHAPES = ("inf", "inf_nulls")


pytestmark = pytest.mark.usefixtures("native_kernels")


def series(function: str, shape: str, n: int, seed: int) -> list[list]:
    """The function's input series of one shape; inf shapes put +-Infinity (and NULLs) inside."""
    base = "nulls" if shape == "inf_nulls" else ("walk" if shape in INF_SHAPES or shape == "nan" else shape)
    data = bars(base, n, seed)
    rng = random.Random(seed + 1)
    if shape in INF_SHAPES or shape == "nan":
        specials = [NAN] if shape == "nan" else [INF, -INF]
        for name, values in data.items():
            for _ in range(max(1, n // 15)):
                if n > 1:
                    values[rng.randrange(1, n)] = rng.choice(specials)
        if shape != "nan" and n > 4:
            # opposite infinite volumes while the close falls then rises: OBV goes NaN
            data["volume"][2] = INF
            data["volume"][3] = INF
            data["close"][3] = data["close"][2] * 0.99
    return [data[name] for name in INPUTS[function]]


def strip_leading_null_rows(inputs: list[list]) -> list[list]:
    """Kernels get prepped input: drop the leading rows that hold a NULL."""
    n = len(inputs[0])
    start = next((i for i in range(n) if all(values[i] is not None for values in inputs)), n)
    stripped = [values[start:] for values in inputs]
    return stripped if stripped[0] else [[1.0] for _ in inputs]


def step_call(function: str) -> str:
    return f"ta._{function}_step"


def public_call(function: str) -> str:
    return f"select ta.{function}({', '.join(['%s::float8[]'] * len(INPUTS[function]))})"


def check_same_outcome(conn, query: str, args: list, what: str) -> None:
    """Both implementations return the same bits, or raise the same error."""
    outcomes = []
    for native in (True, False):
        use_native(conn, native)
        try:
            outcomes.append(("ok", list(conn.execute(query, args).fetchone())))
        except Exception as exc:  # noqa: BLE001 - the error itself is what is compared
            outcomes.append(("error", (getattr(exc, "sqlstate", None), str(exc).splitlines()[0])))
            conn.rollback()
    (kind_n, native), (kind_p, plpgsql) = outcomes
    assert kind_n == kind_p, f"{what}: native {outcomes[0]} vs plpgsql {outcomes[1]}"
    if kind_n == "error":
        assert native == plpgsql, f"{what}: native {native} vs plpgsql {plpgsql}"
        return
    for k, (a, b) in enumerate(zip(native, plpgsql)):
        assert_same_bits(a, b, f"{what} column {k + 1}")


# --------------------------------------------------------------------------------------------
# Step kernels
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES + INF_SHAPES + ("nan",))
@pytest.mark.parametrize("function", ["obv", "vwap"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_step_kernel_same_bits(conn, function, shape, seed):
    inputs = strip_leading_null_rows(series(function, shape, 300, seed))
    check_step_kernel(conn, step_call(function), inputs, "", 1, seed=seed)


@pytest.mark.parametrize("function", ["obv", "vwap"])
@pytest.mark.parametrize("n", [0, 1, 2])
def test_step_kernel_short_chunks(conn, function, n):
    inputs = strip_leading_null_rows(series(function, "inf", 10, n))
    inputs = [values[:n] for values in inputs]
    if n:
        check_step_kernel(conn, step_call(function), inputs, "", 1, seed=n)
    placeholders = ", ".join(["%s::float8[]"] * (1 + len(inputs)))
    for state in (None, "{}", "{4,1,2,3}"):
        check_same_outcome(conn, f"select * from {step_call(function)}({placeholders})", [state, *inputs],
                           f"{function} n={n} from {state}")


def test_obv_nan_is_not_null(conn):
    """Opposite infinite volumes make a real NaN: output and state keep it, and it resumes."""
    query = "select * from ta._obv_step(%s::float8[], %s::float8[], %s::float8[])"
    for args in (
        [None, [1.0, 0.0, 2.0, 2.0], [INF, INF, 1.0, 3.0]],
        [[4.0, 1.0, NAN], [2.0, 0.0], [5.0, 1.0]],
        [[4.0, 1.0, NAN], [2.0, 0.0], [None, 1.0]],
        [[4.0, 1.0, -INF], [2.0, 0.0], [INF, INF]],
    ):
        check_same_outcome(conn, query, args, f"obv_step {args}")
    use_native(conn, True)
    obv, state = conn.execute(query, [None, [1.0, 0.0], [INF, INF]]).fetchone()
    assert obv[0] == INF and obv[1] != obv[1] and state[2] != state[2]  # NaN, not None


@pytest.mark.parametrize("close,volume", [
    ([1.0, NAN, 2.0, NAN, NAN, 1.0], [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]),  # NaN sorts above numbers
    ([1.0, 2.0, None, 3.0, 1.0], [1.0, None, 3.0, 4.0, None]),
    ([1.0, INF, INF, -INF, 2.0], [1.0, 2.0, 3.0, 4.0, 5.0]),
    ([1.0, 2.0, 3.0], [NAN, 2.0, 3.0]),
    ([1.0, 2.0, 3.0], [1.0, -0.0, 0.0]),
    ([2.0, 1.0, 0.5], [-0.0, 0.0, -0.0]),
])
def test_obv_step_special_values(conn, close, volume):
    check_step_kernel(conn, "ta._obv_step", [close, volume], "", 1, seed=7)


@pytest.mark.parametrize("row", [
    (1.0, 2.0, 3.0, 1.0), (INF, 1.0, 1.0, 1.0), (-INF, 1.0, 1.0, 1.0), (INF, -INF, 1.0, 1.0),
    (1.0, 1.0, 1.0, INF), (1.0, 1.0, 1.0, -INF), (NAN, 1.0, 1.0, 1.0), (1.0, 1.0, 1.0, NAN),
    (None, 1.0, 1.0, 1.0), (1.0, 1.0, 1.0, None), (1.0, 1.0, 1.0, 0.0), (1.0, 1.0, 1.0, -2.0),
])
def test_vwap_step_skips_non_finite_bars(conn, row):
    inputs = [[1.0, value, 2.0] for value in row]
    for state in (None, "{}", "{3,6,3,2}", "{3,0,0,0}"):
        check_same_outcome(
            conn, "select * from ta._vwap_step(%s::float8[], %s::float8[], %s::float8[], %s::float8[], %s::float8[])",
            [state, *inputs], f"vwap_step {row} from {state}",
        )


# States a caller wrote by hand: NULL or NaN elements, short arrays, a fractional or invalid count.
STATES = [
    None, "{}", "{0}", "{0,NULL,NULL}", "{NULL,1,2}", "{NULL,1,2,3}", "{5}", "{5,2}", "{2.5,1,2,3}",
    "{3,NaN,1,1}", "{3,1,NaN,1}", "{3,1,1,NaN}", "{3,NULL,1,1}", "{3,1,NULL,1}", "{3,1,1,NULL}",
    "{3,Infinity,1,1}", "{3,1,-Infinity,1}", "{3,1,-1,1}", "{0,7,7,7}",
    "{NaN,1,2,3}", "{Infinity,1,2,3}", "{1e19,1,2,3}", "{9.2233720368547748e18,1,2,3}",
]


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("function", ["obv", "vwap"])
@pytest.mark.parametrize("n", [0, 3])
def test_step_kernel_odd_states(conn, function, state, n):
    inputs = [values[:n] for values in series(function, "walk", 3, 5)]
    if n:
        inputs[INPUTS[function].index("close")][n - 1] = None  # a NULL last close (OBV's state keeps it)
    placeholders = ", ".join(["%s::float8[]"] * (1 + len(inputs)))
    check_same_outcome(conn, f"select * from {step_call(function)}({placeholders})", [state, *inputs],
                       f"{function} state {state} n={n}")


@pytest.mark.parametrize("function", ["obv", "vwap"])
@pytest.mark.parametrize("state", [None, "{NaN,1,2,3}"])
def test_step_kernel_null_close_array(conn, function, state):
    """A NULL p_close: array_fill's error in PL/pgSQL (after the state's own checks)."""
    inputs = [[1.0] for _ in INPUTS[function]]
    inputs[INPUTS[function].index("close")] = None
    placeholders = ", ".join(["%s::float8[]"] * (1 + len(inputs)))
    check_same_error(conn, f"select * from {step_call(function)}({placeholders})", [state, *inputs])


@pytest.mark.parametrize("function", ["obv", "vwap"])
def test_step_kernel_unequal_lengths(conn, function):
    """The step kernels do not check lengths: a missing element is NULL, as p_x[i] out of range."""
    inputs = series(function, "walk", 6, 9)
    close_at = INPUTS[function].index("close")
    for k in range(len(inputs)):
        if k != close_at:
            trimmed = [list(values) for values in inputs]
            trimmed[k] = trimmed[k][:3]
            placeholders = ", ".join(["%s::float8[]"] * (1 + len(inputs)))
            check_same_outcome(conn, f"select * from {step_call(function)}({placeholders})", [None, *trimmed],
                               f"{function} input {k} short")


# --------------------------------------------------------------------------------------------
# Public functions
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES + INF_SHAPES)
@pytest.mark.parametrize("function", ["obv", "vwap"])
@pytest.mark.parametrize("n", [0, 1, 2, 5, 200])
def test_public_same_bits(conn, function, shape, n):
    inputs = series(function, shape, n, seed=n)
    check_public(conn, public_call(function), inputs, f"ta.{function} {shape} n={n}")


@pytest.mark.parametrize("function", ["obv", "vwap"])
def test_public_nan_is_null(conn, function):
    inputs = series(function, "nan", 40, seed=3)
    inputs[0][0] = NAN  # a leading NaN row is skipped as a NULL row
    check_public(conn, public_call(function), inputs, f"ta.{function} NaN")


@pytest.mark.parametrize("function", ["obv", "vwap"])
@pytest.mark.parametrize("n", [1, 4])
def test_public_no_complete_row(conn, function, n):
    """No row without a NULL: the wrapper runs the kernel on the last row alone."""
    inputs = series(function, "walk", n, seed=n)
    for i in range(n):
        inputs[i % len(inputs)][i] = None
        inputs[(i + 1) % len(inputs)][i] = NAN
    check_public(conn, public_call(function), inputs, f"ta.{function} no complete row")


def test_public_obv_opposite_infinities(conn):
    check_public(conn, public_call("obv"), [[None, 1.0, 0.0, 3.0, 2.0], [1.0, INF, INF, 1.0, None]], "obv inf")


def test_public_vwap_infinite_bars(conn):
    high = [None, 2.0, INF, 3.0, 2.0, 4.0, -INF]
    low = [1.0, 1.0, 1.0, 2.0, -INF, 3.0, 1.0]
    close = [1.5, 1.5, 2.0, 2.5, 1.5, 3.5, 1.0]
    volume = [1.0, 0.0, 5.0, INF, 2.0, 3.0, 1.0]
    check_public(conn, public_call("vwap"), [high, low, close, volume], "vwap inf")


@pytest.mark.parametrize("call", [
    # one-dimension checks, in the order ta._prep runs them
    "select ta.obv(array[[1,2],[3,4]]::float8[], array[[1,2],[3,4]]::float8[]) where %s is not null",
    "select ta.obv(%s::float8[], array[[1,2],[3,4]]::float8[])",
    "select ta.vwap(array[[1,2],[3,4]]::float8[], array[[1,2],[3,4]]::float8[], %s::float8[], '{1}')",
    "select ta.vwap(%s::float8[], array[[1,2],[3,4]]::float8[], array[[1,2],[3,4]]::float8[], '{1}')",
    "select ta.vwap('{1,2,3}', '{1,2,3}', %s::float8[], array[[1,2],[3,4]]::float8[])",
    # lengths
    "select ta.obv(%s::float8[], '{1,2}')",
    "select ta.obv('{}', %s::float8[])",
    "select ta.vwap(%s::float8[], '{1,2,3}', '{1,2,3}', '{1,2}')",
    "select ta.vwap('{1,2}', %s::float8[], '{1,2,3}', '{1,2,3}')",
    "select ta.vwap('{1,2,3}', '{1,2,3}', '{}', %s::float8[])",
    # PostgreSQL's float8 overflow and underflow errors inside the kernels
    "select ta.obv(%s::float8[], '{1e308,1e308,1e308}')",
    "select ta.vwap('{1e308,1e308,1e308}', '{1e308,1e308,1e308}', %s::float8[], '{1,1,1}')",
    "select ta.vwap('{1,2,3}', '{1,2,3}', %s::float8[], '{1e307,1e308,1e308}')",
    "select ta.vwap('{1e200,1,1}', '{1e200,1,1}', %s::float8[], '{1e200,1,1}')",
    "select ta.vwap('{1e-300,1,1}', '{1e-300,1,1}', %s::float8[], '{1e-300,1,1}')",
    "select ta.vwap('{5e-324,1,1}', '{0,1,1}', %s::float8[], '{1,1,1}')",
    "select ta.vwap('{1e-300,0,1}', '{1e-300,0,1}', '{1e-300,0,1}', '{1e-20,1e300,1}') where %s is not null",
])
def test_same_errors(conn, call):
    check_same_error(conn, call, [[0.0, 1.0, 2.0]])


@pytest.mark.parametrize("call", [
    "select ta.obv(null, %s::float8[])",
    "select ta.vwap('{1,2,3}', null, %s::float8[], '{1,2,3}')",
    "select ta.obv('{NaN,NaN,NaN}', %s::float8[])",
    "select ta.vwap('{1,2,3}', '{1,2,3}', %s::float8[], '{-Infinity,Infinity,NaN}')",
])
def test_public_strict_and_degenerate(conn, call):
    check_same_outcome(conn, call, [[0.0, 1.0, 2.0]], call)
