"""A real API server on loopback over a module database with candles, indicators and signals."""

from __future__ import annotations

import datetime as dt
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def api_url_for(db_url: str) -> str:
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    params = conninfo_to_dict(db_url)
    params.pop("password", None)
    params["user"] = "tsq_api"
    return make_conninfo(**params)


@pytest.fixture(scope="module")
def api_db(module_db_url: str) -> str:
    start = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=3)).strftime("%Y-%m-%d")
    done = subprocess.run([sys.executable, "-m", "scripts.synthetic", "--instruments", "2", "--days", "2",
                           "--start", start, "--trades-per-day", "8000", "--load", "--quiet", "--url", module_db_url],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    with psycopg.connect(module_db_url, autocommit=True) as conn:
        conn.execute("call market.refresh_rollups()")
        conn.execute("select ta.maintain('synthetic', 'BTCUSDT', '1h', 'rsi', '{\"timeperiod\": 14}')")
        conn.execute("select ta.maintain('synthetic', 'BTCUSDT', '1m', 'ema', '{\"timeperiod\": 10}')")
        conn.execute("select * from ta.refresh_indicators()")
        conn.execute(
            "insert into signals.raw_signals (source, exchange, symbol, timeframe, indicator, indicator_key,"
            " params, value, outputs, source_time, raw_json)"
            " select 'taapi', 'binance', 'BTC/USDT', '1h', 'rsi', 'rsi_14', '{}', 40 + g, '{}',"
            " now() - g * interval '1 hour', '{}' from generate_series(1, 30) as g"
        )
    from tests.surface_data import add_fresh_candles, seed_backtest, seed_signals, seed_trading

    add_fresh_candles(module_db_url)
    seed_signals(module_db_url)
    seed_trading(module_db_url)
    seed_backtest(module_db_url)
    return module_db_url


@pytest.fixture(scope="module")
def api_server(api_db: str):
    import uvicorn

    from db.api.app import create_app

    app = create_app(api_url_for(api_db))
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the API server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)
