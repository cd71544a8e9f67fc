"""Every fault of the fake servers against every exchange source: a transient fault is retried
and the run completes with exactly the oracle's rows; a persistent one ends the run with exit 1
and one clear sentence, leaves only whole pages (never a partial batch), and the next run
completes."""

from __future__ import annotations

import time

import psycopg
import pytest

from loaders.fakes import Fault
from tests.loaders.conftest import MT5_KEY
from tests.loaders.helpers import close, expected_candles, last_run, run_cli, stored_candles

SOURCES = {
    # exchange: (fixture, symbol, data path, fills quiet minutes, extra args)
    "binance": ("binance", "BTC/USDT", "/api/v3/klines", True, ()),
    "kraken": ("kraken", "BTC/USD", "/0/public/OHLC", True, ()),
    "coinbase": ("coinbase", "BTC/USD", "/products/", False, ()),
    "mt5": ("mt5", "EURUSD", "/rates", False, ("--broker-offset", "2")),
}
TRANSIENT_FAULTS = {
    "429 with Retry-After": lambda: Fault.rate_limited(retry_after=0),
    "418 with Retry-After": lambda: Fault.banned(retry_after=0),
    "HTTP 500": lambda: Fault.server_error(500),
    "HTTP 503": lambda: Fault.server_error(503),
    "malformed JSON": Fault.malformed,
    "truncated JSON": Fault.truncated,
    "slow response past the timeout": lambda: Fault.slow(1.2),
    "empty body": lambda: Fault.slow(0, body=b""),
}
FAST = ("--min-interval", "0", "--timeout", "0.5", "--backoff", "0.01", "--retries", "3")


def _candles_args(exchange: str, srv, db_url: str) -> tuple:
    fixture, symbol, _, _, extra = SOURCES[exchange]
    return ("candles", "--exchange", exchange, "--symbol", symbol, "--since", "2024-08-01",
            "--page-size", "40", "--base-url", srv.url, "--url", db_url, "--quiet", *FAST, *extra)


def _expected(exchange: str, market) -> list[tuple]:
    rows = expected_candles(market, 60, fill_quiet=SOURCES[exchange][3])
    if exchange == "mt5":      # MT5 rates carry tick_volume (real_volume is 0 on FX): the trade count
        counts = {c.open_time_us: c.count for c in market.candles(60, fill_quiet=False)}
        rows = [r[:5] + (float(counts[r[0]]),) for r in rows]
    return rows


@pytest.fixture
def mt5_key(monkeypatch):
    monkeypatch.setenv("MT5_API_KEY", MT5_KEY)


# Every fault against Binance; the main ones against every other source too.
TRANSIENT_CASES = [("binance", f) for f in TRANSIENT_FAULTS] + [
    (exchange, f) for exchange in ("kraken", "coinbase", "mt5")
    for f in ("429 with Retry-After", "HTTP 500", "malformed JSON", "truncated JSON", "slow response past the timeout")
]


@pytest.mark.parametrize("exchange,fault", TRANSIENT_CASES)
def test_transient_fault_is_retried_and_the_run_completes(request, db_url, market, mt5_key, exchange, fault):
    srv = request.getfixturevalue(SOURCES[exchange][0])
    srv.inject(SOURCES[exchange][2], TRANSIENT_FAULTS[fault](), TRANSIENT_FAULTS[fault](), after=1)
    assert run_cli(*_candles_args(exchange, srv, db_url)) == 0
    assert close(stored_candles(db_url, exchange, "1m"), _expected(exchange, market))
    assert last_run(db_url, f"{exchange}-candles")[0] == "succeeded"


def test_kraken_rate_limit_inside_http_200_is_retried(db_url, kraken, market):
    kraken.inject("/0/public/OHLC", Fault.kraken_error("EAPI:Rate limit exceeded"),
                  Fault.kraken_error("EService:Busy"))
    assert run_cli(*_candles_args("kraken", kraken, db_url)) == 0
    assert close(stored_candles(db_url, "kraken", "1m"), _expected("kraken", market))
    assert kraken.count("/0/public/OHLC") == 3


def test_retry_after_is_honoured(db_url, binance, market):
    binance.inject("/api/v3/klines", Fault.rate_limited(retry_after=1))
    started = time.monotonic()
    assert run_cli(*_candles_args("binance", binance, db_url)) == 0
    assert time.monotonic() - started >= 1.0
    assert close(stored_candles(db_url, "binance", "1m"), _expected("binance", market))


