"""ta.* argument checking and catalog properties.

Invalid periods (outside the ranges TA-Lib 0.8.x accepts, checked against talib itself),
non-finite-range deviations, series of different lengths and multi-dimensional arrays raise
SQLSTATE 22023 (invalid_parameter_value) with a message naming the function and the argument.
"""

from __future__ import annotations

import psycopg
import pytest
import talib

# function -> (input series, {period parameter: (min, max)})
HLC = ("high", "low", "close")
FUNCTIONS: dict[str, tuple[tuple[str, ...], dict[str, tuple[int, int]]]] = {
    "sma": (("close",), {"timeperiod": (1, 100000)}),
    "ema": (("close",), {"timeperiod": (1, 100000)}),
    "wma": (("close",), {"timeperiod": (1, 100000)}),
    "rsi": (("close",), {"timeperiod": (2, 100000)}),
    "macd": (("close",), {"fastperiod": (2, 100000), "slowperiod": (2, 100000), "signalperiod": (1, 100000)}),
    "bbands": (("close",), {"timeperiod": (2, 100000)}),
    "atr": (HLC, {"timeperiod": (1, 100000)}),
    "natr": (HLC, {"timeperiod": (1, 100000)}),
    "stoch": (HLC, {"fastk_period": (1, 100000), "slowk_period": (1, 100000), "slowd_period": (1, 100000)}),
    "stochrsi": (("close",), {"timeperiod": (2, 100000), "fastk_period": (1, 100000), "fastd_period": (1, 100000)}),
    "adx": (HLC, {"timeperiod": (2, 100000)}),
    "plus_di": (HLC, {"timeperiod": (1, 100000)}),
    "minus_di": (HLC, {"timeperiod": (1, 100000)}),
    "cci": (HLC, {"timeperiod": (2, 100000)}),
    "obv": (("close", "volume"), {}),
    "mfi": (("high", "low", "close", "volume"), {"timeperiod": (2, 100000)}),
    "willr": (HLC, {"timeperiod": (2, 100000)}),
    "roc": (("close",), {"timeperiod": (1, 100000)}),
    "trix": (("close",), {"timeperiod": (1, 100000)}),
    "vwap": (("high", "low", "close", "volume"), {}),
}
SERIES = [10.0, 11.0, 10.5, 12.0, 11.5, 12.5, 13.0, 12.0, 12.5, 13.5]
PERIOD_CASES = [
    (name, param, bound)
    for name, (_, params) in FUNCTIONS.items()
    for param, bound in params.items()
]


def _call(conn, name: str, inputs: tuple[str, ...], params: dict, lengths: dict[str, int] | None = None):
    lengths = lengths or {}
    args = ", ".join(["%s::float8[]"] * len(inputs) + [f"{k} => %s" for k in params])
    values = [SERIES[: lengths.get(s, len(SERIES))] for s in inputs] + list(params.values())
    return conn.execute(f"select * from ta.{name}({args})", values).fetchone()


def _raises_22023(conn, name: str, inputs, params, lengths=None) -> psycopg.Error:
    with pytest.raises(psycopg.Error) as info:
        _call(conn, name, inputs, params, lengths)
    conn.rollback()
    assert info.value.sqlstate == "22023", info.value
    return info.value


@pytest.mark.parametrize(("name", "param", "bound"), PERIOD_CASES, ids=[f"{n}.{p}" for n, p, _ in PERIOD_CASES])
def test_period_outside_talib_range_raises_22023_naming_function_and_argument(conn, name, param, bound) -> None:
    inputs, _ = FUNCTIONS[name]
    low, high = bound
    for bad in (low - 1, high + 1, -5):
        error = _raises_22023(conn, name, inputs, {param: bad})
        message = str(error)
        assert f"ta.{name}: {param} must be between {low} and {high} (got {bad})" in message


@pytest.mark.parametrize(("name", "param", "bound"), PERIOD_CASES, ids=[f"{n}.{p}" for n, p, _ in PERIOD_CASES])
def test_period_range_is_talibs(conn, name, param, bound) -> None:
    """The boundaries are TA-Lib's: talib accepts min and max and rejects min-1 and max+1."""
    inputs, _ = FUNCTIONS[name]
    low, high = bound
    func = getattr(talib, name.upper())
    import numpy as np

    data = [np.array(SERIES) for _ in inputs]
    for ok in (low, high):
        func(*data, **{param: ok})
        _call(conn, name, inputs, {param: ok})
    for bad in (low - 1, high + 1):
        with pytest.raises(Exception, match="Bad Parameter"):
            func(*data, **{param: bad})


@pytest.mark.parametrize("name", [n for n, (inputs, _) in FUNCTIONS.items() if len(inputs) > 1])
def test_series_of_different_lengths_raise_22023(conn, name) -> None:
    inputs, _ = FUNCTIONS[name]
    for short in inputs:
        error = _raises_22023(conn, name, inputs, {}, lengths={short: len(SERIES) - 1})
        assert f"ta.{name}:" in str(error) and "must have the same length" in str(error)
        assert all(s in str(error) for s in inputs)


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_two_dimensional_input_raises_22023(conn, name) -> None:
    inputs, _ = FUNCTIONS[name]
    args = ", ".join(["%s::float8[]"] * len(inputs))
    with pytest.raises(psycopg.Error) as info:
        conn.execute(f"select * from ta.{name}({args})", [[[1.0, 2.0], [3.0, 4.0]]] * len(inputs))
    conn.rollback()
    assert info.value.sqlstate == "22023"
    first_arg = "x" if inputs == ("close",) else inputs[0]  # single-series functions call it x (DESIGN §5)
    assert f"ta.{name}: {first_arg} must be a one-dimensional array" in str(info.value)


