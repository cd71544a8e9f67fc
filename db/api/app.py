"""The FastAPI application: one endpoint per public `bi` view, read through a psycopg pool that
logs in as a read-only role in tsq_analyst.

Every list endpoint pages by keyset: rows come in a fixed order of (time, tie-breaker) columns,
`limit` rows at most (default 100, maximum 5000), and `next_cursor` is an opaque token that
continues after the last row returned (no OFFSET, so deep pages cost the same as the first).
Response fields are the view's columns (names, types and the view's column comments), read from
the catalog when the app starts, so the API documents what the database actually holds.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import decimal
import json
import math
from collections.abc import Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Optional

import psycopg
import pydantic_core
from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from psycopg import sql
from psycopg.rows import dict_row
from psycopg.types.json import set_json_loads
from psycopg_pool import AsyncConnectionPool
from pydantic import BaseModel, ConfigDict, Field, create_model

from db.connection import api_database_url, redact

DEFAULT_LIMIT = 100
MAX_LIMIT = 5000
API_PREFIX = "/api/v1"
# Guard rails of every API session: reads only, bounded statements.
SESSION_OPTIONS = "-c default_transaction_read_only=on -c statement_timeout=5000"


class ApiError(Exception):
    """A request the API refuses with a status and one sentence."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


# --------------------------------------------------------------------------------------------
# Row models from the catalog

_PG_TYPES: dict[str, Any] = {
    "timestamp with time zone": dt.datetime, "timestamp without time zone": dt.datetime,
    "date": dt.date, "double precision": float, "real": float, "numeric": decimal.Decimal,
    "integer": int, "bigint": int, "smallint": int, "boolean": bool, "text": str,
    "character varying": str, "character": str, "jsonb": Any, "json": Any, "interval": str,
    "uuid": str,
}


def _python_type(pg_type: str) -> Any:
    if pg_type.endswith("[]"):
        return list[Optional[_python_type(pg_type[:-2])]]  # type: ignore[misc]
    base = pg_type.split("(")[0].strip()
    return _PG_TYPES.get(base, str)


@dataclass(frozen=True)
class Column:
    name: str
    pg_type: str
    comment: str | None


def view_columns(conn: psycopg.Connection, relation: str) -> list[Column]:
    rows = conn.execute(
        """
        select a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod),
            pg_catalog.col_description(a.attrelid, a.attnum)
        from pg_catalog.pg_attribute as a
        where a.attrelid = %s::regclass and a.attnum > 0 and not a.attisdropped
        order by a.attnum
        """,
        (relation,),
    ).fetchall()
    return [Column(*r) for r in rows]


def row_model(name: str, columns: Sequence[Column]) -> type[BaseModel]:
    """A response model with one optional field per column (extra columns allowed: a view may
    gain columns, e.g. a newly maintained indicator, while the API runs)."""
    fields = {
        c.name: (Optional[_python_type(c.pg_type)], Field(default=None, description=c.comment or None))
        for c in columns
    }
    return create_model(name, __config__=ConfigDict(extra="allow"), **fields)  # type: ignore[call-overload]


def page_model(name: str, row: type[BaseModel]) -> type[BaseModel]:
    return create_model(
        name,
        data=(list[row], Field(description="Rows of this page, in the endpoint's order.")),  # type: ignore[valid-type]
        next_cursor=(Optional[str], Field(default=None, description="Pass as `cursor` for the next page; null on the last page.")),
    )


