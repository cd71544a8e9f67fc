"""Native OBV and VWAP kernels = their PL/pgSQL originals, bit for bit (tests/ta/native_support.py).

Both kernels keep infinities as values (ta._prep only turns NaN into NULL): VWAP skips a bar
with a non-finite price or volume, OBV can reach +-Infinity and, from there, a real NaN, which
both implementations must return as NaN (not NULL).
"""

from __future__ import annotations

import random

import pytest

from tests.ta.native_support import SHAPES, bars, check_public, check_same_error, check_step_kernel, require_native

INF = float("inf")


@pytest.fixture(autouse=True)
def _native(conn):
    require_native(conn)
    yield
    conn.rollback()
    conn.execute("reset tsquant.native_kernels")


def complete_rows(series: dict, names: list[str]) -> list[list]:
    """Drop rows with a NULL in any input (kernels get the prepped input after leading NULLs)."""
    columns = [series[n] for n in names]
    start = next((i for i in range(len(columns[0])) if all(c[i] is not None for c in columns)), len(columns[0]))
    return [c[start:] for c in columns]


def with_infinities(series: dict, seed: int) -> dict:
    rng = random.Random(seed)
    out = {k: list(v) for k, v in series.items()}
    n = len(out["close"])
    for _ in range(max(1, n // 30)):
        name = rng.choice(["high", "low", "close", "volume"])
        out[name][rng.randrange(n)] = rng.choice([INF, -INF])
    return out


KERNELS = {"obv": ("ta._obv_step", ["close", "volume"]), "vwap": ("ta._vwap_step", ["high", "low", "close", "volume"])}


@pytest.mark.parametrize("shape", SHAPES + ("infinities",))
@pytest.mark.parametrize("kernel", sorted(KERNELS))
@pytest.mark.parametrize("seed", [1, 2])
def test_step_kernel_same_bits(conn, kernel, shape, seed):
    series = bars("walk" if shape == "infinities" else shape, 300, seed=seed)
    if shape == "infinities":
        series = with_infinities(series, seed)
    function, names = KERNELS[kernel]
    inputs = complete_rows(series, names)
    if not inputs[0]:
        pytest.skip("no complete row")
    check_step_kernel(conn, function, inputs, "", 1, seed=seed)


@pytest.mark.parametrize("shape", SHAPES + ("infinities",))
@pytest.mark.parametrize("n", [0, 1, 2, 200])
def test_public_same_bits(conn, shape, n):
    series = bars("walk" if shape == "infinities" else shape, n, seed=n)
    if shape == "infinities" and n:
        series = with_infinities(series, n)
    h, l, c, v = series["high"], series["low"], series["close"], series["volume"]
    check_public(conn, "select ta.obv(%s::float8[], %s::float8[])", [c, v], f"ta.obv {shape} n={n}")
    check_public(conn, "select ta.vwap(%s::float8[], %s::float8[], %s::float8[], %s::float8[])", [h, l, c, v],
                 f"ta.vwap {shape} n={n}")


def test_obv_infinite_volumes_make_a_real_nan(conn):
    close, volume = [1.0, 2.0, 1.0, 2.0], [1.0, INF, INF, 3.0]
    check_public(conn, "select ta.obv(%s::float8[], %s::float8[])", [close, volume], "obv inf - inf")
    conn.execute("set tsquant.native_kernels = on")
    got = conn.execute("select ta.obv(%s::float8[], %s::float8[])", [close, volume]).fetchone()[0]
    assert got[:2] == [1.0, INF] and got[2] != got[2], got  # +inf then inf - inf = NaN, kept as NaN


def test_nan_is_null(conn):
    nan = float("nan")
    check_public(conn, "select ta.obv(%s::float8[], %s::float8[])", [[1.0, nan, 2.0, 3.0], [1.0, 2.0, nan, 4.0]], "obv")
    check_public(conn, "select ta.vwap(%s::float8[], %s::float8[], %s::float8[], %s::float8[])",
                 [[2.0, nan, 3.0], [1.0, 1.0, 2.0], [1.5, 1.5, nan], [1.0, 2.0, 3.0]], "vwap")


@pytest.mark.parametrize("call", [
    "select ta.obv(%s::float8[], array[1, 2]::float8[])",
    "select ta.obv(array[[1, 2], [3, 4]]::float8[], %s::float8[])",
    "select ta.vwap(%s::float8[], %s::float8[], %s::float8[], array[1]::float8[])",
    "select ta.vwap(array[[1, 2], [3, 4]]::float8[], %s::float8[], %s::float8[], %s::float8[])",
])
def test_same_errors(conn, call):
    check_same_error(conn, call, [[1.0, 2.0, 3.0]] * call.count("%s"))
