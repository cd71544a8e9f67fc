"""Errors a user causes, through every entry point run as the user runs it (a subprocess): one
sentence on stderr, exit 2 for usage/configuration errors and 1 for failed runs, never a
traceback; output into a closed pipe ends quietly. Then the loads that used to do nothing
silently: --since in the future, --until and --backfill, a symbol the exchange rejects, an MT5
bridge clock that is not UTC. HTTP sources run against the fakes in loaders/fakes (loopback)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from db.connection import database_url
from loaders.fakes.binance import make_binance
from loaders.fakes.market import US, MarketData, utc_us
from loaders.fakes.mt5 import make_mt5
from tests.loaders.conftest import MT5_KEY
from tests.loaders.helpers import expected_candles, expected_trades, stored_candles, stored_trades

ROOT = Path(__file__).resolve().parents[2]
FAST = ("--min-interval", "0", "--retries", "1", "--timeout", "5", "--quiet")


def run(*args: str, env: dict[str, str] | None = None, stdout=subprocess.PIPE) -> subprocess.CompletedProcess:
    """`python <args>` from the project root, as a user types it."""
    full_env = {k: v for k, v in os.environ.items() if k not in ("DRY_RUN", "DATABASE_URL")}
    full_env.update(PYTHONPATH=str(ROOT), **(env or {}))
    return subprocess.run([sys.executable, *map(str, args)], cwd=ROOT, env=full_env, stdout=stdout,
                          stderr=subprocess.PIPE, text=True, timeout=180)


def one_sentence(p: subprocess.CompletedProcess, code: int, *expected: str) -> str:
    """The process exited `code` with exactly one stderr line holding every `expected` text."""
    out = p.stdout or ""
    assert "Traceback" not in p.stderr + out, p.stderr
    lines = [line for line in p.stderr.splitlines() if line.strip()]
    assert p.returncode == code, (p.returncode, p.stderr)
    assert len(lines) == 1, p.stderr
    for text in expected:
        assert text in lines[0], lines[0]
    return lines[0]


# -- item 10: every entry point, bad input ------------------------------------------------------

@pytest.fixture
def indicator_db(db_url):
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("select market.register_instrument('binance', 'BTCUSDT')")
    return db_url


@pytest.mark.parametrize("args,expected", [
    (["BTC/USDT", "1m", "nosuch"], "indicator nosuch is not maintained"),
    (["BTC/USDT", "1m", "rsi", "--params", "{bad"], "--params is not valid JSON"),
    (["BTC/USDT", "1m", "rsi", "--params", "[14]"], "--params must be a JSON object"),
    (["BTC/USDT", "1m", "rsi", "--params", '{"nosuch": 1}'], "rsi has no parameter nosuch"),
    (["NOPE/USDT", "1m", "rsi"], "no instrument NOPE/USDT on binance"),
    (["BTC/USDT", "7x", "rsi"], "7x is not a"),
])
def test_indicators_add_rejects_bad_input_in_one_sentence(indicator_db, args, expected):
    p = run("-m", "db.indicators", "--url", indicator_db, "add", "binance", *args)
    line = one_sentence(p, 2, expected)
    assert "CONTEXT" not in line and "PL/pgSQL" not in line


def _entry_points(tmp: Path) -> dict[str, list[str]]:
    """Every entry point, with arguments that make it connect to the database."""
    capture = tmp / "BTCUSDT.ws"
    capture.write_text("")
    dump = tmp / "BTCUSDT-1m-2024-08-01.csv"
    dump.write_text("")
    return {
        "migrate": ["-m", "db.migrate", "--quiet"],
        "migrate --status": ["-m", "db.migrate", "--status"],
        "db.connection env": ["-m", "db.connection", "env"],
        "rollups": ["-m", "db.rollups"],
        "integrity": ["-m", "db.integrity"],
        "synthetic": ["-m", "scripts.synthetic", "--load", "--days", "0.01", "--quiet"],
        "indicators list": ["-m", "db.indicators", "list"],
        "indicators refresh": ["-m", "db.indicators", "refresh"],
        "indicators add": ["-m", "db.indicators", "add", "binance", "BTC/USDT", "1m", "rsi"],
        "loaders candles": ["-m", "loaders", "candles", "--exchange", "binance", "--symbol", "BTC/USDT",
                            "--base-url", "http://127.0.0.1:9", *FAST],
        "loaders dumps": ["-m", "loaders", "dumps", str(dump), "--quiet"],
        "loaders capture": ["-m", "loaders", "capture", str(capture), "--quiet"],
        "loaders rollups": ["-m", "loaders", "rollups"],
        "demo": ["-m", "scripts.demo"],
    }


ENTRY_POINTS = list(_entry_points(Path("/tmp")))


@pytest.mark.parametrize("name", ENTRY_POINTS)
def test_a_database_url_that_is_not_a_url_is_one_sentence_exit_2(name, tmp_path):
    p = run(*_entry_points(tmp_path)[name], env={"DATABASE_URL": "not a url"})
    one_sentence(p, 2, "is not a PostgreSQL URL", "postgresql://")


@pytest.mark.parametrize("name", ["migrate", "rollups", "indicators list", "loaders candles", "demo"])
def test_a_mysql_url_is_one_sentence_exit_2(name, tmp_path):
    p = run(*_entry_points(tmp_path)[name], env={"DATABASE_URL": "mysql://me:secret@db.example/market"})
    line = one_sentence(p, 2, "must start with postgresql://", "'mysql'")
    assert "secret" not in line


def test_a_bad_cluster_setting_is_one_sentence_exit_2():
    p = run("-m", "db.cluster", "url", env={"TSQ_PG_PORT": "five"})
    one_sentence(p, 2, "TSQ_PG_PORT", "port number")


@pytest.fixture
def closed_pipe():
    """A stdout whose reader has already gone away (what `| head -1` leaves behind)."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    yield write_end
    os.close(write_end)