@pytest.mark.parametrize("param", ["nbdevup", "nbdevdn"])
def test_bbands_deviation_outside_talib_range_raises_22023(conn, param) -> None:
    import numpy as np

    for bad in (-3.1e37, 3.1e37):
        error = _raises_22023(conn, "bbands", ("close",), {param: bad})
        assert f"ta.bbands: {param} must be between -3e+37 and 3e+37" in str(error)
        with pytest.raises(Exception, match="Bad Parameter"):
            talib.BBANDS(np.array(SERIES), **{param: bad})
    _call(conn, "bbands", ("close",), {param: 3e37})


def test_null_argument_gives_null(conn) -> None:
    """The functions are strict: a NULL series or parameter gives NULL, not an error."""
    assert conn.execute("select ta.rsi(null::float8[])").fetchone() == (None,)
    assert conn.execute("select ta.rsi(array[1, 2, 3]::float8[], null)").fetchone() == (None,)
    assert conn.execute("select * from ta.macd(null::float8[])").fetchone() == (None, None, None)


def test_any_lower_bound_is_accepted_and_output_is_one_based(conn) -> None:
    row = conn.execute("select ta.sma('[0:4]={1,2,3,4,5}'::float8[], 3)::text").fetchone()
    assert row == ("{NULL,NULL,2,3,4}",)


# --------------------------------------------------------------------------------------------
# Catalog: signatures, volatility, security, comments
# --------------------------------------------------------------------------------------------

CATALOG = """
select p.proname, p.provolatile, p.proparallel, p.prosecdef, p.proisstrict,
       coalesce(p.proargnames, '{}') as argnames, obj_description(p.oid, 'pg_proc') as comment,
       l.lanname
from pg_proc as p
join pg_language as l on l.oid = p.prolang
where p.pronamespace = 'ta'::regnamespace
"""


def _catalog(conn) -> dict[str, tuple]:
    return {row[0]: row[1:] for row in conn.execute(CATALOG).fetchall()}


def test_every_indicator_exists_with_talib_parameter_names(conn) -> None:
    catalog = _catalog(conn)
    for name, (inputs, params) in FUNCTIONS.items():
        assert name in catalog, f"ta.{name} is missing"
        argnames = catalog[name][4]
        for param in params:
            assert param in argnames, f"ta.{name} has no parameter {param}"
        if name == "bbands":
            assert {"nbdevup", "nbdevdn", "upperband", "middleband", "lowerband"} <= set(argnames)


def test_talib_defaults_are_the_sql_defaults(conn) -> None:
    """Calling with no optional argument equals calling with TA-Lib's documented defaults."""
    import talib.abstract

    for name, (inputs, params) in FUNCTIONS.items():
        defaults = {k: v for k, v in talib.abstract.Function(name.upper()).info["parameters"].items()
                    if "matype" not in k}
        assert set(defaults) >= set(params)
        series = [float(x) for x in range(1, 200)]
        args = ", ".join(["%s::float8[]"] * len(inputs))
        plain = conn.execute(f"select * from ta.{name}({args})", [series] * len(inputs)).fetchone()
        named = ", ".join(f"{k} => %s" for k in defaults)
        explicit = conn.execute(
            f"select * from ta.{name}({args}{', ' if named else ''}{named})",
            [series] * len(inputs) + list(defaults.values()),
        ).fetchone()
        assert plain == explicit, name


# The maintained-indicator layer (db/ta/R__maintained.sql, R__refresh.sql) writes tables or reads
# candles: not array functions; tests/ta/test_maintained.py and test_bar_values.py cover it.
MAINTAINED_LAYER = {"maintain", "refresh_indicators", "rebuild_indicators", "indicator_series", "_refresh_one",
                    "_refresh_bar_values", "_bar_values_named_indicator_removed",
                    "_bar_values_candle_source_changed"}
# not indicators: which kernels run (reads a setting and the catalog), the rows helper, and the
# bi views' jsonb helper (stable like jsonb_build_object, so that it is inlined per bar)
SUPPORT_LAYER = {"_native", "kernel_implementation", "zip", "_outputs_json"}


def test_functions_are_immutable_parallel_safe_invoker_and_commented(conn) -> None:
    catalog = _catalog(conn)
    assert catalog
    for name, (volatile, parallel, secdef, strict, _, comment, _lang) in catalog.items():
        if name in MAINTAINED_LAYER or name in SUPPORT_LAYER:
            assert comment, f"ta.{name} has no comment"
            assert name in MAINTAINED_LAYER or not secdef, f"ta.{name} is security definer"
            continue
        assert volatile == "i", f"ta.{name} is not immutable"
        assert parallel == "s", f"ta.{name} is not parallel safe"
        assert not secdef, f"ta.{name} is security definer"
        assert comment, f"ta.{name} has no comment"
        if not name.startswith("_"):
            assert strict, f"ta.{name} is not strict"
            assert "TA-Lib 0.8.x" in comment and "Lookback" in comment and "NULL" in comment, name
