"""Dataset snapshots (seed 001 DVC): a feature/label snapshot of instruments, a timeframe and a time
window written to data/features/ as Parquet with a JSON manifest (query, window, row count,
sha256). The same request on the same data gives the same bytes: rows in a fixed order, a fixed
schema and writer settings, no timestamps in the file. When `dvc` is on PATH the Parquet file is
`dvc add`ed (its .dvc file lands beside it). Training from a snapshot records its sha256 in the
registry (signals.model_registry.dataset_sha256).

    snap = export(conn, DatasetRequest("1h", [1, 2], start, end, features, LabelSpec(5)))
    bars, manifest = load_snapshot(snap.manifest_path)
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import psycopg

from db.errors import UserError
from models_py import data
from models_py.data import Bars, LabelSpec
from models_py.pipeline import sha256_file

DEFAULT_DIR = Path(__file__).resolve().parents[1] / "data" / "features"
FORMAT = "tsquant-features-1"


class DatasetError(UserError):
    """A snapshot that cannot be written or must not be used (changed since export)."""


@dataclass(frozen=True)
class DatasetRequest:
    timeframe: str
    instrument_ids: Sequence[int]
    start: datetime | None
    end: datetime | None
    features: Sequence[str]
    label: LabelSpec

    def key(self) -> dict[str, Any]:
        return {
            "timeframe": self.timeframe,
            "instrument_ids": sorted(int(i) for i in self.instrument_ids),
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
            "features": list(self.features),
            "label": self.label.as_json(),
        }

    def digest(self) -> str:
        return hashlib.sha256(json.dumps(self.key(), sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class Snapshot:
    path: Path
    manifest_path: Path
    sha256: str
    rows: int
    dvc_file: Path | None


def _table(bars: Bars):
    import pyarrow as pa

    columns = {
        "instrument_id": pa.array(bars.instrument_id.astype(np.int32), pa.int32()),
        "open_time": pa.array(bars.open_time_us.astype(np.int64), pa.int64()).cast(pa.timestamp("us", tz="UTC")),
    }
    for i, name in enumerate(bars.features):
        columns[name] = pa.array(bars.X[:, i], pa.float64())
    columns["forward_return"] = pa.array(bars.forward_return, pa.float64())
    columns["known_at"] = pa.array(bars.known_at_us.astype(np.int64), pa.int64()).cast(pa.timestamp("us", tz="UTC"))
    return pa.table(columns)


def _write_parquet(table, path: Path) -> None:
    """Deterministic Parquet: one writer version, fixed row groups and compression, no pandas metadata."""
    import pyarrow.parquet as pq

    pq.write_table(table.replace_schema_metadata(None), path, compression="zstd", compression_level=3,
                   row_group_size=256 * 1024, use_dictionary=False, write_statistics=True,
                   data_page_version="2.0", version="2.6")


def export(conn: psycopg.Connection, request: DatasetRequest, out_dir: str | Path | None = None) -> Snapshot:
    """Write the snapshot of `request` (Parquet + manifest, `dvc add` when dvc is installed)."""
    labeled_query, params = data.labeled_query(conn, request.timeframe, request.instrument_ids, request.features,
                                               request.label, request.start, request.end)
    bars = data.read_labeled(conn, request.timeframe, request.instrument_ids, request.features, request.label,
                             request.start, request.end)
    if not len(bars):
        raise DatasetError(f"no labelled {request.timeframe} bars in the window: nothing to export")
    import pyarrow as pa

    folder = Path(out_dir) if out_dir else DEFAULT_DIR
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{request.timeframe}_{request.digest()[:16]}"
    path = folder / f"{name}.parquet"
    tmp = path.with_name(path.name + ".tmp")
    table = _table(bars)
    _write_parquet(table, tmp)
    tmp.replace(path)
    sha = sha256_file(path)
    instruments = conn.execute(
        "select instrument_id, exchange, symbol from market.instruments where instrument_id = any(%s) order by 1",
        (list(request.instrument_ids),)).fetchall()
    manifest = {
        "format": FORMAT,
        "file": path.name,
        "sha256": sha,
        "rows": len(bars),
        "query": data.query_text(conn, labeled_query, params),
        "request": request.key(),
        "window": {"first_bar": data.from_us(bars.open_time_us.min()).isoformat(),
                   "last_bar": data.from_us(bars.open_time_us.max()).isoformat(),
                   "labels_known_by": data.from_us(bars.known_at_us.max()).isoformat()},
        "instruments": [{"instrument_id": i, "exchange": e, "symbol": s} for i, e, s in instruments],
        "columns": table.schema.names,
        "writer": {"pyarrow": pa.__version__},
    }
    manifest_path = folder / f"{name}.manifest.json"
    manifest_path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return Snapshot(path, manifest_path, sha, len(bars), dvc_add(path))


def dvc_add(path: Path) -> Path | None:
    """`dvc add` the file when dvc is installed (its .dvc file beside it); None without dvc."""
    dvc = shutil.which("dvc")
    if dvc is None:
        return None
    proc = subprocess.run([dvc, "add", path.name], cwd=path.parent, capture_output=True, text=True)
    if proc.returncode != 0:
        last = (proc.stderr or proc.stdout).strip().splitlines()
        raise DatasetError(f"dvc add {path.name} failed: {last[-1] if last else f'exit {proc.returncode}'}"
                           " (is this a DVC repository? run dvc init)")
    return path.with_name(path.name + ".dvc")


def load_snapshot(path: str | Path) -> tuple[Bars, dict[str, Any]]:
    """A snapshot by its manifest or Parquet path; refused when the file's sha256 is not the manifest's."""
    import pyarrow.parquet as pq

    path = Path(path)
    manifest_path = path if path.name.endswith(".manifest.json") else path.with_name(
        path.name.removesuffix(".parquet") + ".manifest.json")
    if not manifest_path.is_file():
        raise DatasetError(f"dataset manifest {manifest_path} does not exist (python -m models_py export writes it)")
    manifest = json.loads(manifest_path.read_text())
    if manifest.get("format") != FORMAT:
        raise DatasetError(f"{manifest_path} is not a tsquant dataset manifest")
    parquet = manifest_path.with_name(manifest["file"])
    if not parquet.is_file():
        raise DatasetError(f"dataset file {parquet} does not exist")
    actual = sha256_file(parquet)
    if actual != manifest["sha256"]:
        raise DatasetError(f"dataset file {parquet} has sha256 {actual[:12]}…, its manifest says "
                           f"{manifest['sha256'][:12]}…: it changed since export")
    table = pq.read_table(parquet)
    features = manifest["request"]["features"]

    def us(column: str) -> np.ndarray:
        return table.column(column).cast("int64").to_numpy()

    bars = Bars(
        instrument_id=table.column("instrument_id").to_numpy().astype(np.int32),
        open_time_us=us("open_time"),
        X=np.column_stack([table.column(f).to_numpy() for f in features]) if features else np.empty((len(table), 0)),
        features=list(features),
        forward_return=table.column("forward_return").to_numpy(),
        known_at_us=us("known_at"),
    )
    return bars, manifest