@pytest.mark.parametrize("args", [
    ["-m", "db.migrate", "--status"],
    ["-m", "db.connection", "env"],
    ["-m", "db.cluster", "url"],
    ["-m", "db.integrity", "--from", "all"],
    ["-m", "db.rollups"],
    ["-m", "db.indicators", "list"],
    ["-m", "scripts.synthetic", "--days", "0.01"],
    ["-m", "loaders", "--help"],
    ["-m", "loaders", "taapi", "--interval", "1h"],
], ids=lambda a: " ".join(a[1:3]))
def test_output_into_a_closed_pipe_ends_quietly(args, indicator_db, closed_pipe):
    with psycopg.connect(indicator_db, autocommit=True) as conn:
        conn.execute("select ta.maintain('binance', 'BTC/USDT', '1m', 'rsi', '{}')")
    p = run(*args, env={"DATABASE_URL": indicator_db, "DRY_RUN": "1"}, stdout=closed_pipe)
    assert "Traceback" not in p.stderr and "Exception ignored" not in p.stderr, p.stderr
    assert "Broken pipe" not in p.stderr and "BrokenPipe" not in p.stderr, p.stderr
    # 141 as for any Unix tool whose reader went away (argparse's --help ignores it itself: 0)
    assert p.returncode == (0 if "--help" in args else 141), (p.returncode, p.stderr)


