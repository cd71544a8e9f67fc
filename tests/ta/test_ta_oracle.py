"""ta.* indicator functions against the oracle, TA-Lib 0.8.x (PyPI `ta-lib`).

Every function is called through SQL with TA-Lib's own parameter names (named notation, as
TA-Lib's Python keyword arguments) on:

- real candles: 1-second and 250-millisecond OHLCV bars rebuilt from the Binance trade captures
  in /work/shared/data (bars without trades are flat, zero-volume bars);
- long synthetic series: seeded geometric Brownian motion with volatility clustering;
- adversarial inputs: flat prices, zero volume, jumps, prices near 1e-8 and 1e8, closes outside
  the bar's range, inputs shorter than the lookback, length 0 and 1, leading/interior NULLs;
- hypothesis-generated series, periods and NULL positions.

NULL is passed where TA-Lib gets NaN and must come back exactly where TA-Lib returns NaN; values
must agree to a relative 1e-9 (absolute near zero: 1e-9 for dimensionless indicators, 1e-12 of
the largest input for indicators in price or volume units, whose TA-Lib values carry FMA rounding).
"""

from __future__ import annotations

import functools
import gzip
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pytest
import talib
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loaders.sources.binance_capture import bundled_capture_dir  # noqa: E402

DATA_DIR = bundled_capture_dir()
RTOL = 1e-9

# --------------------------------------------------------------------------------------------
# The functions under test
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Indicator:
    name: str  # ta.<name> and talib.<NAME>
    inputs: tuple[str, ...]  # series names in call order: high, low, close, volume
    params: dict[str, tuple[int | float, int | float]] = field(default_factory=dict)  # name -> valid range
    price_units: bool = False  # output in price/volume units (absolute tolerance scales with the input)

    @property
    def talib_function(self) -> Callable:
        return getattr(talib, self.name.upper())


HLC = ("high", "low", "close")
INDICATORS = [
    Indicator("sma", ("close",), {"timeperiod": (1, 60)}, price_units=True),
    Indicator("ema", ("close",), {"timeperiod": (1, 60)}, price_units=True),
    Indicator("wma", ("close",), {"timeperiod": (1, 60)}, price_units=True),
    Indicator("rsi", ("close",), {"timeperiod": (2, 40)}),
    Indicator("macd", ("close",), {"fastperiod": (2, 30), "slowperiod": (2, 40), "signalperiod": (1, 15)},
              price_units=True),
    Indicator("bbands", ("close",), {"timeperiod": (2, 50), "nbdevup": (0.5, 3.0), "nbdevdn": (0.5, 3.0)},
              price_units=True),
    Indicator("atr", HLC, {"timeperiod": (1, 40)}, price_units=True),
    Indicator("natr", HLC, {"timeperiod": (1, 40)}),
    Indicator("stoch", HLC, {"fastk_period": (1, 20), "slowk_period": (1, 8), "slowd_period": (1, 8)}),
    Indicator("stochrsi", ("close",), {"timeperiod": (2, 30), "fastk_period": (1, 15), "fastd_period": (1, 8)}),
    Indicator("adx", HLC, {"timeperiod": (2, 30)}),
    Indicator("plus_di", HLC, {"timeperiod": (1, 30)}),
    Indicator("minus_di", HLC, {"timeperiod": (1, 30)}),
    Indicator("cci", HLC, {"timeperiod": (2, 40)}),
    Indicator("obv", ("close", "volume"), price_units=True),
    Indicator("mfi", ("high", "low", "close", "volume"), {"timeperiod": (2, 40)}),
    Indicator("willr", HLC, {"timeperiod": (2, 40)}),
    Indicator("roc", ("close",), {"timeperiod": (1, 40)}),
    Indicator("trix", ("close",), {"timeperiod": (1, 20)}),
    Indicator("vwap", ("high", "low", "close", "volume"), price_units=True),
]
BY_NAME = {ind.name: ind for ind in INDICATORS}

