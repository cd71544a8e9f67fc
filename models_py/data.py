"""Reading the dbt marts for the scorer: features.candle_features (closed-bar, point-in-time) and
features.candle_labels (look-ahead), by binary COPY straight into numpy (loaders.core.pgcopy), so a
million bars take a second or two rather than a Python object per value.

A training row is a bar whose label is *known* by the end of the training window
(`candle_labels.known_at <= end`): the label of a bar near the end reads closes after it, and a
training set that took it would see past its window. Feature NULLs (indicator lookback) arrive as
NaN.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import numpy as np
import psycopg
from psycopg import sql

from db.errors import UserError
from loaders.core import pgcopy

FEATURES_RELATION = ("features", "candle_features")
LABELS_RELATION = ("features", "candle_labels")

#: Scale-free features (returns, volatility, oscillators, distances), the default model input.
DEFAULT_FEATURES = (
    "ret_1", "ret_5", "ret_20", "log_ret_1", "volatility_20", "volatility_60", "volume_zscore_20",
    "range_pct", "body_pct", "rsi_14", "bb_pctb_20", "bb_width_20", "natr_14", "adx_14", "plus_di_14",
    "minus_di_14", "stoch_k", "stoch_d", "vwap_distance",
)
#: What the Isolation Forest looks at by default: how unusual a bar's move, range and volume are.
DEFAULT_ANOMALY_FEATURES = ("log_ret_1", "range_pct", "body_pct", "volume_zscore_20", "volatility_20")
NUMERIC_TYPES = {"double precision", "real", "integer", "bigint", "smallint", "numeric", "boolean"}


class DataError(UserError):
    """A data request the user can fix (unknown instrument or feature, empty window)."""


@dataclass(frozen=True)
class LabelSpec:
    """Classes from features.candle_labels.forward_return at horizon_bars: 1 when the return is
    above min_abs_return, -1 below -min_abs_return, else 0."""

    horizon_bars: int = 5
    min_abs_return: float = 0.0
    kind: str = "direction"

    def classes_of(self, forward_return: np.ndarray) -> np.ndarray:
        r = np.asarray(forward_return, dtype=float)
        return np.where(r > self.min_abs_return, 1, np.where(r < -self.min_abs_return, -1, 0)).astype(np.int64)

    def as_json(self) -> dict[str, Any]:
        return {"source": "features.candle_labels", "kind": self.kind, "horizon_bars": self.horizon_bars,
                "min_abs_return": self.min_abs_return}

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> LabelSpec:
        return cls(int(value["horizon_bars"]), float(value.get("min_abs_return", 0.0)), value.get("kind", "direction"))


@dataclass
class Bars:
    """Rows of the marts: instrument, bar open time (Unix microseconds), features, optional label."""

    instrument_id: np.ndarray
    open_time_us: np.ndarray
    X: np.ndarray
    features: list[str]
    forward_return: np.ndarray | None = None
    known_at_us: np.ndarray | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.instrument_id)


def to_us(value: datetime | None) -> int | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return int(round(value.timestamp() * 1_000_000))


def from_us(value: int) -> datetime:
    return datetime.fromtimestamp(int(value) / 1_000_000, tz=timezone.utc)


def parse_time(text: str | None) -> datetime | None:
    """An ISO 8601 date or time (UTC unless it says otherwise), or None."""
    if text in (None, ""):
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise DataError(f"{text!r} is not a date or time (expected e.g. 2024-03-01 or 2024-03-01T12:00)") from None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def require_marts(conn: psycopg.Connection) -> None:
    row = conn.execute("select to_regclass('features.candle_features'), to_regclass('features.candle_labels')").fetchone()
    if row[0] is None or row[1] is None:
        raise DataError("the features marts do not exist yet: build them with make dbt "
                        "(python -m db.dbt_runner --maintain build)")


def feature_types(conn: psycopg.Connection) -> dict[str, str]:
    """Columns of features.candle_features that can be a model input, with their types."""
    rows = conn.execute(
        "select column_name, data_type from information_schema.columns"
        " where table_schema = %s and table_name = %s order by ordinal_position", FEATURES_RELATION
    ).fetchall()
    keys = {"instrument_id", "timeframe", "open_time", "bar_seconds"}
    return {name: kind for name, kind in rows if kind in NUMERIC_TYPES and name not in keys}


def check_features(conn: psycopg.Connection, names: Sequence[str] | None, default=DEFAULT_FEATURES) -> list[str]:
    require_marts(conn)
    known = feature_types(conn)
    chosen = list(names or default)
    if not chosen:
        raise DataError("no feature columns given")
    for name in chosen:
        if name not in known:
            raise DataError(f"features.candle_features has no numeric column {name!r} "
                            f"(e.g. {', '.join(list(known)[:6])}, …)")
    if len(set(chosen)) != len(chosen):
        raise DataError("a feature column is listed twice")
    return chosen


def resolve_instruments(conn: psycopg.Connection, specs: Sequence[str] | None, timeframe: str) -> list[int]:
    """Instrument ids from `exchange:SYMBOL` (or numeric id) specs; none given: every instrument that
    has features in the timeframe."""
    require_marts(conn)
    if not specs:
        ids = [r[0] for r in conn.execute(
            "select distinct instrument_id from features.candle_features where timeframe = %s order by 1",
            (timeframe,))]
        if not ids:
            raise DataError(f"features.candle_features has no {timeframe} bars (run make dbt after loading candles)")
        return ids
    ids = []
    for spec in specs:
        if spec.isdigit():
            row = conn.execute("select instrument_id from market.instruments where instrument_id = %s",
                               (int(spec),)).fetchone()
        elif ":" in spec:
            exchange, symbol = spec.split(":", 1)
            row = conn.execute(
                "select instrument_id from market.instruments where exchange = %s and %s in (symbol, exchange_symbol)",
                (exchange.lower(), symbol)).fetchone()
        else:
            raise DataError(f"instrument {spec!r}: give it as exchange:SYMBOL (e.g. binance:BTC/USDT) or its id")
        if row is None:
            raise DataError(f"unknown instrument {spec!r} (market.instruments)")
        ids.append(row[0])
    return sorted(set(ids))


def _feature_exprs(features: Sequence[str], types: dict[str, str], alias: str) -> list[sql.Composable]:
    out = []
    for name in features:
        col = sql.SQL("{}.{}").format(sql.Identifier(alias), sql.Identifier(name))
        if types[name] == "boolean":
            col = sql.SQL("{}::integer").format(col)
        out.append(sql.SQL("coalesce({}::float8, 'NaN'::float8)").format(col))
    return out


def copy_binary(conn: psycopg.Connection, query: sql.Composable, params: Sequence[Any]) -> bytes:
    """The rows of `query` as one COPY BINARY payload."""
    statement = sql.SQL("copy ({}) to stdout (format binary)").format(query)
    chunks = []
    with conn.cursor().copy(statement, params) as copy:
        for chunk in copy:
            chunks.append(bytes(chunk))
    return b"".join(chunks)


def _window(alias: str, start: datetime | None, end: datetime | None, column: str = "open_time"):
    parts, params = [], []
    if start is not None:
        parts.append(sql.SQL("{}.{} >= %s").format(sql.Identifier(alias), sql.Identifier(column)))
        params.append(start)
    if end is not None:
        parts.append(sql.SQL("{}.{} <= %s").format(sql.Identifier(alias), sql.Identifier(column)))
        params.append(end)
    return parts, params


def feature_query(conn: psycopg.Connection, timeframe: str, instrument_ids: Sequence[int], features: Sequence[str],
                  start: datetime | None = None, end: datetime | None = None) -> tuple[sql.Composed, list[Any]]:
    """Feature rows of the instruments and timeframe with open_time in [start, end], in time order."""
    types = feature_types(conn)
    where, params = _window("f", start, end)
    query = sql.SQL(
        "select f.instrument_id, f.open_time, {features} from features.candle_features as f"
        " where f.timeframe = %s and f.instrument_id = any(%s){window} order by f.open_time, f.instrument_id"
    ).format(features=sql.SQL(", ").join(_feature_exprs(features, types, "f")),
             window=sql.SQL("").join(sql.SQL(" and ") + w for w in where))
    return query, [timeframe, list(instrument_ids), *params]


def labeled_query(conn: psycopg.Connection, timeframe: str, instrument_ids: Sequence[int], features: Sequence[str],
                  label: LabelSpec, start: datetime | None = None,
                  end: datetime | None = None) -> tuple[sql.Composed, list[Any]]:
    """Feature rows joined with their label at the horizon, for bars from `start` whose label is
    known by `end` (known_at <= end), in time order."""
    types = feature_types(conn)
    where, params = _window("f", start, None)
    known, known_params = _window("l", None, end, column="known_at")
    query = sql.SQL(
        "select f.instrument_id, f.open_time, {features}, l.forward_return, l.known_at"
        " from features.candle_features as f"
        " inner join features.candle_labels as l"
        " on f.instrument_id = l.instrument_id and f.timeframe = l.timeframe and f.open_time = l.open_time"
        " where f.timeframe = %s and f.instrument_id = any(%s) and l.horizon_bars = %s{window}"
        " order by f.open_time, f.instrument_id"
    ).format(features=sql.SQL(", ").join(_feature_exprs(features, types, "f")),
             window=sql.SQL("").join(sql.SQL(" and ") + w for w in where + known))
    return query, [timeframe, list(instrument_ids), label.horizon_bars, *params, *known_params]


def read_features(conn: psycopg.Connection, timeframe: str, instrument_ids: Sequence[int], features: Sequence[str],
                  start: datetime | None = None, end: datetime | None = None) -> Bars:
    query, params = feature_query(conn, timeframe, instrument_ids, features, start, end)
    columns = [("instrument_id", "int4"), ("open_time", "timestamptz")] + [(f, "float8") for f in features]
    data = pgcopy.decode(columns, copy_binary(conn, query, params))
    X = np.column_stack([data[f] for f in features]) if len(data["instrument_id"]) else np.empty((0, len(features)))
    return Bars(data["instrument_id"], data["open_time"], X, list(features))


def read_labeled(conn: psycopg.Connection, timeframe: str, instrument_ids: Sequence[int], features: Sequence[str],
                 label: LabelSpec, start: datetime | None = None, end: datetime | None = None) -> Bars:
    query, params = labeled_query(conn, timeframe, instrument_ids, features, label, start, end)
    columns = ([("instrument_id", "int4"), ("open_time", "timestamptz")] + [(f, "float8") for f in features]
               + [("forward_return", "float8"), ("known_at", "timestamptz")])
    data = pgcopy.decode(columns, copy_binary(conn, query, params))
    X = np.column_stack([data[f] for f in features]) if len(data["instrument_id"]) else np.empty((0, len(features)))
    return Bars(data["instrument_id"], data["open_time"], X, list(features), data["forward_return"], data["known_at"])


def query_text(conn: psycopg.Connection, query: sql.Composed, params: Sequence[Any]) -> str:
    """The statement as the server runs it, parameters inlined (for manifests and logs)."""
    literal = sql.SQL(query.as_string(conn).replace("%s", "{}")).format(
        *[sql.Literal(json.dumps(p) if isinstance(p, dict) else p) for p in params])
    return literal.as_string(conn)