def test_output_piped_into_head_ends_quietly(db_url):
    shell = (f"{sys.executable} -m scripts.synthetic --days 0.2 --csv /dev/stdout | head -1; "
             f"{sys.executable} -m db.migrate --status | head -1")
    p = subprocess.run(["bash", "-c", shell], cwd=ROOT, capture_output=True, text=True, timeout=180,
                       env={**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": db_url})
    assert p.stderr == "", p.stderr
    assert len(p.stdout.splitlines()) == 2 and p.stdout.splitlines()[1].startswith("database mode")


# -- item 11: clear sentences instead of internals ----------------------------------------------

@pytest.fixture
def empty_db_url(worker_tag):
    """A database that exists but was never migrated."""
    name = f"tsq_unmigrated_{worker_tag}"
    admin = database_url("postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {}").format(sql.Identifier(name)))
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    yield database_url(name)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


@pytest.mark.parametrize("name", ["rollups", "integrity", "synthetic", "indicators list", "indicators add",
                                  "loaders candles", "loaders capture", "demo"])
def test_a_database_never_migrated_says_how_to_migrate(name, empty_db_url, tmp_path):
    p = run(*_entry_points(tmp_path)[name], env={"DATABASE_URL": empty_db_url})
    one_sentence(p, 2, "not migrated", "make migrate")


def test_an_unknown_exchange_names_the_known_ones(db_url):
    p = run("-m", "loaders", "candles", "--exchange", "bitstamp", "--symbol", "BTC/USD", "--url", db_url, *FAST)
    line = one_sentence(p, 2, "unknown exchange 'bitstamp'", "binance", "kraken", "coinbase", "mt5")
    assert "MT5 bridge" not in line
    p = run("-m", "loaders", "quotes", "--exchange", "mt5", "--symbol", "EURUSD", "--url", db_url, *FAST)
    one_sentence(p, 2, "mt5 has no default address: pass --base-url")


def test_a_rejected_taapi_key_fails_the_report_row_and_says_so_once(db_url, taapi_server):
    p = run("-m", "loaders", "taapi", "--interval", "1h", "--base-url", taapi_server.url, "--url", db_url,
            "--min-interval", "0", "--retries", "1", env={"KEY_TAAPI_IO": "not-the-key"})
    assert p.returncode == 1 and "Traceback" not in p.stderr
    row = next(line for line in p.stdout.splitlines() if line.startswith("taapi"))
    assert row.split()[-2:] != ["ok"] and "failed" in row, row
    error = [line for line in p.stderr.splitlines() if line.startswith("error:")]
    assert len(error) == 1 and "taapi: taapi:" not in error[0], error
    assert "rejected the key" in error[0] and "KEY_TAAPI_IO" in error[0], error


def test_a_malformed_dump_csv_is_one_sentence(db_url, tmp_path):
    dump = tmp_path / "BTCUSDT-1m-2024-08-01.csv"
    dump.write_text("a,b\nfoo,bar\n")
    p = run("-m", "loaders", "dumps", dump, "--url", db_url, "--quiet")
    line = one_sentence(p, 1, "BTCUSDT-1m-2024-08-01.csv", "2 fields", "12")
    assert "usecols" not in line and "out-of-bounds" not in line


def test_a_missing_dump_file_is_a_usage_error(db_url, tmp_path):
    p = run("-m", "loaders", "dumps", tmp_path / "BTCUSDT-1m-2024-08.zip", "--url", db_url, "--quiet")
    one_sentence(p, 2, "BTCUSDT-1m-2024-08.zip does not exist")


@pytest.mark.parametrize("value", ["2024-02-30", "2024-13-01", "yesterday"])
def test_a_bad_date_in_the_config_names_the_file_and_the_key(db_url, tmp_path, value):
    cfg = tmp_path / "config.yaml"
    cfg.write_text(f"exchanges:\n  binance:\n    pairs: [BTC/USDT]\n    since: {value}\n")
    p = run("-m", "loaders", "run", "--config", cfg, "--url", db_url, "--quiet")
    one_sentence(p, 2, str(cfg), "exchanges.binance.since", value, "is not a date")


def test_one_attempt_is_singular(db_url):
    p = run("-m", "loaders", "candles", "--exchange", "binance", "--symbol", "BTC/USDT",
            "--base-url", "http://127.0.0.1:9", "--url", db_url, *FAST)
    line = one_sentence(p, 1, "after 1 attempt (")
    assert "attempts" not in line


# -- item 12: no silent no-ops ------------------------------------------------------------------

def _watermarks(url: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute("select job, dataset, timeframe, high_water, last_id from ops.watermarks"
                            " order by 1, 2, 3").fetchall()


def test_since_in_the_future_says_so(db_url, binance):
    p = run("-m", "loaders", "candles", "--exchange", "binance", "--symbol", "BTC/USDT", "--since", "2024-09-01",
            "--base-url", binance.url, "--url", db_url, *FAST)
    one_sentence(p, 2, "2024-09-01", "after", "binance", "2024-08-01 03:00", "nothing to load")
    assert stored_candles(db_url, "binance", "1m") == []


def _candles(db_url, binance, *extra: str) -> subprocess.CompletedProcess:
    return run("-m", "loaders", "candles", "--exchange", "binance", "--symbol", "BTC/USDT",
               "--base-url", binance.url, "--url", db_url, "--page-size", "50", *FAST, *extra)


def test_until_bounds_a_load_and_the_next_run_continues_after_it(db_url, binance, market):
    oracle = expected_candles(market, 60, fill_quiet=True)
    assert _candles(db_url, binance, "--since", "2024-08-01", "--until", "2024-08-01T00:30").returncode == 0
    assert [c[0] for c in stored_candles(db_url, "binance", "1m")] == [c[0] for c in oracle[:30]]
    assert _candles(db_url, binance).returncode == 0
    assert [c[0] for c in stored_candles(db_url, "binance", "1m")] == [c[0] for c in oracle]


def test_backfill_extends_candles_before_the_first_stored_bar_without_moving_the_watermark(
        db_url, binance, market):
    oracle = expected_candles(market, 60, fill_quiet=True)
    assert _candles(db_url, binance, "--since", "2024-08-01T02:00").returncode == 0
    before = _watermarks(db_url)
    assert [c[0] for c in stored_candles(db_url, "binance", "1m")] == [c[0] for c in oracle[120:]]
    p = _candles(db_url, binance, "--backfill", "--since", "2024-08-01T01:00")
    assert p.returncode == 0 and "Traceback" not in p.stderr, p.stderr
    assert [c[0] for c in stored_candles(db_url, "binance", "1m")] == [c[0] for c in oracle[60:]]
    assert _watermarks(db_url) == before
    # bounded at both ends, and nothing outside the bounds
    p = _candles(db_url, binance, "--backfill", "--since", "2024-08-01T00:00", "--until", "2024-08-01T00:10")
    assert p.returncode == 0, p.stderr
    times = [c[0] for c in stored_candles(db_url, "binance", "1m")]
    assert times == [c[0] for c in oracle[:10]] + [c[0] for c in oracle[60:]]
    assert _watermarks(db_url) == before
    # --backfill needs a start
    one_sentence(_candles(db_url, binance, "--backfill"), 2, "--backfill needs --since")


def test_backfill_extends_trades_before_the_first_stored_trade_without_moving_the_watermark(
        db_url, binance, market):
    oracle = expected_trades(market)
    boundary = utc_us("2024-08-01T01:30:00")
    run_args = ("-m", "loaders", "trades", "--exchange", "binance", "--symbol", "BTC/USDT",
                "--base-url", binance.url, "--url", db_url, *FAST)
    assert run(*run_args, "--since", "2024-08-01T01:30").returncode == 0
    assert stored_trades(db_url, "binance") == [t for t in oracle if t[0] >= boundary]
    before = _watermarks(db_url)
    p = run(*run_args, "--backfill", "--since", "2024-08-01T00:00")
    assert p.returncode == 0, p.stderr
    assert stored_trades(db_url, "binance") == oracle
    assert _watermarks(db_url) == before


def test_a_symbol_the_exchange_rejects_is_not_left_as_an_active_instrument(db_url, binance):
    for dataset in ("candles", "trades", "ticker"):
        p = run("-m", "loaders", dataset, "--exchange", "binance", "--symbol", "NOPE/USDT",
                "--base-url", binance.url, "--url", db_url, *FAST)
        one_sentence(p, 1, "Invalid symbol", "NOPE/USDT")
    with psycopg.connect(db_url) as conn:
        rows = conn.execute("select exchange_symbol, status from market.instruments"
                            " where exchange = 'binance' and status = 'active'").fetchall()
    assert ("NOPEUSDT", "active") not in rows


@pytest.fixture
def mt5_now():
    """An MT5 bridge two hours ahead of UTC whose market 'now' is the real clock."""
    now = int(time.time()) * US
    market = MarketData(start_us=now - 3 * 3600 * US, now_us=now)
    with make_mt5({"EURUSD": market}, api_key=MT5_KEY, broker_offset_hours=2) as srv:
        yield srv


def test_an_mt5_clock_off_utc_without_an_offset_is_warned_about(db_url, mt5_now):
    args = ("-m", "loaders", "candles", "--exchange", "mt5", "--symbol", "EURUSD", "--base-url", mt5_now.url,
            "--url", db_url, *FAST)
    p = run(*args, env={"MT5_API_KEY": MT5_KEY})
    assert p.returncode == 0, p.stderr
    warnings = [line for line in p.stderr.splitlines() if "WARNING" in line]
    assert len(warnings) == 1 and "--broker-offset 2" in warnings[0] and "broker_utc_offset_hours: 2" in warnings[0]
    p = run(*args, "--broker-offset", "2", env={"MT5_API_KEY": MT5_KEY})
    assert p.returncode == 0 and "broker-offset" not in p.stderr, p.stderr
