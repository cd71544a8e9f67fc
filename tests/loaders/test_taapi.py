"""taapi.io loader against the fake: bulk (≤ 20 calculations per request) and single endpoints,
DRY_RUN without HTTP, plan throttling and 429 handling, errors quarantined, idempotent reruns."""

from __future__ import annotations

import json

import psycopg
import pytest

from loaders.fakes import Fault
from loaders.fakes.taapi import value_of
from tests.loaders.helpers import last_run, run_cli

FAST = ("--min-interval", "0", "--timeout", "2", "--backoff", "0.01")


def _rows(url: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "select symbol, timeframe, indicator, indicator_key, value, outputs, extract(epoch from source_time)::bigint,"
            " raw_json, simulated from signals.raw_signals order by symbol, timeframe, indicator_key").fetchall()


def test_bulk_splits_into_requests_of_at_most_20_calculations(db_url, taapi_server, loader_env):
    args = ("taapi", "--interval", "1h", "--interval", "15m", "--symbol", "BTC/USDT,ETH/USDT",
            "--base-url", taapi_server.url, "--url", db_url, "--quiet", *FAST)
    assert run_cli(*args) == 0
    bulk_calls = [r for r in taapi_server.requests if r.path == "/bulk"]
    sizes = [sum(len(c["indicators"]) for c in r.json()["construct"]) for r in bulk_calls]
    assert sizes == [20, 4]                       # 2 symbols x 2 intervals x 6 indicators
    rows = _rows(db_url)
    assert len(rows) == 24 and not any(r[8] for r in rows)
    by_key = {(r[0], r[1], r[3]): r for r in rows}
    macd = by_key[("BTC/USDT", "1h", "macd")]
    assert macd[4] == pytest.approx(value_of("macd", "BTC/USDT", "1h", 1, None)["valueMACD"])
    assert set(macd[5]) == {"valueMACD", "valueMACDSignal", "valueMACDHist"}
    assert macd[6] == (1_722_481_230 // 3600 - 1) * 3600            # backtrack 1: the last closed candle
    rsi = by_key[("ETH/USDT", "15m", "rsi_14")]
    assert rsi[4] == pytest.approx(value_of("rsi", "ETH/USDT", "15m", 1, 14)["value"])
    assert isinstance(rsi[7]["received_at"], str)                      # datetimes serialised
    assert run_cli(*args) == 0                                         # same candles again: duplicates
    assert len(_rows(db_url)) == 24
    assert last_run(db_url, "taapi-1h-15m")[1:5] == (24, 0, 0, 24)


def test_single_endpoint_sends_indicator_parameters(db_url, taapi_server, loader_env):
    assert run_cli("taapi", "--interval", "4h", "--single", "--indicator", "rsi,bbands", "--base-url",
                   taapi_server.url, "--url", db_url, "--quiet", *FAST) == 0
    gets = [r for r in taapi_server.requests if r.method == "GET"]
    assert [r.path for r in gets] == ["/rsi", "/bbands"]
    assert all(r.query["interval"] == "4h" and r.query["addResultTimestamp"] == "true" for r in gets)
    assert [r[2] for r in _rows(db_url)] == ["bbands", "rsi"]


def test_dry_run_makes_no_http_call_and_makes_nothing_up_without_stored_candles(db_url, taapi_server, monkeypatch):
    """DRY_RUN computes taapi's values from our stored candles (tests/loaders/test_demo_data.py
    checks the values); with no candles of the bar there is nothing plausible to store."""
    monkeypatch.delenv("KEY_TAAPI_IO", raising=False)
    monkeypatch.setenv("DRY_RUN", "1")
    assert run_cli("taapi", "--interval", "1h", "--base-url", taapi_server.url, "--url", db_url, "--quiet") == 0
    assert taapi_server.requests == []
    assert _rows(db_url) == []
    with psycopg.connect(db_url) as conn:
        errors = [r[0] for r in conn.execute("select payload::jsonb ->> 'error' from market.quarantine"
                                             " where dataset = 'raw_signals'").fetchall()]
    assert len(errors) == 6 and all(e.startswith("DRY_RUN: cannot simulate ") and "binance BTC/USDT 1h" in e
                                    for e in errors), errors


def test_rate_limit_429_waits_and_completes(db_url, taapi_server, loader_env):
    taapi_server.inject("/bulk", Fault.rate_limited(retry_after=0, body={"error": "429: You have exceeded your request limit (TAAPI.IO rate-limit)!"}))
    assert run_cli("taapi", "--interval", "1h", "--base-url", taapi_server.url, "--url", db_url, "--quiet", *FAST) == 0
    assert taapi_server.count("/bulk") == 2 and len(_rows(db_url)) == 6


def test_plan_spacing_throttles_requests(db_url, taapi_server, loader_env):
    import time

    started = time.monotonic()
    assert run_cli("taapi", "--interval", "1h", "--single", "--indicator", "rsi,ema,sma", "--base-url",
                   taapi_server.url, "--url", db_url, "--quiet", "--timeout", "2", "--min-interval", "0.3") == 0
    assert time.monotonic() - started >= 0.6           # three requests, 0.3 s apart


def test_errors_inside_the_bulk_answer_are_quarantined_and_counted(db_url, taapi_server, loader_env):
    assert run_cli("taapi", "--interval", "1h", "--symbol", "BTC/USDT,NOPE/USDT", "--base-url",
                   taapi_server.url, "--url", db_url, "--quiet", *FAST) == 0
    status, rows_in, loaded, quarantined, duplicate, *_ = last_run(db_url, "taapi-1h")
    assert (status, rows_in, loaded, quarantined, duplicate) == ("succeeded", 12, 6, 6, 0)
    with psycopg.connect(db_url) as conn:
        payloads = [json.loads(p) for (p,) in conn.execute("select payload from market.quarantine where source = 'taapi'")]
    assert len(payloads) == 6 and "not supported" in payloads[0]["error"]


def test_missing_key_is_one_sentence_and_exit_2(db_url, taapi_server, monkeypatch, capsys):
    monkeypatch.delenv("KEY_TAAPI_IO", raising=False)
    monkeypatch.delenv("DRY_RUN", raising=False)
    assert run_cli("taapi", "--interval", "1h", "--base-url", taapi_server.url, "--url", db_url, "--quiet") == 2
    assert capsys.readouterr().err.strip() == \
        "error: the taapi.io key is missing: set KEY_TAAPI_IO (or DRY_RUN=1 to simulate)"


def test_unknown_interval_is_rejected(db_url, taapi_server, loader_env, capsys):
    assert run_cli("taapi", "--interval", "3m", "--base-url", taapi_server.url, "--url", db_url, "--quiet") == 2
    assert "taapi has no interval '3m'" in capsys.readouterr().err