# Non-default parameter sets per indicator (the defaults are always tested too).
NON_DEFAULT = {
    "sma": [{"timeperiod": 7}, {"timeperiod": 1}],
    "ema": [{"timeperiod": 9}, {"timeperiod": 1}],
    "wma": [{"timeperiod": 10}, {"timeperiod": 1}],
    "rsi": [{"timeperiod": 7}, {"timeperiod": 2}],
    "macd": [{"fastperiod": 5, "slowperiod": 13, "signalperiod": 4},
             {"fastperiod": 26, "slowperiod": 12, "signalperiod": 1}],
    "bbands": [{"timeperiod": 5, "nbdevup": 1.5, "nbdevdn": 2.5}, {"timeperiod": 2}],
    "atr": [{"timeperiod": 5}, {"timeperiod": 1}],
    "natr": [{"timeperiod": 5}, {"timeperiod": 1}],
    "stoch": [{"fastk_period": 14, "slowk_period": 3, "slowd_period": 3},
              {"fastk_period": 3, "slowk_period": 1, "slowd_period": 1}],
    "stochrsi": [{"timeperiod": 7, "fastk_period": 7, "fastd_period": 1}, {"timeperiod": 2, "fastk_period": 3}],
    "adx": [{"timeperiod": 5}, {"timeperiod": 2}],
    "plus_di": [{"timeperiod": 5}, {"timeperiod": 1}],
    "minus_di": [{"timeperiod": 5}, {"timeperiod": 1}],
    "cci": [{"timeperiod": 20}, {"timeperiod": 2}],
    "obv": [],
    "mfi": [{"timeperiod": 5}, {"timeperiod": 2}],
    "willr": [{"timeperiod": 5}, {"timeperiod": 2}],
    "roc": [{"timeperiod": 3}, {"timeperiod": 1}],
    "trix": [{"timeperiod": 5}, {"timeperiod": 1}],
    "vwap": [],
}
PARAM_SETS = [(ind.name, params) for ind in INDICATORS for params in [{}] + NON_DEFAULT[ind.name]]


def _param_id(params: dict) -> str:
    return ",".join(f"{k}={v}" for k, v in params.items()) or "defaults"


# --------------------------------------------------------------------------------------------
# Calling SQL and TA-Lib, comparing
# --------------------------------------------------------------------------------------------


def _to_sql(series: np.ndarray) -> list[float | None]:
    return [None if math.isnan(v) else float(v) for v in series]


def call_sql(conn, ind: Indicator, data: dict[str, np.ndarray], params: dict) -> list[np.ndarray]:
    args = ", ".join(["%b::float8[]"] * len(ind.inputs) + [f"{k} => %b" for k in params])
    row = conn.execute(
        f"select * from ta.{ind.name}({args})",
        [_to_sql(data[s]) for s in ind.inputs] + list(params.values()),
        binary=True,
    ).fetchone()
    return [np.array([np.nan if v is None else v for v in col], dtype=float) for col in row]


def call_talib(ind: Indicator, data: dict[str, np.ndarray], params: dict) -> list[np.ndarray]:
    out = ind.talib_function(*[np.asarray(data[s], dtype=float) for s in ind.inputs], **params)
    return list(out) if isinstance(out, tuple) else [out]


def assert_matches(ind: Indicator, data: dict[str, np.ndarray], params: dict, conn) -> None:
    expected = call_talib(ind, data, params)
    got = call_sql(conn, ind, data, params)
    assert len(got) == len(expected)
    finite = np.concatenate([np.abs(data[s][np.isfinite(data[s])]) for s in ind.inputs] + [np.zeros(1)])
    atol = 1e-12 * max(1.0, float(finite.max())) if ind.price_units else 1e-9
    for k, (g, e) in enumerate(zip(got, expected)):
        assert g.shape == e.shape, f"ta.{ind.name} output {k}: length {g.shape} != {e.shape}"
        null_mismatch = np.flatnonzero(np.isnan(g) != np.isnan(e))
        assert null_mismatch.size == 0, (
            f"ta.{ind.name}({_param_id(params)}) output {k}: NULL/NaN differ at {null_mismatch[:10].tolist()}: "
            f"sql={g[null_mismatch[:5]].tolist()} talib={e[null_mismatch[:5]].tolist()}"
        )
        both = ~np.isnan(e)
        bad = np.flatnonzero(both & ~np.isclose(g, e, rtol=RTOL, atol=atol, equal_nan=True))
        assert bad.size == 0, (
            f"ta.{ind.name}({_param_id(params)}) output {k}: values differ at {bad[:10].tolist()}: "
            f"sql={g[bad[:5]].tolist()} talib={e[bad[:5]].tolist()}"
        )