def _json_safe(value: Any) -> Any:
    """JSON has no NaN/Infinity: such floats (indicator lookbacks, empty divisions) become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value


# --------------------------------------------------------------------------------------------
# Keyset pages

def encode_cursor(values: Sequence[Any]) -> str:
    raw = json.dumps([v.isoformat() if isinstance(v, (dt.datetime, dt.date)) else
                      str(v) if isinstance(v, decimal.Decimal) else v for v in values])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(token: str, kinds: Sequence[str]) -> list[Any]:
    try:
        values = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode())
        if not isinstance(values, list) or len(values) != len(kinds):
            raise ValueError
        out = []
        for value, kind in zip(values, kinds):
            if kind == "time":
                out.append(dt.datetime.fromisoformat(value))
            elif kind == "date":
                out.append(dt.date.fromisoformat(value))
            elif kind == "int":
                if not isinstance(value, int) or isinstance(value, bool):
                    raise ValueError
                out.append(value)
            else:
                if not isinstance(value, str):
                    raise ValueError
                out.append(value)
        return out
    except (ValueError, TypeError, UnicodeDecodeError, binascii.Error, json.JSONDecodeError):
        raise ApiError(422, "cursor is not a cursor this endpoint returned") from None


@dataclass(frozen=True)
class Keyset:
    columns: tuple[str, ...]
    kinds: tuple[str, ...]  # time | int | text, for decoding cursors


async def fetch_page(pool: AsyncConnectionPool, relation: str, keyset: Keyset, *,
                     where: list[tuple[str, str, Any]], limit: int, cursor: str | None,
                     descending: bool) -> dict[str, Any]:
    """Rows of `relation` matching `where` [(column, operator, value)], ordered by the keyset."""
    # (column, "is" | "is not", None) is an IS [NOT] NULL test, which takes no parameter
    clauses = [sql.SQL("{} {} null" if op in ("is", "is not") else "{} {} %s").format(sql.Identifier(c), sql.SQL(op))
               for c, op, _ in where]
    params: list[Any] = [v for _, op, v in where if op not in ("is", "is not")]
    if cursor:
        after = decode_cursor(cursor, keyset.kinds)
        cols = sql.SQL(", ").join(sql.Identifier(c) for c in keyset.columns)
        marks = sql.SQL(", ").join(sql.Placeholder() for _ in keyset.columns)
        clauses.append(sql.SQL("({}) {} ({})").format(cols, sql.SQL("<" if descending else ">"), marks))
        params += after
    direction = sql.SQL("desc" if descending else "asc")
    query = sql.SQL("select * from {} {} order by {} limit %s").format(
        sql.SQL(relation),
        sql.SQL("where ") + sql.SQL(" and ").join(clauses) if clauses else sql.SQL(""),
        sql.SQL(", ").join(sql.SQL("{} {}").format(sql.Identifier(c), direction) for c in keyset.columns),
    )
    async with pool.connection() as conn:
        cur = await conn.execute(query, [*params, limit + 1])
        rows = await cur.fetchall()
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor([rows[-1][c] for c in keyset.columns]) if more and rows else None
    return page_response({"data": rows, "next_cursor": next_cursor})


def page_response(body: dict[str, Any]) -> Response:
    """A page as JSON, serialised in one pass by pydantic-core (the endpoint's response_model
    documents it): datetimes ISO 8601, numeric as exact strings, NaN/Infinity as null — what the
    model would produce, without validating thousands of rows in Python first."""
    return Response(content=pydantic_core.to_json(body, inf_nan_mode="null"), media_type="application/json")


def _fast_json(data: bytes | memoryview) -> Any:
    return pydantic_core.from_json(bytes(data))


async def _configure(conn: psycopg.AsyncConnection) -> None:
    # jsonb (the candles' indicators) parsed by pydantic-core's Rust parser, not the json module
    set_json_loads(_fast_json, conn)


# --------------------------------------------------------------------------------------------
# Parameter checks shared by the endpoints

def text_param(value: str | None, name: str) -> str | None:
    if value is None:
        return None
    if "\x00" in value or len(value) > 200:
        raise ApiError(422, f"{name} must be at most 200 characters with no NUL byte")
    return value


def utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def time_range(where: list, column: str, start: dt.datetime | None, end: dt.datetime | None) -> None:
    start, end = utc(start), utc(end)
    if start and end and end <= start:
        raise ApiError(422, "end must be later than start")
    if start:
        where.append((column, ">=", start))
    if end:
        where.append((column, "<", end))


LimitQuery = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description=f"Rows per page (1-{MAX_LIMIT}).")
CursorQuery = Query(None, max_length=2000, description="next_cursor of the previous page.")
StartQuery = Query(None, description="ISO 8601 time, inclusive (UTC when no offset is given).")
EndQuery = Query(None, description="ISO 8601 time, exclusive (UTC when no offset is given).")


# --------------------------------------------------------------------------------------------
# The application

@dataclass
class Catalog:
    """What the database offers, read once at start."""

    timeframes: list[str]
    columns: dict[str, list[Column]]
    functions: frozenset[str] = frozenset()

    def has_function(self, name: str) -> bool:
        return name in self.functions

    @classmethod
    def read(cls, conn: psycopg.Connection, relations: Sequence[str]) -> "Catalog":
        tfs = [r[0] for r in conn.execute(
            "select t.timeframe from market.timeframes as t"
            " where to_regclass('bi.candles_' || t.timeframe) is not null order by t.bucket_width"
        ).fetchall()]
        cols = {rel: view_columns(conn, rel) for rel in relations
                if conn.execute("select to_regclass(%s) is not null", (rel,)).fetchone()[0]}
        for tf in tfs:
            cols[f"bi.candles_{tf}"] = view_columns(conn, f"bi.candles_{tf}")
        functions = frozenset(r[0] for r in conn.execute(
            "select n.nspname || '.' || p.proname from pg_catalog.pg_proc as p"
            " join pg_catalog.pg_namespace as n on n.oid = p.pronamespace where n.nspname = 'bi'").fetchall())
        return cls(timeframes=tfs, columns=cols, functions=functions)


RELATIONS = ("bi.indicator_values", "signals.raw_signals", "bi.trading_signals")


def _relations() -> tuple[str, ...]:
    from db.api.trading import RELATIONS as TRADING

    return RELATIONS + TRADING


def create_app(url: str | None = None) -> FastAPI:
    url = url or api_database_url()
    try:
        with psycopg.connect(url, options=SESSION_OPTIONS) as conn:
            catalog = Catalog.read(conn, _relations())
    except psycopg.OperationalError as exc:
        from db.connection import ConfigurationError

        raise ConfigurationError(f"the API cannot connect to {redact(url)}: {redact(str(exc).strip().splitlines()[0])}") from None
    pool = AsyncConnectionPool(
        url, open=False, min_size=2, max_size=10, check=AsyncConnectionPool.check_connection, configure=_configure,
        kwargs={"autocommit": True, "row_factory": dict_row, "options": SESSION_OPTIONS,
                "application_name": "tsquant-api"},
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        await pool.open(wait=True)
        try:
            yield
        finally:
            await pool.close()

    app = FastAPI(
        title="tsquant API", version="1.0",
        description="Read-only access to tsquant's market data, indicators, signals, orders, "
                    "positions and metrics. Every list is keyset-paginated; times are ISO 8601 (UTC).",
        lifespan=lifespan,
    )
    app.state.pool = pool
    app.state.catalog = catalog
    _install_error_handlers(app)
    _market_routes(app, pool, catalog)
    from db.api.trading import trading_routes

    trading_routes(app, pool, catalog)
    _health_routes(app, pool)
    return app


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(status_code=exc.status, content={"detail": exc.message})

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        parts = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err.get("loc", ()) if p not in ("query", "path"))
            parts.append(f"{where}: {err.get('msg', 'invalid')}" if where else err.get("msg", "invalid"))
        return JSONResponse(status_code=422, content={"detail": "; ".join(parts) or "invalid request"})

    @app.exception_handler(psycopg.errors.QueryCanceled)
    async def _timeout(_request: Request, _exc: Exception) -> JSONResponse:
        return JSONResponse(status_code=503, content={"detail": "the query took longer than 5 s: narrow the time range or lower limit"})

    @app.exception_handler(psycopg.OperationalError)
    async def _db_down(_request: Request, _exc: Exception) -> JSONResponse:
        return JSONResponse(status_code=503, content={"detail": "the database is not reachable"})


ERROR_RESPONSES = {
    404: {"description": "Unknown instrument or id.", "content": {"application/json": {"schema": {
        "type": "object", "properties": {"detail": {"type": "string"}}}}}},
    422: {"description": "A parameter is invalid; detail says which and why.", "content": {"application/json": {"schema": {
        "type": "object", "properties": {"detail": {"type": "string"}}}}}},
}


async def resolve_instrument(pool: AsyncConnectionPool, exchange: str | None, symbol: str) -> tuple[str, str, int]:
    """(exchange, canonical symbol, instrument_id) of a symbol given in any registered spelling."""
    exchange = text_param(exchange, "exchange")
    symbol = text_param(symbol, "symbol") or ""
    async with pool.connection() as conn:
        cur = await conn.execute(
            "select distinct i.exchange, i.symbol, i.instrument_id from market.instruments as i"
            " where (i.symbol = %(s)s or i.exchange_symbol = %(s)s) and (%(e)s::text is null or i.exchange = %(e)s)",
            {"s": symbol, "e": exchange},
        )
        found = await cur.fetchall()
    if not found:
        where = f" on {exchange}" if exchange else ""
        raise ApiError(404, f"unknown instrument {symbol}{where}")
    if len(found) > 1:
        names = ", ".join(sorted(r["exchange"] for r in found))
        raise ApiError(422, f"{symbol} exists on {names}: give exchange")
    return found[0]["exchange"], found[0]["symbol"], found[0]["instrument_id"]


def _market_routes(app: FastAPI, pool: AsyncConnectionPool, catalog: Catalog) -> None:
    tf_pattern = "^(" + "|".join(catalog.timeframes) + ")$"
    candle_columns: dict[str, Column] = {}
    for tf in catalog.timeframes:
        for c in catalog.columns[f"bi.candles_{tf}"]:
            candle_columns.setdefault(c.name, c)
    candle_page = page_model("CandlePage", row_model("Candle", list(candle_columns.values())))

    @app.get(f"{API_PREFIX}/candles", response_model=candle_page, responses=ERROR_RESPONSES, tags=["market"],
             summary="Candles with their maintained indicators (bi.candles_<timeframe>)")
    async def candles(
        symbol: str = Query(..., description="Symbol, canonical (BTC/USDT) or the exchange's spelling."),
        timeframe: str = Query(..., pattern=tf_pattern, description="One of " + ", ".join(catalog.timeframes) + "."),
        exchange: Optional[str] = Query(None, description="Exchange; needed when the symbol trades on several."),
        start: Optional[dt.datetime] = StartQuery, end: Optional[dt.datetime] = EndQuery,
        order: Optional[str] = Query(None, pattern="^(asc|desc)$",
                                     description="asc (default with start) or desc (default without: the latest bars first)."),
        limit: int = LimitQuery, cursor: Optional[str] = CursorQuery,
    ):
        _ex, _sym, instrument_id = await resolve_instrument(pool, exchange, symbol)
        # by id: the views' instrument_id reaches the candles' index (exchange/symbol come from a join)
        where: list = [("instrument_id", "=", instrument_id)]
        time_range(where, "open_time", start, end)
        descending = (order or ("asc" if start else "desc")) == "desc"
        return await fetch_page(pool, f"bi.candles_{timeframe}", Keyset(("open_time",), ("time",)),
                                where=where, limit=limit, cursor=cursor, descending=descending)

    if "bi.indicator_values" in catalog.columns:
        ind_page = page_model("IndicatorPage", row_model("IndicatorValue", catalog.columns["bi.indicator_values"]))

        @app.get(f"{API_PREFIX}/indicators", response_model=ind_page, responses=ERROR_RESPONSES, tags=["market"],
                 summary="Maintained indicator values, one row per bar and output (bi.indicator_values)")
        async def indicators(
            symbol: str = Query(...), timeframe: str = Query(..., pattern=tf_pattern),
            exchange: Optional[str] = Query(None),
            indicator: Optional[str] = Query(None, max_length=100, description="e.g. rsi, macd."),
            start: Optional[dt.datetime] = StartQuery, end: Optional[dt.datetime] = EndQuery,
            limit: int = LimitQuery, cursor: Optional[str] = CursorQuery,
        ):
            ex, sym, _iid = await resolve_instrument(pool, exchange, symbol)
            where: list = [("exchange", "=", ex), ("symbol", "=", sym), ("timeframe", "=", timeframe)]
            if indicator:
                where.append(("indicator", "=", text_param(indicator, "indicator")))
            time_range(where, "open_time", start, end)
            return await fetch_page(pool, "bi.indicator_values",
                                    Keyset(("open_time", "indicator_id", "output"), ("time", "int", "text")),
                                    where=where, limit=limit, cursor=cursor, descending=start is None)

    trading_signals = "bi.trading_signals" in catalog.columns
    raw_page = page_model("RawSignalPage", row_model("RawSignal", catalog.columns["signals.raw_signals"]))
    sig_page = (page_model("TradingSignalPage", row_model("TradingSignal", catalog.columns["bi.trading_signals"]))
                if trading_signals else raw_page)

    @app.get(f"{API_PREFIX}/signals/raw", response_model=raw_page, responses=ERROR_RESPONSES, tags=["signals"],
             summary="External raw signals, e.g. taapi.io values (signals.raw_signals)")
    async def raw_signals(
        symbol: Optional[str] = Query(None, max_length=200), timeframe: Optional[str] = Query(None, max_length=10),
        indicator: Optional[str] = Query(None, max_length=100),
        start: Optional[dt.datetime] = StartQuery, end: Optional[dt.datetime] = EndQuery,
        limit: int = LimitQuery, cursor: Optional[str] = CursorQuery,
    ):
        where: list = []
        for column, value in (("symbol", symbol), ("timeframe", timeframe), ("indicator", indicator)):
            if value is not None:
                where.append((column, "=", text_param(value, column)))
        time_range(where, "source_time", start, end)
        return await fetch_page(pool, "signals.raw_signals", Keyset(("source_time", "raw_signal_id"), ("time", "int")),
                                where=where, limit=limit, cursor=cursor, descending=start is None)

    if trading_signals:
        sig_cols = {c.name for c in catalog.columns["bi.trading_signals"]}
        time_col = "bar_time" if "bar_time" in sig_cols else "signal_time"
        tie = tuple(c for c in ("signal_source", "instrument_id", "timeframe") if c in sig_cols)

        @app.get(f"{API_PREFIX}/signals", response_model=sig_page, responses=ERROR_RESPONSES, tags=["signals"],
                 summary="Trading signals of the strategies (bi.trading_signals)")
        async def signals(
            symbol: Optional[str] = Query(None, max_length=200), timeframe: Optional[str] = Query(None, max_length=10),
            strategy: Optional[str] = Query(None, max_length=200, description="signal_source, the strategy name."),
            direction: Optional[str] = Query(None, pattern="^(BUY|SELL|NEUTRAL)$"),
            start: Optional[dt.datetime] = StartQuery, end: Optional[dt.datetime] = EndQuery,
            limit: int = LimitQuery, cursor: Optional[str] = CursorQuery,
        ):
            where: list = []
            for column, value in (("symbol", symbol), ("timeframe", timeframe), ("signal_source", strategy),
                                  ("direction", direction)):
                if value is not None:
                    where.append((column, "=", text_param(value, column)))
            time_range(where, time_col, start, end)
            kinds = ("time",) + tuple("int" if c == "instrument_id" else "text" for c in tie)
            return await fetch_page(pool, "bi.trading_signals", Keyset((time_col,) + tie, kinds),
                                    where=where, limit=limit, cursor=cursor, descending=start is None)


class Health(BaseModel):
    status: str = Field(description="ok, or degraded when a check failed.")
    database: str = Field(description="reachable or unreachable.")
    mode: Optional[str] = Field(default=None, description="timescaledb or postgresql.")
    checks: list[dict[str, Any]] = Field(default_factory=list, description="One entry per check: name, status, detail.")


def _health_routes(app: FastAPI, pool: AsyncConnectionPool) -> None:
    async def health() -> JSONResponse:
        from db.health import CHECKS_SQL, summarise

        try:
            async with pool.connection() as conn:
                cur = await conn.execute(CHECKS_SQL)
                rows = await cur.fetchall()
                mode = (await (await conn.execute("select ops.database_mode() as m")).fetchone())["m"]
        except psycopg.Error:
            return JSONResponse(status_code=503, content={"status": "down", "database": "unreachable", "mode": None, "checks": []})
        report = summarise(rows)
        body = {"status": report["status"], "database": "reachable", "mode": mode, "checks": report["checks"]}
        return JSONResponse(status_code=200 if report["status"] == "ok" else 503, content=json.loads(json.dumps(body, default=str)))

    for path in ("/health", f"{API_PREFIX}/health", f"{API_PREFIX}/historical/health"):
        app.add_api_route(path, health, methods=["GET"], response_model=Health, tags=["health"],
                          responses={503: {"description": "Something is stale, failed or unreachable.",
                                           "content": {"application/json": {"schema": Health.model_json_schema()}}}},
                          summary="Database reachable, mode, job and data freshness, risk state")


def raise_not_found(what: str) -> None:
    raise HTTPException(status_code=404, detail=f"unknown {what}")
