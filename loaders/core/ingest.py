"""Bulk ingest shared by every loader: validate, COPY, merge, quarantine, count.

One call of `load_batch` handles one batch inside the caller's transaction (savepoints inside):

1. validation (loaders.core.validate) routes impossible rows to market.quarantine with a reason;
   rows repeated inside the batch are duplicates (identical) or quarantined (conflicting);
2. fast path: rows newer than everything stored for their series (instrument[, timeframe]) are
   COPYed (binary) straight into the table; should that collide with a concurrent writer, the
   rows fall back to the merge path;
3. merge path: the other rows are COPYed into a temporary stage and classified against the
   stored rows in one join: new rows are inserted (ON CONFLICT DO NOTHING as a race guard),
   identical ones are duplicates, different ones are quarantined (conflicts_with_stored_row).

Counts always satisfy rows_in = loaded + quarantined + duplicate.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import psycopg
from psycopg import errors, sql

from loaders.core import pgcopy, validate


@dataclass(frozen=True)
class Dataset:
    name: str
    table: str
    columns: tuple[tuple[str, str], ...]  # (name, kind) kinds: timestamptz int4 int8 float8 char1 text
    key: tuple[str, ...]
    series: tuple[str, ...]
    time_col: str
    id_col: str | None
    values: tuple[str, ...]
    nullable: tuple[str, ...] = ()
    validator: object = None
    rollup_chain: str | None = None  # plain mode: which rollup chain rows of this dataset feed

    @property
    def names(self) -> list[str]:
        return [c for c, _ in self.columns]

    @property
    def binary(self) -> bool:
        return all(kind != "text" for _, kind in self.columns)

    @property
    def timeframe(self) -> bool:
        return "timeframe" in self.series


TRADES = Dataset(
    name="trades", table="market.trades",
    columns=(("time", "timestamptz"), ("instrument_id", "int4"), ("trade_id", "int8"),
             ("price", "float8"), ("quantity", "float8"), ("side", "char1")),
    key=("instrument_id", "time", "trade_id"), series=("instrument_id",), time_col="time",
    id_col="trade_id", values=("price", "quantity", "side"), nullable=("side",),
    validator=validate.validate_trades, rollup_chain="trade",
)
QUOTES = Dataset(
    name="quotes", table="market.quotes",
    columns=(("time", "timestamptz"), ("instrument_id", "int4"), ("update_id", "int8"),
             ("bid", "float8"), ("ask", "float8"), ("bid_size", "float8"), ("ask_size", "float8"),
             ("last", "float8"), ("volume", "float8")),
    key=("instrument_id", "time", "update_id"), series=("instrument_id",), time_col="time",
    id_col="update_id", values=("bid", "ask", "bid_size", "ask_size", "last", "volume"),
    nullable=("bid_size", "ask_size", "last", "volume"), validator=validate.validate_quotes,
)
CANDLES = Dataset(
    name="candles", table="market.candles",
    columns=(("instrument_id", "int4"), ("timeframe", "text"), ("open_time", "timestamptz"),
             ("open", "float8"), ("high", "float8"), ("low", "float8"), ("close", "float8"),
             ("volume", "float8"), ("quote_volume", "float8"), ("trade_count", "int8"),
             ("source", "text")),
    key=("instrument_id", "timeframe", "open_time"), series=("instrument_id", "timeframe"),
    time_col="open_time", id_col=None,
    values=("open", "high", "low", "close", "volume", "quote_volume", "trade_count"),
    nullable=("quote_volume", "trade_count"), validator=validate.validate_candles,
    rollup_chain="native",
)
DATASETS = {d.name: d for d in (TRADES, QUOTES, CANDLES)}


@dataclass
class Counts:
    rows_in: int = 0
    loaded: int = 0
    quarantined: int = 0
    duplicate: int = 0
    fast_path: int = 0
    merged: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    #: load_batch only: the batch's rows whose key is stored once it is committed (new rows and
    #: duplicates of stored ones; never a quarantined row) — what a watermark may be built from.
    stored: pd.DataFrame | None = field(default=None, repr=False, compare=False)

    def add(self, other: "Counts") -> None:
        self.rows_in += other.rows_in
        self.loaded += other.loaded
        self.quarantined += other.quarantined
        self.duplicate += other.duplicate
        self.fast_path += other.fast_path
        self.merged += other.merged
        for k, v in other.reasons.items():
            self.reasons[k] = self.reasons.get(k, 0) + v

    @property
    def balanced(self) -> bool:
        return self.rows_in == self.loaded + self.quarantined + self.duplicate


@dataclass
class Reject:
    """An input record refused before it became a row (malformed line, unknown stream …)."""

    reason: str
    payload: str
    symbol: str | None = None
    record_time_us: int | None = None


# --------------------------------------------------------------------------------------------
# COPY helpers

def _copy(cur: psycopg.Cursor, ds: Dataset, table: str, df: pd.DataFrame) -> None:
    cols = sql.SQL(", ").join(sql.Identifier(c) for c in ds.names)
    if ds.binary:
        payload = pgcopy.encode(ds.columns, {c: df[c].to_numpy() for c in ds.names}, ds.nullable)
        stmt = sql.SQL("copy {} ({}) from stdin (format binary)").format(sql.SQL(table), cols)
        with cur.copy(stmt) as cp:
            cp.write(payload)
        return
    stmt = sql.SQL("copy {} ({}) from stdin").format(sql.SQL(table), cols)
    with cur.copy(stmt) as cp:
        for row in _python_rows(ds, df):
            cp.write_row(row)


def _python_rows(ds: Dataset, df: pd.DataFrame):
    conv = []
    for name, kind in ds.columns:
        col = df[name].to_numpy()
        if kind == "timestamptz":
            conv.append(pd.to_datetime(col.astype(np.int64), unit="us", utc=True).to_pydatetime())
        elif kind in ("int4", "int8"):
            conv.append([None if (v is None or (isinstance(v, float) and math.isnan(v))) else int(v)
                         for v in col])
        elif kind == "float8":
            conv.append([None if v is None or (name in ds.nullable and math.isnan(v)) else float(v)
                         for v in col])
        elif kind == "char1":
            conv.append([None if (v in (b"", "", None)) else (v.decode() if isinstance(v, bytes) else v)
                         for v in col])
        else:
            conv.append([None if v is None or v != v else str(v) for v in col])
    return zip(*conv)


def _payload(df: pd.DataFrame, ds: Dataset) -> list[str]:
    if "raw" in df:
        return [str(v) for v in df["raw"].to_numpy()]
    out = []
    for rec in df[[c for c in ds.names + ["symbol"] if c in df]].to_dict("records"):
        out.append(json.dumps({k: (v.decode() if isinstance(v, bytes) else
                                   None if isinstance(v, float) and math.isnan(v) else
                                   v.item() if hasattr(v, "item") else v)
                               for k, v in rec.items()}, default=str))
    return out


def write_quarantine(cur: psycopg.Cursor, *, run_id: int | None, source: str, dataset: str,
                     rows: list[tuple[str, str | None, int | None, str]]) -> None:
    """rows: (reason, symbol, record_time_us, payload)."""
    if not rows:
        return
    with cur.copy("copy market.quarantine (run_id, source, dataset, reason, symbol, record_time, payload)"
                  " from stdin") as cp:
        for reason, symbol, t_us, payload in rows:
            t = None if t_us is None or t_us != t_us else pd.Timestamp(int(t_us), unit="us", tz="UTC").to_pydatetime()
            cp.write_row((run_id, source, dataset, reason, symbol, t, payload))


# --------------------------------------------------------------------------------------------
# Batch load

def _stored_max(cur: psycopg.Cursor, ds: Dataset, df: pd.DataFrame) -> pd.DataFrame:
    series = df[list(ds.series)].drop_duplicates()
    if ds.timeframe:
        cur.execute(
            f"select s.i, s.tf, (select max(t.{ds.time_col}) from {ds.table} as t"
            f" where t.instrument_id = s.i and t.timeframe = s.tf)"
            " from unnest(%s::int[], %s::text[]) as s (i, tf)",
            (series["instrument_id"].astype(int).tolist(), series["timeframe"].astype(str).tolist()),
        )
        rows = cur.fetchall()
        out = pd.DataFrame(rows, columns=["instrument_id", "timeframe", "max_time"])
    else:
        cur.execute(
            f"select s.i, (select max(t.{ds.time_col}) from {ds.table} as t where t.instrument_id = s.i)"
            " from unnest(%s::int[]) as s (i)",
            (series["instrument_id"].astype(int).tolist(),),
        )
        out = pd.DataFrame(cur.fetchall(), columns=["instrument_id", "max_time"])
    out["max_us"] = [
        -(2**62) if v is None else int(pd.Timestamp(v).value // 1000) for v in out["max_time"]
    ]
    return out.drop(columns=["max_time"])


def _merge(cur: psycopg.Cursor, ds: Dataset, df: pd.DataFrame, run_id: int | None, source: str) -> tuple[int, int, int]:
    """(inserted, quarantined, duplicate) for rows that may overlap stored ones."""
    stage = f"_tsq_stage_{ds.name}"
    # ON COMMIT DELETE ROWS empties the stage at every commit; it is also truncated after use, so
    # several batches in one caller transaction work too.
    cur.execute(f"create temp table if not exists {stage} (like {ds.table} including defaults) on commit delete rows")
    _copy(cur, ds, stage, df)
    cur.execute("set local work_mem = '128MB'")
    cols = ", ".join(ds.names)
    join = " and ".join(f"t.{k} = s.{k}" for k in ds.key)
    same = f"({', '.join('t.' + v for v in ds.values)}) is not distinct from ({', '.join('s.' + v for v in ds.values)})"
    window = (f" and t.{ds.time_col} >= (timestamptz 'epoch' + %(tmin)s::bigint * interval '1 microsecond')"
              f" and t.{ds.time_col} <= (timestamptz 'epoch' + %(tmax)s::bigint * interval '1 microsecond')"
              f" and t.instrument_id = any(%(ids)s::integer[])")
    params = {"ids": sorted(int(i) for i in df["instrument_id"].unique()),"tmin": int(df[ds.time_col].min()) - 1, "tmax": int(df[ds.time_col].max()) + 1,
              "run_id": run_id, "source": source, "dataset": ds.name}
    # One aggregate pass first: a fully overlapping batch (a re-run) ends here.
    cur.execute(
        f"select count(*), count(*) filter (where t.{ds.key[0]} is null),"
        f" count(*) filter (where t.{ds.key[0]} is not null and not {same})"
        f" from {stage} as s left join {ds.table} as t on {join}{window}",
        params,
    )
    total, new_rows, conflicts = cur.fetchone()
    if new_rows == 0 and conflicts == 0:
        cur.execute(f"truncate {stage}")
        return 0, 0, total
    if conflicts == 0:
        cur.execute(
            f"insert into {ds.table} ({cols}) select {cols} from {stage} as s"
            f" where not exists (select 1 from {ds.table} as t where {join}{window})"
            f" order by {', '.join(ds.key)} on conflict do nothing",
            params,
        )
        inserted = cur.rowcount
        cur.execute(f"truncate {stage}")
        return inserted, 0, total - inserted
    cur.execute(
        f"""
        with c as materialized (
            select s.*,
                case when t.{ds.key[0]} is null then 'new' when {same} then 'dup' else 'conflict' end as cls
            from {stage} as s
            left join {ds.table} as t
                on {join}{window}
        ),
        ins as (
            insert into {ds.table} ({cols})
            select {cols} from c where c.cls = 'new'
            order by {', '.join(ds.key)}
            on conflict do nothing
            returning 1
        ),
        q as (
            insert into market.quarantine (run_id, source, dataset, reason, record_time, payload)
            select %(run_id)s, %(source)s, %(dataset)s, 'conflicts_with_stored_row', c.{ds.time_col},
                (to_jsonb(c) - 'cls')::text
            from c where c.cls = 'conflict'
            returning 1
        )
        select (select count(*) from c), (select count(*) from ins), (select count(*) from q)
        """,
        params,
    )
    total, inserted, quarantined = cur.fetchone()
    cur.execute(f"truncate {stage}")
    return inserted, quarantined, total - inserted - quarantined


def _duplicated(df: pd.DataFrame, ds: Dataset) -> np.ndarray:
    """Rows whose key appeared earlier in the frame. A frame already in strictly increasing key
    order (the usual case for a feed) is recognised in one vectorised pass."""
    if len(df) < 2:
        return np.zeros(len(df), dtype=bool)
    cols = [df[k].to_numpy() for k in ds.key]
    if all(c.dtype.kind in "iu" for c in cols):
        greater = np.zeros(len(df) - 1, dtype=bool)
        equal = np.ones(len(df) - 1, dtype=bool)
        for c in cols:
            a, b = c[1:], c[:-1]
            greater |= equal & (a > b)
            equal &= a == b
        if greater.all():
            return np.zeros(len(df), dtype=bool)
    return df.duplicated(list(ds.key), keep="first").to_numpy()


def _normalise(ds: Dataset, df: pd.DataFrame) -> pd.DataFrame:
    """char(1) columns as fixed-width bytes (b"" = NULL) whatever the caller passed (str, bytes, None)."""
    for name, kind in ds.columns:
        if kind == "char1" and name in df and df[name].dtype.kind != "S":
            col = df[name]
            col = col.where(col.notna(), b"")
            df = df.assign(**{name: col.to_numpy().astype("S8")})
    return df


def load_batch(conn: psycopg.Connection, ds: Dataset, df: pd.DataFrame, *, source: str,
               run_id: int | None = None, rejects: list[Reject] | None = None,
               now_us: int | None = None) -> Counts:
    """Load one batch (a DataFrame in the dataset's columns, times as int64 Unix microseconds,
    optional `symbol` and `raw` columns for quarantine) inside the caller's transaction."""
    counts = Counts(rows_in=len(df) + len(rejects or []))
    qrows: list[tuple[str, str | None, int | None, str]] = [
        (r.reason, r.symbol, r.record_time_us, r.payload) for r in (rejects or [])
    ]
    df = _normalise(ds, df.reset_index(drop=True))
    good = df
    if len(df):
        reasons = ds.validator(df, now_us)
        bad = ~reasons.ok
        if bad.any():
            bad_df = df[bad]
            rs = reasons.reason_array()[bad]
            syms = bad_df["symbol"].tolist() if "symbol" in bad_df else [None] * len(bad_df)
            times = bad_df[ds.time_col].tolist()
            qrows += list(zip(rs, syms, times, _payload(bad_df, ds)))
        good = df[~bad]
        # Repeated keys inside the batch: identical = duplicate, different = quarantined.
        dup = _duplicated(good, ds)
        if dup.any():
            first = good[~dup].set_index(list(ds.key))[list(ds.values)]
            again = good[dup]
            ref = first.loc[pd.MultiIndex.from_frame(again[list(ds.key)])]
            same = np.ones(len(again), dtype=bool)
            for v in ds.values:
                a, b = again[v].to_numpy(), ref[v].to_numpy()
                eq = (a == b)
                if a.dtype.kind == "f":
                    eq |= np.isnan(a) & np.isnan(b.astype(float))
                same &= eq
            counts.duplicate += int(same.sum())
            conflicting = again[~same]
            if len(conflicting):
                syms = conflicting["symbol"].tolist() if "symbol" in conflicting else [None] * len(conflicting)
                qrows += list(zip(["conflicting_duplicate"] * len(conflicting), syms,
                                  conflicting[ds.time_col].tolist(), _payload(conflicting, ds)))
            good = good[~dup]
    for reason, *_ in qrows:
        counts.reasons[reason] = counts.reasons.get(reason, 0) + 1
    counts.quarantined += len(qrows)
    counts.stored = good
    with conn.cursor() as cur:
        write_quarantine(cur, run_id=run_id, source=source, dataset=ds.name, rows=qrows)
        if len(good):
            maxes = _stored_max(cur, ds, good)
            if ds.timeframe:
                merged = good[list(ds.series)].merge(maxes, on=list(ds.series), how="left")
                max_us = merged["max_us"].to_numpy()
            else:
                lookup = dict(zip(maxes["instrument_id"].astype(int), maxes["max_us"]))
                max_us = good["instrument_id"].map(lookup).to_numpy()
            is_new = good[ds.time_col].to_numpy() > max_us
            fast, slow = good[is_new], good[~is_new]
            merged_any = False
            plain_rollups = _begin_dirty_tracking(cur, ds)
            if len(fast):
                try:
                    with conn.transaction():
                        _copy(cur, ds, ds.table, fast)
                    counts.loaded += len(fast)
                    counts.fast_path += len(fast)
                except errors.UniqueViolation:
                    slow = _concat(slow, fast)
            if len(slow):
                inserted, quarantined, duplicate = _merge(cur, ds, slow, run_id, source)
                merged_any = inserted > 0
                counts.loaded += inserted
                counts.merged += len(slow)
                counts.quarantined += quarantined
                counts.duplicate += duplicate
                if quarantined:
                    counts.reasons["conflicts_with_stored_row"] = counts.reasons.get("conflicts_with_stored_row", 0) + quarantined
            if plain_rollups:
                # Mark the buckets of rows that may have been written (all merged rows when the
                # merge inserted any: the rows it wrote are not returned one by one).
                written = _concat(fast, slow) if merged_any else fast
                _end_dirty_tracking(cur, ds, written if counts.loaded else written.iloc[:0])
    return counts


