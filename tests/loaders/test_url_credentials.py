"""A password in a base URL (`--base-url http://user:password@host`, a dump URL) never appears in
stderr, the log lines (DEBUG included), the printed collection report, ops.loader_runs (args,
error), ops.events or market.quarantine: the real CLI against a fake server that fails, is
retried, and finally fails for good."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from loaders.fakes import Fault, FakeServer, Reply
from tests.loaders.conftest import TAAPI_KEY
from tests.loaders.helpers import run_cli

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "Pa55-w0rd-never-shown"


def _with_password(url: str) -> str:
    return url.replace("http://", f"http://loader:{PASSWORD}@", 1)


def _recorded(db_url: str) -> str:
    with psycopg.connect(db_url) as conn:
        return "|".join(conn.execute(f"select coalesce(string_agg(r::text, '|'), '') from {table} as r").fetchone()[0]
                        for table in ("ops.loader_runs", "ops.events", "market.quarantine"))


def _assert_hidden(*texts: str) -> None:
    for text in texts:
        assert PASSWORD not in text and PASSWORD[:8] not in text


FAST = ("--min-interval", "0", "--backoff", "0.01", "--timeout", "1")


def test_password_in_the_base_url_is_never_shown_by_the_cli_process(db_url, binance):
    # A retried fault (warnings), then one that persists (the error line, the failed report row).
    binance.inject("/api/v3/klines", Fault.server_error(503), *(Fault.server_error(502) for _ in range(2)), after=1)
    cmd = [sys.executable, "-m", "loaders", "candles", "--exchange", "binance", "--symbol", "BTC/USDT",
           "--since", "2024-08-01", "--page-size", "60", "--base-url", _with_password(binance.url),
           "--url", db_url, "--retries", "2", *FAST]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, cwd=ROOT)
    assert proc.returncode == 1, proc.stderr
    assert "retry 1/1" in proc.stderr and "server error HTTP 502 after 2 attempts" in proc.stderr
    assert "collection report" in proc.stdout and "failed:" in proc.stdout
    assert "loader:***@127.0.0.1" in proc.stderr           # the URL is still recognisable
    _assert_hidden(proc.stdout, proc.stderr, _recorded(db_url))
    # The fake server did receive the credentials (basic auth): they were used, only never shown.
    assert any("Authorization" in r.headers for r in binance.requests)


@pytest.mark.parametrize("command", ["candles", "trades", "ticker"])
def test_password_in_the_base_url_is_hidden_from_debug_logs_and_run_records(db_url, binance, caplog, capsys,
                                                                              command):
    caplog.set_level(logging.DEBUG)
    path = {"candles": "/api/v3/klines", "trades": "/api/v3/aggTrades", "ticker": "/api/v3/ticker"}[command]
    binance.inject(path, Fault.server_error(500), *(Fault.slow(1.5) for _ in range(2)))
    code = run_cli(command, "--exchange", "binance", "--symbol", "BTC/USDT", "--since", "2024-08-01T02:00",
                   "--base-url", _with_password(binance.url), "--url", db_url, "--retries", "3", *FAST)
    out, err = capsys.readouterr()
    assert code == 1 and "no response within 1 s after 3 attempts" in err
    _assert_hidden(out, err, caplog.text, _recorded(db_url))


def test_password_in_the_taapi_base_url_is_hidden(db_url, taapi_server, loader_env, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    taapi_server.inject("/bulk", *(Fault.server_error(500) for _ in range(2)))
    code = run_cli("taapi", "--interval", "1h", "--indicator", "rsi", "--base-url", _with_password(taapi_server.url),
                   "--url", db_url, "--retries", "2", *FAST)
    out, err = capsys.readouterr()
    assert code == 1 and "server error HTTP 500 after 2 attempts" in err
    _assert_hidden(out, err, caplog.text, _recorded(db_url))
    assert TAAPI_KEY not in out + err + caplog.text


def test_password_in_a_dump_url_is_hidden(db_url, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    with FakeServer("data.binance.vision") as srv:
        srv.route("GET", "/data/spot/monthly/klines/BTCUSDT/5m/BTCUSDT-5m-2024-08.zip",
                  lambda req: Reply(404, "not here"))
        url = _with_password(srv.url) + "/data/spot/monthly/klines/BTCUSDT/5m/BTCUSDT-5m-2024-08.zip"
        code = run_cli("dumps", url, "--url", db_url)
    out, err = capsys.readouterr()
    assert code == 1 and "HTTP 404" in err
    _assert_hidden(out, err, caplog.text, _recorded(db_url))
