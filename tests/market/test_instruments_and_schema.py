"""Instruments, symbol mapping, privileges and the documented shape of the market schema."""

from __future__ import annotations

import psycopg
import pytest

ROLLUP_COLUMNS = ["instrument_id", "open_time", "open", "high", "low", "close", "volume", "quote_volume",
                  "vwap", "trade_count", "source"]


@pytest.mark.parametrize("exchange, symbol, canonical, asset_class", [
    ("binance", "BTCUSDT", "BTC/USDT", "crypto"),
    ("kraken", "XBTUSD", "BTC/USD", "crypto"),
    ("kraken", "XETHZEUR", "ETH/EUR", "crypto"),
    ("coinbase", "BTC-USD", "BTC/USD", "crypto"),
    ("mt5", "EURUSD", "EUR/USD", "fx"),
])
def test_register_instrument_derives_the_canonical_symbol(conn, exchange, symbol, canonical, asset_class) -> None:
    iid = conn.execute("select market.register_instrument(%s, %s)", (exchange, symbol)).fetchone()[0]
    assert conn.execute("select symbol, asset_class from market.instruments where instrument_id = %s",
                        (iid,)).fetchone() == (canonical, asset_class)


def test_every_spelling_of_a_symbol_maps_to_one_instrument(conn) -> None:
    kraken = conn.execute("select market.register_instrument('kraken', 'XBTUSD')").fetchone()[0]
    again = conn.execute("select market.register_instrument('kraken', 'XXBTZUSD')").fetchone()[0]
    assert again == kraken
    for spelling in ("XBTUSD", "XXBTZUSD", "BTC/USD", "xbtusd"):
        assert conn.execute("select market.resolve_instrument('kraken', %s)", (spelling,)).fetchone()[0] == kraken
    assert conn.execute("select alias from market.instrument_aliases where instrument_id = %s",
                        (kraken,)).fetchall() == [("XXBTZUSD",)]
    binance = conn.execute("select market.register_instrument('binance', 'BTCUSDT')").fetchone()[0]
    assert binance != kraken
    assert conn.execute("select market.resolve_instrument('binance', 'btcusdt')").fetchone()[0] == binance
    assert conn.execute("select market.resolve_instrument('binance', 'NOPEUSDT')").fetchone()[0] is None


def test_loaders_cannot_write_instruments_but_can_register_them(conn) -> None:
    conn.execute("set local role tsq_loader")
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        with conn.transaction():
            conn.execute("insert into market.instruments (exchange, exchange_symbol, symbol, base, quote)"
                         " values ('x', 'AB', 'A/B', 'A', 'B')")
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        with conn.transaction():
            conn.execute("update market.instruments set status = 'halted'")
    iid = conn.execute("select market.register_instrument('binance', 'ETHUSDT')").fetchone()[0]
    assert conn.execute("select symbol from market.instruments where instrument_id = %s", (iid,)).fetchone()[0] == "ETH/USDT"
    conn.execute("insert into market.trades values (now(), %s, 1, 10, 1, 'b')", (iid,))
    assert conn.execute("select count(*) from market.trades").fetchone()[0] == 1


def test_security_definer_functions_pin_their_search_path(conn) -> None:
    rows = conn.execute(
        "select p.oid::regprocedure::text, p.proconfig from pg_proc p join pg_namespace n on n.oid = p.pronamespace"
        " where n.nspname in ('market', 'ops') and p.prosecdef").fetchall()
    assert rows, "there are security definer functions"
    for sig, config in rows:
        assert config and "search_path=\"\"" in config, sig


def test_every_rollup_relation_exposes_the_same_columns(conn) -> None:
    for tf in ("1m", "5m", "15m", "1h", "4h", "1d"):
        cols = [r[0] for r in conn.execute(
            "select attname from pg_attribute where attrelid = %s::regclass and attnum > 0 and not attisdropped"
            " order by attnum", (f"market.candles_{tf}",)).fetchall()]
        assert cols == ROLLUP_COLUMNS, tf
        trade_cols = [r[0] for r in conn.execute(
            "select attname from pg_attribute where attrelid = %s::regclass and attnum > 0 and not attisdropped"
            " order by attnum", (f"market.trade_candles_{tf}",)).fetchall()]
        assert trade_cols == ROLLUP_COLUMNS[:-1], tf


