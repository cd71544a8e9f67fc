"""The loaders' tables: privileges follow the schema defaults, comments exist, constraints hold."""

from __future__ import annotations

import psycopg
import pytest


def test_loader_role_can_write_raw_signals_and_ticker_snapshots_but_analyst_cannot(conn):
    conn.execute("set local role tsq_loader")
    conn.execute("insert into signals.raw_signals (exchange, symbol, timeframe, indicator, indicator_key,"
                 " value, source_time, raw_json) values ('binance', 'BTC/USDT', '1h', 'rsi', 'rsi_14', 55,"
                 " '2024-08-01', '{}')")
    conn.execute("insert into market.ticker_snapshots (time, instrument_id, last) values ('2024-08-01', 1, 10)")
    conn.execute("reset role")
    conn.execute("set local role tsq_analyst")
    assert conn.execute("select count(*) from signals.raw_signals").fetchone()[0] == 1
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("insert into market.ticker_snapshots (time, instrument_id, last) values ('2024-08-02', 1, 10)")


def test_every_column_of_the_loader_tables_has_a_comment(conn):
    missing = conn.execute(
        "select c.table_schema || '.' || c.table_name || '.' || c.column_name"
        " from information_schema.columns as c"
        " where (c.table_schema, c.table_name) in (('signals', 'raw_signals'), ('market', 'ticker_snapshots'))"
        " and col_description(format('%I.%I', c.table_schema, c.table_name)::regclass, c.ordinal_position) is null"
    ).fetchall()
    assert missing == []


def test_impossible_ticker_values_are_refused_by_the_table(conn):
    with pytest.raises(psycopg.errors.CheckViolation):
        conn.execute("insert into market.ticker_snapshots (time, instrument_id, last) values ('2024-08-01', 1, -1)")