def _concat(*frames: pd.DataFrame) -> pd.DataFrame:
    """Rows of several frames of one batch. Empty frames are left out: pandas cannot concatenate
    an empty frame with a fixed-width bytes column (char(1) `side`) to a non-empty one."""
    present = [f for f in frames if len(f)]
    if not present:
        return frames[0]
    return present[0] if len(present) == 1 else pd.concat(present)


def _begin_dirty_tracking(cur: psycopg.Cursor, ds: Dataset) -> bool:
    """Plain mode: switch the row-set invalidation trigger off for this batch (the ingest core
    marks the changed buckets itself, from a few thousand distinct buckets instead of every
    row). Returns whether it did (TimescaleDB mode tracks invalidations on its own)."""
    if ds.rollup_chain is None:
        return False
    cur.execute("select to_regclass('market.rollup_dirty') is not null")
    if not cur.fetchone()[0]:
        return False
    cur.execute("select set_config('tsquant.skip_rollup_invalidation', 'on', true)")
    return True


def _end_dirty_tracking(cur: psycopg.Cursor, ds: Dataset, rows: pd.DataFrame) -> None:
    if ds.rollup_chain == "native":
        rows = rows[rows["timeframe"] == "1m"]
    if len(rows):
        t = rows[ds.time_col].to_numpy()
        origin = pgcopy.PG_EPOCH_US + 2 * 86_400_000_000  # 2000-01-03, like time_bucket
        minute = origin + ((t - origin) // 60_000_000) * 60_000_000
        pairs = pd.DataFrame({"i": rows["instrument_id"].to_numpy(), "m": minute}).drop_duplicates()
        cur.execute(
            "insert into market.rollup_dirty (chain, timeframe, instrument_id, open_time)"
            " select %s, '1m', d.i, timestamptz 'epoch' + d.m * interval '1 microsecond'"
            " from unnest(%s::integer[], %s::bigint[]) as d (i, m)",
            (ds.rollup_chain, pairs["i"].astype(int).tolist(), pairs["m"].astype(int).tolist()),
        )
    cur.execute("select set_config('tsquant.skip_rollup_invalidation', 'off', true)")


def load_frame(conn: psycopg.Connection, ds: Dataset, df: pd.DataFrame, *, source: str,
               run_id: int | None = None, rejects: list[Reject] | None = None) -> Counts:
    """Alias of load_batch for a single batch in the caller's transaction."""
    return load_batch(conn, ds, df, source=source, run_id=run_id, rejects=rejects)