def test_every_market_table_view_column_and_function_has_a_comment(conn) -> None:
    missing = conn.execute("""
        select c.oid::regclass::text from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = 'market' and c.relkind in ('r', 'v', 'm', 'p') and obj_description(c.oid, 'pg_class') is null
        union all
        select c.oid::regclass::text || '.' || a.attname from pg_class c
        join pg_namespace n on n.oid = c.relnamespace
        join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
        where n.nspname = 'market' and c.relkind in ('r', 'p', 'v') and c.relname not like 'rollup_dirty%'
            and col_description(c.oid, a.attnum) is null
            and (c.relkind <> 'v' or c.relname like 'candles_%')
        union all
        select p.oid::regprocedure::text from pg_proc p join pg_namespace n on n.oid = p.pronamespace
        where n.nspname = 'market' and obj_description(p.oid, 'pg_proc') is null
        union all
        select format('ops.%s', c.relname) from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = 'ops' and c.relname in ('loader_runs', 'watermarks', 'data_classes', 'data_class_relations')
            and obj_description(c.oid, 'pg_class') is null
    """).fetchall()
    assert missing == []


def test_timeframes_and_data_classes_are_seeded(conn) -> None:
    assert [r[0] for r in conn.execute("select timeframe from market.timeframes where is_rollup order by bucket_width")] == \
        ["1m", "5m", "15m", "30m", "1h", "2h", "4h", "1d", "1w"]
    classes = dict(conn.execute("select data_class, retain_for::text from ops.data_classes").fetchall())
    assert classes["market_data"] == "2 years" and classes["system_logs"] == "3 mons"
    assert classes["signals"] == "1 year" and classes["trading"] is None and classes["aggregates"] is None
    assert classes["candles"] is None  # candles of every timeframe are kept (issue 9, item 4)
    relations = dict(conn.execute("select relation, data_class from ops.data_class_relations").fetchall())
    assert relations["market.trades"] == relations["market.quotes"] == "market_data"
    assert relations["market.candles"] == relations["market.trade_candles_1h"] == "candles"
    assert relations["market.native_candles_1d"] == "candles"


def test_timescaledb_mode_uses_hypertables_and_policies(conn, db_mode) -> None:
    if db_mode != "timescaledb":
        pytest.skip("TimescaleDB mode only")
    hypertables = {r[0] for r in conn.execute(
        "select hypertable_schema || '.' || hypertable_name from timescaledb_information.hypertables"
        " where hypertable_schema = 'market'")}
    assert {"market.trades", "market.quotes", "market.candles"} <= hypertables
    caggs = {r[0] for r in conn.execute("select view_name from timescaledb_information.continuous_aggregates")}
    assert {f"trade_candles_{tf}" for tf in ("1m", "5m", "15m", "1h", "4h", "1d")} <= caggs
    jobs = {(r[0], r[1]) for r in conn.execute(
        "select proc_name, hypertable_name from timescaledb_information.jobs where hypertable_schema = 'market'")}
    assert ("policy_compression", "trades") in jobs
    # Retention is the project's own job (logs its deletions, keeps the continuous aggregates),
    # not add_retention_policy.
    assert not [j for j in jobs if j[0] == "policy_retention"]
    assert conn.execute("select count(*) from timescaledb_information.jobs"
                        " where proc_schema = 'ops' and proc_name = 'run_retention'").fetchone()[0] == 1
    offsets = dict(conn.execute(
        "select hypertable_name, config ->> 'end_offset' from timescaledb_information.jobs"
        " where proc_name = 'policy_refresh_continuous_aggregate' and hypertable_schema = 'market'").fetchall())
    assert offsets["trade_candles_1m"] == "00:01:00" and offsets["trade_candles_1h"] == "01:00:00"
    assert offsets["trade_candles_1d"] == "1 day"
