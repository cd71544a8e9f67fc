"""Native (C) ta kernels against their PL/pgSQL originals: the same bits, the same state.

The native kernels (db/ta/native, extension tsquant_ta) are ports of the PL/pgSQL kernels, so the
oracle here is the PL/pgSQL code itself, run in the same database with
`tsquant.native_kernels = off`, and compared bit for bit (TA-Lib stays the oracle of both: the
oracle tests run on whichever kernels the database uses). Helpers for tests/ta/test_native*.py.
"""

from __future__ import annotations

import math
import random
import struct

import pytest


def require_native(conn) -> None:
    installed = conn.execute("select exists (select from pg_extension where extname = 'tsquant_ta')").fetchone()[0]
    if not installed:
        pytest.skip("the native ta kernels (tsquant_ta) are not installed on this server")


@pytest.fixture()
def native_kernels(conn):
    """For tests/ta/test_native_*.py: skip without tsquant_ta; leave the session as found."""
    require_native(conn)
    yield
    conn.rollback()
    conn.execute("reset tsquant.native_kernels")


def use_native(conn, on: bool) -> None:
    conn.execute("select set_config('tsquant.native_kernels', %s, false)", ("on" if on else "off",))


def bits(values) -> list | None:
    """Exact representation of a float8[] (None stays None; -0.0 differs from 0.0)."""
    if values is None:
        return None
    return [None if v is None else struct.pack("<d", v).hex() for v in values]


def assert_same_bits(native, plpgsql, what: str) -> None:
    if bits(native) == bits(plpgsql):
        return
    if native is None or plpgsql is None or len(native) != len(plpgsql):
        raise AssertionError(f"{what}: native {native!r:.200} vs plpgsql {plpgsql!r:.200}")
    first = next(i for i, (a, b) in enumerate(zip(bits(native), bits(plpgsql))) if a != b)
    raise AssertionError(
        f"{what}: first difference at index {first}: native {native[first]!r} vs plpgsql {plpgsql[first]!r} "
        f"(native {native[max(0, first - 2):first + 3]}, plpgsql {plpgsql[max(0, first - 2):first + 3]})"
    )


# --------------------------------------------------------------------------------------------
# Inputs: bars with the shapes that exercise every branch
# --------------------------------------------------------------------------------------------

SHAPES = ("walk", "flat", "nulls", "leading_nulls", "tiny", "huge", "zero_volume", "steps")


def bars(shape: str, n: int, seed: int) -> dict[str, list]:
    """OHLCV series (high, low, close, volume) of one shape; None stands for SQL NULL."""
    rng = random.Random(seed)
    scale = {"tiny": 1e-8, "huge": 1e8}.get(shape, 100.0)
    close, high, low, volume = [], [], [], []
    price = scale
    for i in range(n):
        if shape == "flat" or (shape == "steps" and (i // 7) % 2 == 0):
            step = 0.0
        else:
            step = rng.gauss(0, 0.01)
        price = price * math.exp(step)
        spread = 0.0 if shape == "flat" else abs(rng.gauss(0, 0.005)) * price
        close.append(price)
        high.append(price + spread * rng.random())
        low.append(price - spread * rng.random())
        volume.append(0.0 if shape == "zero_volume" and rng.random() < 0.7 else rng.lognormvariate(1, 1))
    series = {"high": high, "low": low, "close": close, "volume": volume}
    if shape in ("nulls", "leading_nulls") and n > 0:
        for name, values in series.items():
            if shape == "leading_nulls":
                for i in range(min(n, rng.randint(1, 6))):
                    values[i] = None
            for _ in range(max(1, n // 40)):
                if rng.random() < 0.5:
                    values[rng.randrange(n)] = None
    return series


def chunks(n: int, rng: random.Random) -> list[tuple[int, int]]:
    """Random split of range(n) into consecutive chunks, 1-bar chunks included."""
    cuts, i = [], 0
    while i < n:
        size = rng.choice([1, 1, 2, 3, 5, 8, 13, 40, n])
        cuts.append((i, min(n, i + size)))
        i += size
    return cuts


# --------------------------------------------------------------------------------------------
# Comparisons
# --------------------------------------------------------------------------------------------


def check_step_kernel(conn, function: str, inputs: list[list], extra_args: str, n_outputs: int, seed: int) -> None:
    """A resumable kernel ta._<x>_step(state, inputs..., params...): native = PL/pgSQL, bit for bit.

    1. one call from the empty state, both implementations: outputs and final state;
    2. random chunks, each run by a randomly chosen implementation with the state the previous
       chunk left (whichever wrote it): concatenated outputs and final state = the one-call run.
    """
    placeholders = ", ".join(["%s::float8[]"] * (1 + len(inputs)))
    query = f"select * from {function}({placeholders}{extra_args})"

    def run(state, parts, native: bool) -> list:
        use_native(conn, native)
        return list(conn.execute(query, [state, *parts]).fetchone())

    whole_native = run(None, inputs, True)
    whole_plpgsql = run(None, inputs, False)
    for k in range(n_outputs + 1):
        what = f"{function}{extra_args} output {k + 1}" if k < n_outputs else f"{function}{extra_args} state"
        assert_same_bits(whole_native[k], whole_plpgsql[k], what)

    rng = random.Random(seed)
    n = len(inputs[0])
    state = None
    outputs: list[list] = [[] for _ in range(n_outputs)]
    for lo, hi in chunks(n, rng):
        row = run(state, [values[lo:hi] for values in inputs], rng.random() < 0.5)
        for k in range(n_outputs):
            outputs[k].extend(row[k] or [])
        state = row[n_outputs]
    for k in range(n_outputs):
        assert_same_bits(outputs[k], whole_plpgsql[k], f"{function}{extra_args} output {k + 1}, chunked")
    assert_same_bits(state, whole_plpgsql[n_outputs], f"{function}{extra_args} state, chunked")


def check_public(conn, call: str, args: list, what: str) -> None:
    """A public ta.* call (a SELECT returning float8[] columns): native = PL/pgSQL, bit for bit."""
    use_native(conn, True)
    native = list(conn.execute(call, args).fetchone())
    use_native(conn, False)
    plpgsql = list(conn.execute(call, args).fetchone())
    for k, (a, b) in enumerate(zip(native, plpgsql)):
        assert_same_bits(a, b, f"{what} column {k + 1}")


def check_same_error(conn, call: str, args: list) -> None:
    """Both implementations reject the call with the same SQLSTATE and message."""
    messages = []
    for native in (True, False):
        use_native(conn, native)
        try:
            conn.execute(call, args)
        except Exception as exc:  # noqa: BLE001 - the error itself is what is compared
            messages.append((getattr(exc, "sqlstate", None), str(exc).splitlines()[0]))
            conn.rollback()
        else:
            messages.append(None)
            conn.rollback()
    assert messages[0] == messages[1], f"{call}: native {messages[0]} vs plpgsql {messages[1]}"
    assert messages[0] is not None, f"{call}: expected an error"
