"""The model registry (signals.model_registry): register a trained MLPipeline with its data window,
features, label, metrics and artifact (path + sha256), find a model by id, name or name@version,
and load it back, refusing an artifact whose sha256 is not the registered one.

Artifacts live under data/models/<name>/v<version>.<skops|pkl|pt> by default (data/ is not in
git); the registry row keeps the absolute path.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row

from db.errors import UserError
from models_py.pipeline import ARTIFACT_FORMATS, MLPipeline, _jsonable, library_versions

DEFAULT_ARTIFACT_DIR = Path(__file__).resolve().parents[1] / "data" / "models"
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,62}$")


class RegistryError(UserError):
    """A model reference that names nothing, or a name that is not allowed."""


@dataclass(frozen=True)
class ModelRecord:
    model_id: int
    model_name: str
    version: int
    model_type: str
    symbol: str | None
    instrument_ids: list[int]
    timeframe: str
    parameters: dict[str, Any]
    metrics: dict[str, Any]
    trained_at: datetime
    data_start: datetime
    data_end: datetime
    training_rows: int
    features: list[str]
    label: dict[str, Any]
    classes: list[int]
    signal_threshold: float | None
    artifact_path: str
    artifact_format: str
    artifact_sha256: str
    dataset_sha256: str | None
    library_versions: dict[str, Any]

    @property
    def ref(self) -> str:
        return f"{self.model_name}@{self.version}"


def check_name(name: str) -> str:
    if not NAME_RE.match(name or ""):
        raise RegistryError(f"model name {name!r} must be lower case letters, digits, _ . - (at most 63, "
                            "starting with a letter or digit)")
    return name


def register(conn: psycopg.Connection, pipe: MLPipeline, *, name: str, timeframe: str, instrument_ids: list[int],
             data_start: datetime, data_end: datetime, training_rows: int, label: dict[str, Any],
             symbol: str | None = None, signal_threshold: float | None = None, dataset_sha256: str | None = None,
             artifact_dir: str | Path | None = None) -> ModelRecord:
    """Save the pipeline's artifact as the next version of `name` and insert its registry row, in
    the caller's transaction (committed by the caller). Two trainings of one name get distinct
    versions (transaction-level advisory lock on the name)."""
    check_name(name)
    if signal_threshold is not None and not 0 < signal_threshold < 1:
        raise RegistryError(f"signal threshold must be between 0 and 1 (got {signal_threshold})")
    conn.execute("select pg_advisory_xact_lock(hashtextextended('tsquant.model_registry:' || %s, 0))", (name,))
    version = conn.execute("select coalesce(max(version), 0) + 1 from signals.model_registry where model_name = %s",
                           (name,)).fetchone()[0]
    folder = Path(artifact_dir) if artifact_dir else DEFAULT_ARTIFACT_DIR
    path = (folder / name / f"v{version}{ARTIFACT_FORMATS[pipe.artifact_format]}").resolve()
    sha = pipe.save(path)
    metrics = json.loads(json.dumps(pipe.metrics, default=_jsonable))
    params = json.loads(json.dumps(pipe.params, default=_jsonable))
    model_id = conn.execute(
        """
        insert into signals.model_registry (
            model_name, version, model_type, symbol, instrument_ids, timeframe, parameters, metrics,
            data_start, data_end, training_rows, features, label, classes, signal_threshold,
            artifact_path, artifact_format, artifact_sha256, dataset_sha256, library_versions
        ) values (%s, %s, %s, %s, %s, %s, %s::jsonb, %s::jsonb, %s, %s, %s, %s, %s::jsonb, %s, %s, %s, %s, %s, %s,
                  %s::jsonb)
        returning model_id
        """,
        (name, version, pipe.model_type, symbol, list(instrument_ids), timeframe, json.dumps(params),
         json.dumps(metrics), data_start, data_end, int(training_rows), list(pipe.feature_names), json.dumps(label),
         [int(c) for c in pipe.classes_], signal_threshold, str(path), pipe.artifact_format, sha, dataset_sha256,
         json.dumps(library_versions())),
    ).fetchone()[0]
    return get(conn, model_id)


_SELECT = "select * from signals.model_registry"


def get(conn: psycopg.Connection, ref: int | str) -> ModelRecord:
    """A model by id, by name (its newest version) or by name@version."""
    cur = conn.cursor(row_factory=dict_row)
    text = str(ref).strip()
    if text.isdigit():
        row = cur.execute(f"{_SELECT} where model_id = %s", (int(text),)).fetchone()
    elif "@" in text:
        name, _, version = text.partition("@")
        if not version.lstrip("v").isdigit():
            raise RegistryError(f"model {text!r}: the version after @ must be a number (e.g. {name}@2)")
        row = cur.execute(f"{_SELECT} where model_name = %s and version = %s",
                          (name, int(version.lstrip("v")))).fetchone()
    else:
        row = cur.execute(f"{_SELECT} where model_name = %s order by version desc limit 1", (text,)).fetchone()
    if row is None:
        raise RegistryError(f"no model {text!r} in signals.model_registry (python -m models_py models lists them)")
    return ModelRecord(**row)


def load(conn: psycopg.Connection, ref: int | str) -> tuple[ModelRecord, MLPipeline]:
    """The registered model and its pipeline; the artifact's sha256 must be the registered one."""
    record = get(conn, ref)
    pipe = MLPipeline().load(record.artifact_path, expected_sha256=record.artifact_sha256)
    return record, pipe


def list_models(conn: psycopg.Connection) -> list[ModelRecord]:
    cur = conn.cursor(row_factory=dict_row)
    return [ModelRecord(**row) for row in cur.execute(f"{_SELECT} order by model_name, version")]