# --------------------------------------------------------------------------------------------
# Data sets
# --------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=None)
def _trades(path: Path) -> tuple[tuple[int, float, float], ...]:
    """(trade ms, price, quantity) of every `<sym>@trade` message of a capture file."""
    trades = []
    with gzip.open(path, "rt") as fh:
        for line in fh:
            _, _, payload = line.partition(" ")
            msg = json.loads(payload)
            if msg.get("stream", "").endswith("@trade"):
                d = msg["data"]
                trades.append((int(d["T"]), float(d["p"]), float(d["q"])))
    trades.sort()
    return tuple(trades)


@functools.lru_cache(maxsize=None)
def real_bars(path: Path, bar_ms: int) -> dict[str, np.ndarray]:
    """OHLCV bars of bar_ms from one capture; a bar without trades is flat at the last close, volume 0."""
    trades = _trades(path)
    first, last = trades[0][0] // bar_ms, trades[-1][0] // bar_ms
    n = last - first + 1
    o, h, l, c, v = (np.full(n, np.nan) for _ in range(5))
    v[:] = 0.0
    for ts, price, qty in trades:
        i = ts // bar_ms - first
        if np.isnan(o[i]):
            o[i] = h[i] = l[i] = price
        h[i] = max(h[i], price)
        l[i] = min(l[i], price)
        c[i] = price
        v[i] += qty
    for i in range(n):
        if np.isnan(c[i]):
            o[i] = h[i] = l[i] = c[i] = c[i - 1]
    return {"open": o, "high": h, "low": l, "close": c, "volume": v}


CAPTURES = sorted(DATA_DIR.glob("*.ws.gz"))


def synthetic(n: int, seed: int, start: float = 100.0) -> dict[str, np.ndarray]:
    """Seeded GBM with GARCH(1,1)-like volatility clustering; high/low around open/close."""
    rng = np.random.default_rng(seed)
    var = np.empty(n)
    ret = np.empty(n)
    v = 1e-4
    for i in range(n):
        var[i] = v
        ret[i] = math.sqrt(v) * rng.standard_normal()
        v = 2e-6 + 0.9 * v + 0.08 * ret[i] ** 2
    close = start * np.exp(np.cumsum(ret))
    open_ = np.concatenate([[start], close[:-1]])
    spread = np.sqrt(var) * close
    high = np.maximum(open_, close) + np.abs(rng.standard_normal(n)) * spread
    low = np.minimum(open_, close) - np.abs(rng.standard_normal(n)) * spread
    volume = np.round(rng.lognormal(3.0, 1.0, n), 3)
    volume[rng.random(n) < 0.02] = 0.0
    return {"open": open_, "high": high, "low": low, "close": close, "volume": volume}


def _ohlcv(close: np.ndarray, high=None, low=None, volume=None) -> dict[str, np.ndarray]:
    close = np.asarray(close, dtype=float)
    return {
        "high": close.copy() if high is None else np.asarray(high, dtype=float),
        "low": close.copy() if low is None else np.asarray(low, dtype=float),
        "close": close,
        "volume": np.full(close.shape, 10.0) if volume is None else np.asarray(volume, dtype=float),
    }


def _scaled(base: dict[str, np.ndarray], factor: float) -> dict[str, np.ndarray]:
    return {k: (v * factor if k != "volume" else v) for k, v in base.items()}


def _with_nulls(base: dict[str, np.ndarray], where: dict[str, list[int]], leading: int = 0) -> dict[str, np.ndarray]:
    data = {k: v.copy() for k, v in base.items()}
    for series, positions in where.items():
        data[series][positions] = np.nan
    for v in data.values():
        v[:leading] = np.nan
    return data