def test_ban_longer_than_the_run_waits_fails_at_once_with_a_clear_sentence(db_url, binance, capsys):
    binance.inject("/api/v3/klines", Fault.banned(retry_after=7200))
    started = time.monotonic()
    assert run_cli(*_candles_args("binance", binance, db_url)) == 1
    assert time.monotonic() - started < 5
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "IP address banned (HTTP 418), Retry-After 7200 s is longer than" in err


PERSISTENT_FAULTS = {
    "429": (lambda: Fault.rate_limited(retry_after=0), "rate limit exceeded (HTTP 429)"),
    "5xx": (lambda: Fault.server_error(502), "server error HTTP 502"),
    "malformed": (Fault.malformed, "malformed JSON in the response"),
    "truncated": (Fault.truncated, "connection failed"),
    "timeout": (lambda: Fault.slow(1.2), "no response within 0.5 s"),
}


PERSISTENT_CASES = [("binance", f) for f in PERSISTENT_FAULTS] + [
    (exchange, f) for exchange in ("coinbase", "mt5") for f in ("5xx", "timeout")
]


@pytest.mark.parametrize("exchange,fault", PERSISTENT_CASES)
def test_persistent_fault_fails_clearly_keeps_whole_pages_and_the_next_run_completes(
        request, db_url, market, mt5_key, capsys, exchange, fault):
    srv = request.getfixturevalue(SOURCES[exchange][0])
    make, message = PERSISTENT_FAULTS[fault]
    srv.inject(SOURCES[exchange][2], make(), make(), make(), after=2)
    assert run_cli(*_candles_args(exchange, srv, db_url)) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith(f"error: {exchange}-candles: {exchange}: ") and message in err[-1]
    assert "after 3 attempts" in err[-1] and not any("Traceback" in line for line in err)
    stored = stored_candles(db_url, exchange, "1m")
    expected = _expected(exchange, market)
    assert close(stored, expected[:len(stored)])         # a prefix of the history …
    assert len(stored) in (80, 78)                        # … of exactly two whole pages
    status, rows_in, loaded, quarantined, duplicate, error, _ = last_run(db_url, f"{exchange}-candles")
    assert status == "failed" and message in error and rows_in == loaded == len(stored)
    assert run_cli(*_candles_args(exchange, srv, db_url)) == 0
    assert close(stored_candles(db_url, exchange, "1m"), expected)


def test_kraken_error_that_is_not_throttling_is_not_retried(db_url, kraken, capsys):
    kraken.inject("/0/public/OHLC", Fault.kraken_error("EGeneral:Invalid arguments"))
    assert run_cli(*_candles_args("kraken", kraken, db_url)) == 1
    assert kraken.count("/0/public/OHLC") == 1
    assert "EGeneral:Invalid arguments" in capsys.readouterr().err


def test_malformed_rows_inside_a_good_page_are_quarantined_and_counted(db_url, binance, market):
    good = binance.routes[("GET", "/api/v3/klines")]

    def with_bad_rows(req):
        reply = good(req)
        if req.query.get("startTime") == str(market.start_us // 1000):
            reply.body = reply.body[:3] + [["oops"], [reply.body[3][0], "NaN?", "1", "1", "1", "1",
                                                      reply.body[3][6], "1", 1]] + reply.body[4:]
        return reply

    binance.route("GET", "/api/v3/klines", with_bad_rows)
    assert run_cli(*_candles_args("binance", binance, db_url)) == 0
    with psycopg.connect(db_url) as conn:
        reasons = conn.execute("select reason, count(*) from market.quarantine group by 1 order by 1").fetchall()
    status, rows_in, loaded, quarantined, duplicate, *_ = last_run(db_url, "binance-candles")
    assert reasons == [("malformed", 2)]
    assert rows_in == loaded + quarantined + duplicate and quarantined == 2 and status == "succeeded"


def test_a_trickling_server_is_bounded_by_the_timeout_per_attempt(db_url, binance, market, capsys):
    # One byte every 0.5 s: each read is quick, the answer takes minutes. --timeout 1 bounds it.
    binance.inject("/api/v3/klines", *(Fault.trickle(0.5) for _ in range(2)))
    started = time.monotonic()
    code = run_cli("candles", "--exchange", "binance", "--symbol", "BTC/USDT", "--since", "2024-08-01",
                   "--base-url", binance.url, "--url", db_url, "--quiet", "--min-interval", "0",
                   "--timeout", "1", "--retries", "2", "--backoff", "0.01")
    elapsed = time.monotonic() - started
    assert code == 1 and elapsed < 2 * 2.5, f"took {elapsed:.1f} s"
    assert "no response within 1 s after 2 attempts" in capsys.readouterr().err
    assert run_cli(*_candles_args("binance", binance, db_url)) == 0      # nothing stuck afterwards
    assert close(stored_candles(db_url, "binance", "1m"), _expected("binance", market))
