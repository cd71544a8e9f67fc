"""PostgreSQL binary COPY from numpy columns, without a Python loop per row.

Rows are grouped by which nullable columns are NULL; each group is one numpy structured array
whose bytes are exactly the COPY BINARY tuple layout (big-endian field lengths and values), so
1M rows serialise in tens of milliseconds. Supported column types: timestamptz (int64
microseconds since the Unix epoch), int4, int8, float8 and char(1) (single ASCII characters).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

HEADER = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
TRAILER = (-1).to_bytes(2, "big", signed=True)
PG_EPOCH_US = 946_684_800_000_000  # 2000-01-01 in Unix microseconds

_DTYPES = {"timestamptz": ">i8", "int4": ">i4", "int8": ">i8", "float8": ">f8", "char1": "S1"}
_SIZES = {"timestamptz": 8, "int4": 4, "int8": 8, "float8": 8, "char1": 1}


def _null_mask(kind: str, values: np.ndarray) -> np.ndarray:
    if kind == "char1":
        if values.dtype.kind == "S":
            return values == b""
        return np.array([v is None or v == "" or v != v for v in values], dtype=bool)
    if kind == "float8":
        return np.isnan(values.astype(float))
    return np.zeros(len(values), dtype=bool)


def encode(columns: Sequence[tuple[str, str]], data: Mapping[str, np.ndarray],
           nullable: Sequence[str] = ()) -> bytes:
    """COPY BINARY payload (header, tuples, trailer) for `columns` [(name, kind)] taken from `data`.

    A column listed in `nullable` is NULL where its value is NaN (float8) or empty/None (char1,
    given as a numpy "S1" array with b"" for NULL, or an object array).
    """
    n = len(next(iter(data.values()))) if data else 0
    masks = {name: _null_mask(kind, np.asarray(data[name])) for name, kind in columns if name in nullable}
    if masks:
        codes = np.zeros(n, dtype=np.int64)
        for bit, name in enumerate(masks):
            codes |= masks[name].astype(np.int64) << bit
        groups = [(code, np.flatnonzero(codes == code)) for code in np.unique(codes)]
    else:
        groups = [(0, None)]
    parts = [HEADER]
    null_names = list(masks)
    for code, idx in groups:
        nulls = {name for bit, name in enumerate(null_names) if code >> bit & 1}
        fields: list[tuple[str, str]] = [("n", ">i2")]
        for i, (name, kind) in enumerate(columns):
            fields.append((f"l{i}", ">i4"))
            if name not in nulls:
                fields.append((f"v{i}", _DTYPES[kind]))
        rows = n if idx is None else len(idx)
        arr = np.empty(rows, dtype=np.dtype(fields))
        arr["n"] = len(columns)
        for i, (name, kind) in enumerate(columns):
            if name in nulls:
                arr[f"l{i}"] = -1
                continue
            arr[f"l{i}"] = _SIZES[kind]
            col = np.asarray(data[name])
            if idx is not None:
                col = col[idx]
            if kind == "timestamptz":
                arr[f"v{i}"] = col.astype(np.int64) - PG_EPOCH_US
            elif kind == "char1":
                arr[f"v{i}"] = col if col.dtype.kind == "S" else \
                    np.array([v if isinstance(v, bytes) else str(v).encode("ascii") for v in col], dtype="S1")
            else:
                arr[f"v{i}"] = col
        parts.append(arr.tobytes())
    parts.append(TRAILER)
    return b"".join(parts)

