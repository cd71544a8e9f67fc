"""No secret (taapi key, MT5 bridge key) in logs, errors or run records; two overlapping runs of
one job: one runs, the other skips with a clear message."""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import time

import psycopg
import pytest

from loaders.cli import main
from loaders.fakes import Fault, Reply
from tests.loaders.conftest import MT5_KEY, TAAPI_KEY
from tests.loaders.helpers import run_cli


def _everything_recorded(url: str) -> str:
    with psycopg.connect(url) as conn:
        runs = conn.execute("select coalesce(string_agg(r::text, '|'), '') from ops.loader_runs as r").fetchone()[0]
        quarantine = conn.execute("select coalesce(string_agg(q::text, '|'), '') from market.quarantine as q").fetchone()[0]
        signals = conn.execute("select coalesce(string_agg(s::text, '|'), '') from signals.raw_signals as s").fetchone()[0]
    return runs + quarantine + signals


@pytest.fixture
def debug_logs(caplog):
    caplog.set_level(logging.DEBUG)        # urllib3 logs full request URLs at DEBUG
    return caplog


def _assert_no_secret(*texts: str) -> None:
    for text in texts:
        assert TAAPI_KEY not in text and MT5_KEY not in text
        assert TAAPI_KEY[:16] not in text and MT5_KEY[:14] not in text


TAAPI_FAILURES = {
    "server error": lambda: Fault.server_error(500),
    "timeout": lambda: Fault.slow(1.0),
    "error echoing the secret": lambda: Reply(400, {"error": f"invalid request: secret={TAAPI_KEY}"}),
    "rate limited": lambda: Fault.rate_limited(retry_after=0),
}


@pytest.mark.parametrize("failure", list(TAAPI_FAILURES))
@pytest.mark.parametrize("endpoint", ["bulk", "single"])
def test_taapi_key_never_appears_in_logs_errors_or_run_records(db_url, taapi_server, loader_env, debug_logs,
                                                              capsys, endpoint, failure):
    path = "/bulk" if endpoint == "bulk" else "/rsi"
    taapi_server.inject(path, *(TAAPI_FAILURES[failure]() for _ in range(3)))
    args = ["taapi", "--interval", "1h", "--indicator", "rsi", "--base-url", taapi_server.url, "--url", db_url,
            "--retries", "2", "--timeout", "0.4", "--backoff", "0.01", "--min-interval", "0"]
    code = run_cli(*args, *(["--single"] if endpoint == "single" else []))
    out, err = capsys.readouterr()
    if endpoint == "single" and failure == "error echoing the secret":
        assert code == 0       # one indicator refused: quarantined with the (redacted) reason
    else:
        assert code == 1 and err.strip().splitlines()[-1].startswith("error: taapi")
    assert any(TAAPI_KEY in (r.body.decode() + str(r.query)) for r in taapi_server.requests)  # it was sent …
    _assert_no_secret(out, err, debug_logs.text, _everything_recorded(db_url))             # … never shown


def test_taapi_key_not_shown_when_the_server_is_unreachable(db_url, loader_env, debug_logs, capsys):
    code = run_cli("taapi", "--interval", "1h", "--single", "--base-url", "http://127.0.0.1:9", "--url", db_url,
                   "--retries", "2", "--backoff", "0.01", "--min-interval", "0")
    out, err = capsys.readouterr()
    assert code == 1 and "connection failed" in err
    _assert_no_secret(out, err, debug_logs.text, _everything_recorded(db_url))


@pytest.mark.parametrize("reply", [
    Reply(401, {"error": {"code": "UNAUTHORIZED", "message": f"invalid API key {MT5_KEY}"}}),
    Fault.server_error(503),
])
def test_mt5_key_never_appears_in_logs_errors_or_run_records(db_url, mt5, loader_env, debug_logs, capsys, reply):
    mt5.inject("/rates", reply, reply, reply)
    code = run_cli("candles", "--exchange", "mt5", "--symbol", "EURUSD", "--base-url", mt5.url, "--url", db_url,
                   "--retries", "2", "--backoff", "0.01", "--min-interval", "0")
    out, err = capsys.readouterr()
    assert code == 1 and "error: mt5-candles: mt5:" in err
    assert all(r.headers.get("X-API-Key") == MT5_KEY for r in mt5.requests)
    _assert_no_secret(out, err, debug_logs.text, _everything_recorded(db_url))


def test_wrong_mt5_key_fails_clearly(db_url, mt5, monkeypatch, capsys):
    monkeypatch.setenv("MT5_API_KEY", "not-the-right-key")
    assert run_cli("quotes", "--exchange", "mt5", "--symbol", "EURUSD", "--base-url", mt5.url, "--url", db_url,
                   "--quiet") == 1
    err = capsys.readouterr().err
    assert "HTTP 401: invalid API key" in err and "not-the-right-key" not in err


def test_mt5_without_a_key_is_a_configuration_error(db_url, mt5, monkeypatch, capsys):
    monkeypatch.delenv("MT5_API_KEY", raising=False)
    assert run_cli("candles", "--exchange", "mt5", "--symbol", "EURUSD", "--base-url", mt5.url, "--url", db_url) == 2
    assert capsys.readouterr().err.strip() == \
        "error: the mt5 API key is missing: set the environment variable MT5_API_KEY"


def _child(args: list[str]) -> None:
    os._exit(main(args))


def test_two_overlapping_runs_of_one_job_one_runs_the_other_skips(db_url, binance, capsys):
    klines = binance.routes[("GET", "/api/v3/klines")]

    def slow(req):
        time.sleep(0.2)
        return klines(req)

    binance.route("GET", "/api/v3/klines", slow)
    args = ["candles", "--exchange", "binance", "--symbol", "BTC/USDT", "--since", "2024-08-01", "--page-size", "5",
            "--base-url", binance.url, "--url", db_url, "--quiet", "--min-interval", "0"]
    first = multiprocessing.get_context("fork").Process(target=_child, args=(args,))
    first.start()
    try:
        with psycopg.connect(db_url, autocommit=True) as conn:
            for _ in range(100):
                if conn.execute("select count(*) from ops.loader_runs where status = 'running'").fetchone()[0]:
                    break
                time.sleep(0.05)
        assert main(args) == 3
        assert capsys.readouterr().err.strip() == "skipped: another run of job 'binance-candles' is in progress"
        assert first.is_alive()
    finally:
        os.kill(first.pid, signal.SIGKILL)
        first.join(10)
    with psycopg.connect(db_url) as conn:
        assert conn.execute("select count(*) from ops.loader_runs").fetchone()[0] == 1   # the skipped run left no record
