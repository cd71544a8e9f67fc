"""Plain PostgreSQL mode and TimescaleDB mode give identical candles (bit for bit), on the same
input: the real captures plus synthetic trades delivered late and out of order."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from db.connection import database_url
from db.migrate import timescaledb_status, migrate
from loaders.binance_capture import import_files
from loaders.core.instruments import attach_ids
from scripts.synthetic import arrival_order, generate_trades, register

from .helpers import CAPTURES, TIMEFRAMES, load_trades


def _timescaledb_usable() -> bool:
    try:
        with psycopg.connect(database_url("postgres")) as conn:
            return timescaledb_status(conn)[0]
    except Exception:
        return False


def _fill(url: str) -> dict[str, list[tuple]]:
    trades = generate_trades(2, 0.5, seed=21, start="2024-02-10 22:00", trades_per_day=20_000)
    delivered = arrival_order(trades, late_fraction=0.05, max_delay_s=7200, seed=2)
    with psycopg.connect(url, autocommit=True) as conn:
        if CAPTURES:
            import_files(conn, CAPTURES[:2], datasets=("trades",), batch_size=5000)
        ids = register(conn, n_instruments=2)
        load_trades(conn, attach_ids(delivered, ids), batch_size=4000, refresh_every=3)
        conn.execute("call market.refresh_rollups()")
        return {tf: conn.execute(f"select * from market.candles_{tf} order by instrument_id, open_time").fetchall()
                for tf in TIMEFRAMES}


def test_plain_and_timescaledb_modes_give_identical_candles(db_mode: str) -> None:
    if db_mode != "timescaledb":
        pytest.skip("runs in the TimescaleDB-mode session (compares against a plain database)")
    if not _timescaledb_usable():
        pytest.skip("TimescaleDB is not usable on this server")
    names = {m: f"tsq_modes_{m}_{uuid.uuid4().hex[:8]}" for m in ("postgresql", "timescaledb")}
    results = {}
    try:
        for mode, name in names.items():
            url = database_url(name)
            migrate(url, mode=mode, create_db=True, log=lambda _m: None)
            results[mode] = _fill(url)
    finally:
        with psycopg.connect(database_url("postgres"), autocommit=True) as admin:
            for name in names.values():
                admin.execute(f'drop database if exists "{name}" with (force)')
    for tf in TIMEFRAMES:
        plain, ts = results["postgresql"][tf], results["timescaledb"][tf]
        assert len(plain) == len(ts) > 0, tf
        assert plain == ts, f"{tf}: first difference {next((a, b) for a, b in zip(plain, ts) if a != b)}"
