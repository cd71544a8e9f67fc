"""The scorer: train a model on the dbt marts and register it, and score bars with a registered
model, COPYing the class probabilities back into signals.model_scores (the dbt model
signals.ml_signals turns them into trading signals).

    record = train(conn, TrainRequest(name="hgb_1h", model_type="hist_gradient_boosting", timeframe="1h"))
    result = score(conn, "hgb_1h")          # newest version; or "hgb_1h@2", or a model id

Training reads features.candle_features joined with features.candle_labels for the bars whose
label is known by the end of the window (models_py/data.py), validates in time order
(models_py/pipeline.py) and registers the model with its window, features, label, metrics and
artifact sha256 (models_py/registry.py). Scoring re-reads the model's features for a window,
applies predict_proba and replaces that window's scores (delete + COPY in one transaction).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import psycopg

from loaders.core import pgcopy
from models_py import data, datasets, registry
from models_py.data import Bars, DataError, LabelSpec
from models_py.pipeline import MLPipeline

SCORE_COLUMNS = [("model_id", "int8"), ("instrument_id", "int4"), ("timeframe", "text"),
                 ("bar_time", "timestamptz"), ("class", "int4"), ("probability", "float8")]
COPY_SCORES = "copy signals.model_scores (model_id, instrument_id, timeframe, bar_time, class, probability)" \
              " from stdin (format binary)"


@dataclass
class TrainRequest:
    name: str
    model_type: str = "hist_gradient_boosting"
    timeframe: str = "1h"
    instruments: Sequence[str] | None = None
    start: datetime | None = None
    end: datetime | None = None
    features: Sequence[str] | None = None
    label: LabelSpec = field(default_factory=LabelSpec)
    params: Mapping[str, Any] | None = None
    tune_grid: Mapping[str, Sequence[Any]] | None = None
    val_split: float = 0.2
    cv: int = 3
    random_state: int = 0
    signal_threshold: float | None = None
    snapshot: bool = False
    snapshot_dir: str | Path | None = None
    dataset: str | Path | None = None
    artifact_dir: str | Path | None = None


@dataclass
class ScoreResult:
    model: registry.ModelRecord
    bars: int
    rows: int
    replaced: int
    first_bar: datetime | None
    last_bar: datetime | None
    seconds: dict[str, float]


def _training_bars(conn: psycopg.Connection, req: TrainRequest) -> tuple[Bars, list[int], LabelSpec, str | None]:
    """The labelled bars to train on: from a snapshot (given, or exported now), else the marts."""
    if req.dataset is not None:
        bars, manifest = datasets.load_snapshot(req.dataset)
        asked = manifest["request"]
        label = LabelSpec.from_json(asked["label"])
        if asked["timeframe"] != req.timeframe:
            raise DataError(f"the dataset holds {asked['timeframe']} bars, not {req.timeframe}")
        return bars, asked["instrument_ids"], label, manifest["sha256"]
    features = data.check_features(conn, req.features)
    ids = data.resolve_instruments(conn, req.instruments, req.timeframe)
    if req.snapshot:
        snap = datasets.export(conn, datasets.DatasetRequest(req.timeframe, ids, req.start, req.end, features,
                                                             req.label), req.snapshot_dir)
        bars, manifest = datasets.load_snapshot(snap.manifest_path)
        return bars, ids, req.label, manifest["sha256"]
    return data.read_labeled(conn, req.timeframe, ids, features, req.label, req.start, req.end), ids, req.label, None


def train(conn: psycopg.Connection, req: TrainRequest) -> registry.ModelRecord:
    """Fit (or tune then fit) the model on the window and register it; the caller commits."""
    registry.check_name(req.name)
    bars, ids, label, dataset_sha = _training_bars(conn, req)
    if len(bars) == 0:
        raise DataError(f"no {req.timeframe} bars with a {label.horizon_bars}-bar label known in the window: "
                        "nothing to train on")
    y = label.classes_of(bars.forward_return)
    pipe = MLPipeline(req.model_type, req.params, label_horizon=label.horizon_bars,
                      random_state=req.random_state, feature_names=bars.features)
    if req.tune_grid:
        pipe.tune(bars.X, y, req.tune_grid, cv=max(2, req.cv), times=bars.open_time_us)
    tuning = pipe.metrics.get("tuning")
    pipe.fit(bars.X, y, val_split=req.val_split, cv=req.cv, times=bars.open_time_us)
    if tuning:
        pipe.metrics["tuning"] = tuning
    symbol = None
    if len(ids) == 1:
        symbol = conn.execute("select symbol from market.instruments where instrument_id = %s", (ids[0],)).fetchone()[0]
    data_end = req.end or data.from_us(bars.known_at_us.max())
    return registry.register(
        conn, pipe, name=req.name, timeframe=req.timeframe, instrument_ids=list(ids),
        data_start=data.from_us(bars.open_time_us.min()), data_end=data_end, training_rows=len(bars),
        label=label.as_json(), symbol=symbol, signal_threshold=req.signal_threshold, dataset_sha256=dataset_sha,
        artifact_dir=req.artifact_dir,
    )


def score_rows(model_id: int, timeframe: str, bars: Bars, proba: np.ndarray, classes: np.ndarray) -> bytes:
    """COPY BINARY payload of the score rows: every bar times every class."""
    n, k = proba.shape
    return pgcopy.encode(SCORE_COLUMNS, {
        "model_id": np.full(n * k, model_id, dtype=np.int64),
        "instrument_id": np.repeat(bars.instrument_id, k),
        "timeframe": np.full(n * k, timeframe.encode(), dtype=f"S{len(timeframe.encode())}"),
        "bar_time": np.repeat(bars.open_time_us, k),
        "class": np.tile(np.asarray(classes, dtype=np.int32), n),
        "probability": np.clip(proba, 0.0, 1.0).reshape(-1),
    })


def write_scores(conn: psycopg.Connection, payload: bytes) -> None:
    with conn.cursor().copy(COPY_SCORES) as copy:
        copy.write(payload)


def score(conn: psycopg.Connection, ref: int | str, *, instruments: Sequence[str] | None = None,
          start: datetime | None = None, end: datetime | None = None) -> ScoreResult:
    """Score the bars of the model's timeframe and instruments (or the ones given) with open time in
    [start, end]; the scores already stored for that model, those instruments and that span are
    replaced. The caller commits."""
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    record, pipe = registry.load(conn, ref)
    seconds["load"] = time.perf_counter() - t0
    ids = data.resolve_instruments(conn, instruments, record.timeframe) if instruments else record.instrument_ids
    data.check_features(conn, record.features)
    t0 = time.perf_counter()
    bars = data.read_features(conn, record.timeframe, ids, record.features, start, end)
    seconds["read"] = time.perf_counter() - t0
    if not len(bars):
        return ScoreResult(record, 0, 0, 0, None, None, seconds)
    t0 = time.perf_counter()
    proba = pipe.predict_proba(bars.X)
    seconds["predict_proba"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    payload = score_rows(record.model_id, record.timeframe, bars, proba, pipe.classes_)
    seconds["encode"] = time.perf_counter() - t0
    first, last = data.from_us(bars.open_time_us.min()), data.from_us(bars.open_time_us.max())
    t0 = time.perf_counter()
    replaced = conn.execute(
        "delete from signals.model_scores where model_id = %s and timeframe = %s and instrument_id = any(%s)"
        " and bar_time between %s and %s", (record.model_id, record.timeframe, list(ids), first, last)).rowcount
    seconds["delete"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    write_scores(conn, payload)
    seconds["copy"] = time.perf_counter() - t0
    return ScoreResult(record, len(bars), proba.size, replaced, first, last, seconds)