def adversarial() -> dict[str, dict[str, np.ndarray]]:
    rng = np.random.default_rng(20240808)
    base = synthetic(400, seed=7)
    flat = _ohlcv(np.full(120, 101.37))
    steps = np.round(100 + np.cumsum(rng.integers(-1, 2, 300)) * 0.25, 2)
    jumps = np.ones(400)
    jumps[100:] *= 10.0  # gap up x10
    jumps[250:] /= 40.0  # gap down x40
    cases = {
        "flat": flat,
        "flat_then_moves": _ohlcv(np.concatenate([np.full(60, 50.0), 50 + np.cumsum(rng.standard_normal(60))])),
        "moves_then_flat": _ohlcv(np.concatenate([50 + np.cumsum(rng.standard_normal(60)), np.full(80, 49.5)])),
        "steps_with_equal_closes": _ohlcv(steps, steps + 0.25 * rng.integers(0, 2, 300),
                                          steps - 0.25 * rng.integers(0, 2, 300)),
        "monotonic_ramp": _ohlcv(np.arange(1.0, 1501.0)),
        # long one-sided or flat stretches: Wilder/EMA states decay into subnormal numbers
        "long_downtrend": _ohlcv(100 * np.exp(-0.001 * np.arange(2500)), 100.1 * np.exp(-0.001 * np.arange(2500)),
                                 99.9 * np.exp(-0.001 * np.arange(2500))),
        "long_flat_after_moves": _ohlcv(np.concatenate([50 + np.cumsum(rng.standard_normal(60)), np.full(3000, 49.5)]),
                                        volume=np.concatenate([np.full(60, 5.0), np.zeros(3000)])),
        "decay_to_zero": _ohlcv(np.concatenate([np.full(20, 3.0), np.zeros(1500)]),
                                volume=np.concatenate([np.full(20, 3.0), np.zeros(1500)])),
        # ~10,000 identical bars take period-14 states deep into subnormal numbers
        "very_long_flat": _ohlcv(np.concatenate([50 + np.cumsum(rng.standard_normal(60)), np.full(10_500, 49.5)])),
        "zero_volume": {**base, "volume": np.zeros(400)},
        "zero_volume_stretches": {**base, "volume": np.where((np.arange(400) // 50) % 2 == 0, 0.0, base["volume"])},
        "jumps": {**{k: v * jumps for k, v in base.items() if k != "volume"}, "volume": base["volume"]},
        "tiny_prices": _scaled(base, 1e-8),
        "huge_prices": _scaled(base, 1e6),
        "price_1e8": _scaled(synthetic(400, seed=8, start=1.0), 1e8),
        "close_outside_range": _ohlcv(rng.integers(1, 6, 200).astype(float), rng.integers(1, 6, 200).astype(float),
                                      rng.integers(1, 6, 200).astype(float), rng.integers(0, 3, 200).astype(float)),
        "zero_prices": _ohlcv(rng.integers(0, 3, 200).astype(float)),
        "length_0": _ohlcv(np.array([])),
        "length_1": _ohlcv(np.array([42.0])),
        "length_2": _ohlcv(np.array([42.0, 43.5]), np.array([43.0, 44.0]), np.array([41.0, 42.0])),
        "shorter_than_lookback": {k: v[:9] for k, v in base.items()},
        "leading_nulls": _with_nulls(base, {}, leading=25),
        "interior_null_close": _with_nulls(base, {"close": [60, 61, 250]}),
        "interior_null_high_low": _with_nulls(base, {"high": [40, 180], "low": [90, 300]}),
        "interior_null_volume": _with_nulls(base, {"volume": [70, 200]}),
        "nulls_everywhere": _with_nulls(base, {"close": [33, 150], "high": [77], "low": [210], "volume": [300]},
                                        leading=5),
        "all_null": _with_nulls(base, {}, leading=400),
        "flat_with_null": _with_nulls(flat, {"close": [70], "high": [71], "low": [71]}),
    }
    return cases


ADVERSARIAL = adversarial()


# --------------------------------------------------------------------------------------------
# Oracle tests
# --------------------------------------------------------------------------------------------


def assert_matches_all_param_sets(ind: Indicator, data: dict[str, np.ndarray], conn) -> None:
    """The defaults and every non-default parameter set of NON_DEFAULT; reports all failures."""
    failures = []
    for params in [{}] + NON_DEFAULT[ind.name]:
        try:
            assert_matches(ind, data, params, conn)
        except AssertionError as exc:
            failures.append(str(exc))
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("bar_ms", [1000, 250], ids=["1s", "250ms"])
@pytest.mark.parametrize("capture", CAPTURES, ids=[p.name.split(".")[0] for p in CAPTURES])
@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_matches_talib_on_real_candles(conn, name: str, capture: Path, bar_ms: int) -> None:
    data = real_bars(capture, bar_ms)
    assert len(data["close"]) > 250
    assert_matches_all_param_sets(BY_NAME[name], data, conn)


def test_real_candle_sets_are_a_few_thousand_bars() -> None:
    assert len(CAPTURES) == 4
    assert sum(len(real_bars(p, 1000)["close"]) for p in CAPTURES) > 1200
    assert sum(len(real_bars(p, 250)["close"]) for p in CAPTURES) > 4000


@pytest.mark.parametrize(("name", "params"), PARAM_SETS, ids=[f"{n}[{_param_id(p)}]" for n, p in PARAM_SETS])
def test_matches_talib_on_long_synthetic_series(conn, name: str, params: dict) -> None:
    assert_matches(BY_NAME[name], synthetic(12_000, seed=42), params, conn)


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_matches_talib_on_adversarial_input(conn, name: str) -> None:
    """Every adversarial case of ADVERSARIAL, defaults and non-default parameters; lists all failures."""
    failures = []
    for case in sorted(ADVERSARIAL):
        try:
            assert_matches_all_param_sets(BY_NAME[name], ADVERSARIAL[case], conn)
        except AssertionError as exc:
            failures.append(f"[{case}] {exc}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_nan_input_behaves_as_null(conn, name: str) -> None:
    ind = BY_NAME[name]
    data = _with_nulls(synthetic(200, seed=3), {"close": [50], "high": [120], "volume": [150]}, leading=3)
    args = ", ".join(["%s::float8[]"] * len(ind.inputs))
    with_nan = conn.execute(
        f"select * from ta.{name}({args})", [[float(v) for v in data[s]] for s in ind.inputs]
    ).fetchone()
    with_null = conn.execute(f"select * from ta.{name}({args})", [_to_sql(data[s]) for s in ind.inputs]).fetchone()
    assert with_nan == with_null


# --------------------------------------------------------------------------------------------
# Property tests
# --------------------------------------------------------------------------------------------


@st.composite
def series_and_params(draw, ind: Indicator):
    n = draw(st.integers(min_value=0, max_value=250))
    seed = draw(st.integers(min_value=0, max_value=2**32 - 1))
    scale = draw(st.sampled_from([1e-8, 1.0, 100.0, 1e6]))
    data = _scaled(synthetic(n, seed=seed), scale) if n else _ohlcv(np.array([]))
    if n and draw(st.booleans()):
        positions = draw(st.lists(st.integers(min_value=0, max_value=n - 1), max_size=4))
        series = draw(st.lists(st.sampled_from(ind.inputs), min_size=len(positions), max_size=len(positions)))
        for s, p in zip(series, positions):
            data[s][p] = np.nan
    params = {}
    for p, (lo, hi) in ind.params.items():
        if isinstance(lo, float):
            params[p] = draw(st.floats(min_value=lo, max_value=hi, allow_nan=False))
        else:
            params[p] = draw(st.integers(min_value=lo, max_value=hi))
    return data, params


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_matches_talib_on_random_series_and_periods(conn, name: str) -> None:
    ind = BY_NAME[name]

    @settings(max_examples=60, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(series_and_params(ind))
    def check(case) -> None:
        data, params = case
        assert_matches(ind, data, params, conn)

    check()
