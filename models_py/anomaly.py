"""Anomaly detection (seed 001 DataCleaner's Isolation Forest) over features.candle_features: one
forest per instrument over the bars of a timeframe and window, an anomaly score and a flag per
bar written to signals.bar_anomalies (run recorded in signals.anomaly_runs), shown in
bi.bar_anomalies.

anomaly_score is the Isolation Forest paper's score (0-1, higher = more abnormal; scikit-learn's
-score_samples); decision is scikit-learn's decision_function (negative = anomaly at the chosen
contamination; contamination None = scikit-learn's 'auto' threshold). Bars that lack one of the
features (the first bars of a series, inside the indicators' lookback) are not scored.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import psycopg

from loaders.core import pgcopy
from models_py import data
from models_py.data import DataError

ANOMALY_COLUMNS = [("instrument_id", "int4"), ("timeframe", "text"), ("open_time", "timestamptz"),
                   ("run_id", "int8"), ("anomaly_score", "float8"), ("decision", "float8"), ("is_anomaly", "bool")]


@dataclass
class AnomalyResult:
    run_id: int
    bars: int
    anomalies: int
    skipped: int
    contamination: float | None


def isolation_scores(X: np.ndarray, *, contamination: float | None, n_estimators: int,
                     random_state: int) -> tuple[np.ndarray, np.ndarray]:
    """(anomaly score 0-1, decision function) of every row, from a forest fitted on those rows."""
    from sklearn.ensemble import IsolationForest

    forest = IsolationForest(n_estimators=n_estimators, contamination="auto" if contamination is None else contamination,
                             random_state=random_state)
    forest.fit(X)
    return -forest.score_samples(X), forest.decision_function(X)


def detect(conn: psycopg.Connection, timeframe: str, *, instruments: Sequence[str] | None = None,
           start: datetime | None = None, end: datetime | None = None, features: Sequence[str] | None = None,
           contamination: float | None = 0.01, n_estimators: int = 200, random_state: int = 0) -> AnomalyResult:
    """Score the bars and replace the stored flags of those instruments, timeframe and window; the
    caller commits."""
    if contamination is not None and not 0 < contamination <= 0.5:
        raise DataError(f"contamination must be in (0, 0.5] or auto (got {contamination})")
    if n_estimators < 1:
        raise DataError("n_estimators must be at least 1")
    features = data.check_features(conn, features, default=data.DEFAULT_ANOMALY_FEATURES)
    ids = data.resolve_instruments(conn, instruments, timeframe)
    bars = data.read_features(conn, timeframe, ids, features, start, end)
    complete = np.isfinite(bars.X).all(axis=1)
    parts = {"instrument_id": [], "open_time": [], "anomaly_score": [], "decision": []}
    for inst in np.unique(bars.instrument_id[complete]):
        rows = np.flatnonzero(complete & (bars.instrument_id == inst))
        if len(rows) < 2:
            continue
        score, decision = isolation_scores(bars.X[rows], contamination=contamination, n_estimators=n_estimators,
                                           random_state=random_state)
        parts["instrument_id"].append(bars.instrument_id[rows])
        parts["open_time"].append(bars.open_time_us[rows])
        parts["anomaly_score"].append(score)
        parts["decision"].append(decision)
    if not parts["instrument_id"]:
        raise DataError(f"no {timeframe} bars with every feature ({', '.join(features)}) in the window: nothing to score")
    cols = {k: np.concatenate(v) for k, v in parts.items()}
    n = len(cols["instrument_id"])
    flagged = cols["decision"] < 0
    window_start, window_end = data.from_us(cols["open_time"].min()), data.from_us(cols["open_time"].max())
    run_id = conn.execute(
        """
        insert into signals.anomaly_runs (timeframe, instrument_ids, window_start, window_end, features,
                                          contamination, parameters, bars, anomalies)
        values (%s, %s, %s, %s, %s, %s, %s::jsonb, %s, %s) returning run_id
        """,
        (timeframe, [int(i) for i in ids], window_start, window_end, list(features), contamination,
         json.dumps({"n_estimators": n_estimators, "random_state": random_state, "one_forest_per": "instrument"}),
         n, int(flagged.sum())),
    ).fetchone()[0]
    conn.execute(
        "delete from signals.bar_anomalies where timeframe = %s and instrument_id = any(%s)"
        " and open_time between %s and %s", (timeframe, [int(i) for i in ids], window_start, window_end))
    payload = pgcopy.encode(ANOMALY_COLUMNS, {
        "instrument_id": cols["instrument_id"],
        "timeframe": np.full(n, timeframe.encode(), dtype=f"S{len(timeframe.encode())}"),
        "open_time": cols["open_time"],
        "run_id": np.full(n, run_id, dtype=np.int64),
        "anomaly_score": cols["anomaly_score"],
        "decision": cols["decision"],
        "is_anomaly": flagged,
    })
    with conn.cursor().copy("copy signals.bar_anomalies (instrument_id, timeframe, open_time, run_id, anomaly_score,"
                            " decision, is_anomaly) from stdin (format binary)") as copy:
        copy.write(payload)
    return AnomalyResult(run_id, n, int(flagged.sum()), int((~complete).sum()), contamination)
