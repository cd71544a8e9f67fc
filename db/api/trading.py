"""Seed 003's historical trading endpoints and the performance metrics, over the bi views of the
ledger (bi.orders, bi.positions, bi.trade_history, bi.portfolio, bi.trade_summary) and
perf.performance_metrics. Same rules as the market endpoints: keyset pages, a maximum limit,
ISO 8601 times, a 422 sentence for a bad parameter and a 404 for an unknown id. Money columns
are numeric in the ledger and come out as JSON strings, so no digit is lost."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Optional

from fastapi import FastAPI, Path, Query
from psycopg_pool import AsyncConnectionPool
from pydantic import BaseModel, Field

from db.api.app import (
    API_PREFIX, ERROR_RESPONSES, ApiError, Catalog, CursorQuery, EndQuery, Keyset, LimitQuery, StartQuery,
    _json_safe, fetch_page, page_model, row_model, text_param, time_range,
)

HISTORICAL = f"{API_PREFIX}/historical"
RELATIONS = ("bi.orders", "bi.positions", "bi.trade_history", "bi.portfolio", "perf.performance_metrics")
BIGINT_MAX = 2**63 - 1
ORDER_STATUSES = "new|submitted|partially_filled|filled|cancelled|rejected|expired"


class TradeSummary(BaseModel):
    start_date: Optional[dt.date] = Field(None, description="First UTC day included (null: from the first trade).")
    end_date: Optional[dt.date] = Field(None, description="Last UTC day included (null: up to now).")
    total_trades: int = Field(description="Closed round trips whose exit is in the range.")
    winning_trades: int = Field(description="Closed with P/L > 0.")
    losing_trades: int = Field(description="Closed with P/L < 0.")
    win_rate: Optional[float] = Field(None, description="winning_trades / total_trades (null without trades).")
    net_pnl: decimal.Decimal = Field(description="Sum of realized P/L, net of fees.")
    gross_profit: decimal.Decimal = Field(description="Sum of the winning P/L.")
    gross_loss: decimal.Decimal = Field(description="Sum of the losing P/L (negative or 0).")
    profit_factor: Optional[decimal.Decimal] = Field(None, description="gross_profit / |gross_loss| (null without losses).")
    average_pnl: Optional[decimal.Decimal] = Field(None, description="Mean P/L per closed trade.")
    best_trade: Optional[decimal.Decimal] = Field(None, description="Largest P/L.")
    worst_trade: Optional[decimal.Decimal] = Field(None, description="Smallest P/L.")
    total_fees: decimal.Decimal = Field(description="Fees of those trades.")


def _filters(where: list, **values: Optional[str]) -> None:
    for column, value in values.items():
        if value is not None:
            where.append((column, "=", text_param(value, column)))


def trading_routes(app: FastAPI, pool: AsyncConnectionPool, catalog: Catalog) -> None:
    """Register the routes whose relations exist in this database (the ledger may be absent)."""
    cols = catalog.columns
    if "bi.orders" in cols:
        _order_routes(app, pool, catalog)
    if "bi.positions" in cols:
        page = page_model("PositionPage", row_model("Position", cols["bi.positions"]))

        @app.get(f"{HISTORICAL}/positions", response_model=page, responses=ERROR_RESPONSES, tags=["trading"],
                 summary="Positions, open or closed (bi.positions), newest first")
        async def positions(
            status: Optional[str] = Query(None, pattern="^(open|closed)$", description="open or closed (default: both)."),
            symbol: Optional[str] = Query(None, max_length=200), strategy: Optional[str] = Query(None, max_length=200),
            limit: int = LimitQuery, cursor: Optional[str] = CursorQuery,
        ):
            where: list = []
            _filters(where, status=status, symbol=symbol, strategy=strategy)
            return await fetch_page(pool, "bi.positions", Keyset(("position_id",), ("int",)),
                                    where=where, limit=limit, cursor=cursor, descending=True)
    if "bi.trade_history" in cols:
        _trade_routes(app, pool, catalog)
    if "bi.portfolio" in cols:
        _portfolio_routes(app, pool, catalog)
    if "perf.performance_metrics" in cols:
        page = page_model("MetricsPage", row_model("PerformanceMetrics", cols["perf.performance_metrics"]))

        @app.get(f"{API_PREFIX}/metrics", response_model=page, responses=ERROR_RESPONSES, tags=["performance"],
                 summary="Performance metrics per date, backtest run and symbol (perf.performance_metrics)")
        async def metrics(
            run_id: Optional[int] = Query(None, ge=1, le=BIGINT_MAX, description="A backtest run."),
            live: Optional[bool] = Query(None, description="true: live trading rows only (no run); false: backtests only."),
            symbol: Optional[str] = Query(None, max_length=200, description="A symbol; 'all' for the all-instrument rows."),
            start_date: Optional[dt.date] = Query(None, description="First date, inclusive (ISO 8601)."),
            end_date: Optional[dt.date] = Query(None, description="Last date, inclusive (ISO 8601)."),
            limit: int = LimitQuery, cursor: Optional[str] = CursorQuery,
        ):
            where: list = []
            if run_id is not None:
                where.append(("run_id", "=", run_id))
            if live is not None:
                where.append(("run_id", "is" if live else "is not", None))
            if symbol == "all":
                where.append(("symbol", "is", None))
            elif symbol is not None:
                where.append(("symbol", "=", text_param(symbol, "symbol")))
            if start_date and end_date and end_date < start_date:
                raise ApiError(422, "end_date must not be before start_date")
            if start_date:
                where.append(("date", ">=", start_date))
            if end_date:
                where.append(("date", "<=", end_date))
            return await fetch_page(pool, "perf.performance_metrics", Keyset(("date", "metrics_id"), ("date", "int")),
                                    where=where, limit=limit, cursor=cursor, descending=True)


def _order_routes(app: FastAPI, pool: AsyncConnectionPool, catalog: Catalog) -> None:
    order = row_model("Order", catalog.columns["bi.orders"])
    page = page_model("OrderPage", order)

    @app.get(f"{HISTORICAL}/orders", response_model=page, responses=ERROR_RESPONSES, tags=["trading"],
             summary="Orders (bi.orders), newest first")
    async def orders(
        symbol: Optional[str] = Query(None, max_length=200), strategy: Optional[str] = Query(None, max_length=200),
        status: Optional[str] = Query(None, pattern=f"^({ORDER_STATUSES})$", description="Order status."),
        side: Optional[str] = Query(None, pattern="^(buy|sell)$"),
        start: Optional[dt.datetime] = StartQuery, end: Optional[dt.datetime] = EndQuery,
        limit: int = LimitQuery, cursor: Optional[str] = CursorQuery,
    ):
        where: list = []
        _filters(where, symbol=symbol, strategy=strategy, status=status, side=side)
        time_range(where, "created_at", start, end)
        return await fetch_page(pool, "bi.orders", Keyset(("created_at", "order_id"), ("time", "int")),
                                where=where, limit=limit, cursor=cursor, descending=True)

    @app.get(f"{HISTORICAL}/orders/{{order_id}}", response_model=order, responses=ERROR_RESPONSES, tags=["trading"],
             summary="One order by its id")
    async def order_by_id(order_id: int = Path(..., ge=1, le=BIGINT_MAX, description="order_id of the order.")):
        async with pool.connection() as conn:
            cur = await conn.execute("select * from bi.orders where order_id = %s", (order_id,))
            row = await cur.fetchone()
        if row is None:
            raise ApiError(404, f"unknown order {order_id}")
        return {k: _json_safe(v) for k, v in row.items()}


def _trade_routes(app: FastAPI, pool: AsyncConnectionPool, catalog: Catalog) -> None:
    page = page_model("TradePage", row_model("Trade", catalog.columns["bi.trade_history"]))

    @app.get(f"{HISTORICAL}/trades", response_model=page, responses=ERROR_RESPONSES, tags=["trading"],
             summary="Round-trip trades (bi.trade_history), newest first")
    async def trades(
        symbol: Optional[str] = Query(None, max_length=200), strategy: Optional[str] = Query(None, max_length=200),
        status: Optional[str] = Query(None, pattern="^(OPEN|CLOSED|CANCELLED)$"),
        start: Optional[dt.datetime] = Query(None, description="Entry time from, ISO 8601, inclusive."),
        end: Optional[dt.datetime] = Query(None, description="Entry time before, ISO 8601, exclusive."),
        limit: int = LimitQuery, cursor: Optional[str] = CursorQuery,
    ):
        where: list = []
        _filters(where, symbol=symbol, strategy=strategy, status=status)
        time_range(where, "entry_time", start, end)
        return await fetch_page(pool, "bi.trade_history", Keyset(("trade_id",), ("int",)),
                                where=where, limit=limit, cursor=cursor, descending=True)

    if not catalog.has_function("bi.trade_summary"):
        return

    @app.get(f"{HISTORICAL}/trades/summary", response_model=TradeSummary, responses=ERROR_RESPONSES,
             tags=["trading"], summary="Totals of the closed trades in a date range (bi.trade_summary)")
    async def trades_summary(
        start_date: Optional[dt.date] = Query(None, description="First UTC day of exits included (ISO 8601 date)."),
        end_date: Optional[dt.date] = Query(None, description="Last UTC day included (ISO 8601 date)."),
        symbol: Optional[str] = Query(None, max_length=200), strategy: Optional[str] = Query(None, max_length=200),
    ):
        if start_date and end_date and end_date < start_date:
            raise ApiError(422, "end_date must not be before start_date")
        if (start_date and start_date.year >= 9999) or (end_date and end_date.year >= 9999):
            raise ApiError(422, "dates must be before 9999-12-31")
        async with pool.connection() as conn:
            cur = await conn.execute("select * from bi.trade_summary(%s, %s, %s, %s)",
                                     (start_date, end_date, text_param(symbol, "symbol"),
                                      text_param(strategy, "strategy")))
            return await cur.fetchone()


def _portfolio_routes(app: FastAPI, pool: AsyncConnectionPool, catalog: Catalog) -> None:
    snapshot = row_model("PortfolioSnapshot", catalog.columns["bi.portfolio"])
    page = page_model("PortfolioSnapshotPage", snapshot)

    @app.get(f"{HISTORICAL}/portfolio/snapshots", response_model=page, responses=ERROR_RESPONSES,
             tags=["trading"], summary="Balance and equity over time (bi.portfolio), newest first")
    async def portfolio_snapshots(
        start: Optional[dt.datetime] = StartQuery, end: Optional[dt.datetime] = EndQuery,
        source: Optional[str] = Query(None, pattern="^(broker|fill|manual)$"),
        limit: int = LimitQuery, cursor: Optional[str] = CursorQuery,
    ):
        where: list = []
        _filters(where, source=source)
        time_range(where, "taken_at", start, end)
        return await fetch_page(pool, "bi.portfolio", Keyset(("taken_at", "snapshot_id"), ("time", "int")),
                                where=where, limit=limit, cursor=cursor, descending=True)

    @app.get(f"{HISTORICAL}/portfolio/latest", response_model=snapshot, responses=ERROR_RESPONSES,
             tags=["trading"], summary="The latest portfolio snapshot")
    async def portfolio_latest():
        async with pool.connection() as conn:
            cur = await conn.execute("select * from bi.portfolio order by taken_at desc, snapshot_id desc limit 1")
            row = await cur.fetchone()
        if row is None:
            raise ApiError(404, "no portfolio snapshot yet")
        return {k: _json_safe(v) for k, v in row.items()}
