"""The shared HTTP client on its own: Retry-After forms, the weight budget, redaction."""

from __future__ import annotations

import time
from email.utils import formatdate

import pytest

from loaders.core.http import HttpClient, HttpError, RateLimiter, Redactor, RetryPolicy, WeightBudget
from loaders.fakes import Fault, FakeServer, Reply


@pytest.fixture
def echo():
    with FakeServer("echo") as srv:
        srv.route("GET", "/ok", lambda req: Reply(body={"ok": True}))
        yield srv


def _client(srv: FakeServer, sleeps: list[float], **kwargs) -> HttpClient:
    return HttpClient(srv.url, source="echo", timeout=0.5, retry=RetryPolicy(attempts=3, base_delay=0.01),
                      sleep=sleeps.append, limiter=RateLimiter(0.0, sleep=lambda _s: None), **kwargs)


def test_retry_after_in_seconds_and_as_an_http_date_are_both_honoured(echo):
    sleeps: list[float] = []
    echo.inject("/ok", Fault.rate_limited(retry_after=7), Reply(503, "busy", {"Retry-After": formatdate(time.time() + 30, usegmt=True)}))
    assert _client(echo, sleeps).get_json("/ok") == {"ok": True}
    assert sleeps[0] == 7 and 28 <= sleeps[1] <= 31


def test_weight_header_near_the_budget_pauses_until_the_next_minute(echo):
    echo.route("GET", "/heavy", lambda req: Reply(body=[], headers={"X-MBX-USED-WEIGHT-1M": "5900"}))
    waits: list[float] = []
    limiter = RateLimiter(0.0, sleep=waits.append)
    client = HttpClient(echo.url, source="echo", limiter=limiter,
                        weight=WeightBudget("X-MBX-USED-WEIGHT-1M", 6000, clock=lambda: 120.0 + 45.0))
    client.get_json("/heavy")
    client.get_json("/heavy")
    assert len(waits) == 1 and 14.5 < waits[0] <= 15.1


def test_every_attempt_failing_ends_in_one_sentence(echo):
    echo.inject("/ok", *(Fault.server_error(502) for _ in range(3)))
    with pytest.raises(HttpError) as caught:
        _client(echo, []).get_json("/ok", {"secret": "abcdefgh1234"})
    assert str(caught.value) == f"echo: server error HTTP 502 after 3 attempts ({echo.url}/ok)"


def test_redactor_removes_known_secrets_and_secret_looking_fields():
    redact = Redactor(["s3cr3t-value"])
    text = 'GET /rsi?secret=abc123&symbol=BTC/USDT failed: s3cr3t-value {"secret": "xyz", "apiKey": "k"}'
    assert redact(text) == 'GET /rsi?secret=***&symbol=BTC/USDT failed: *** {"secret": "***", "apiKey": "***"}'


@pytest.mark.parametrize("headers_too", [False, True], ids=["body", "status line and headers"])
def test_timeout_is_a_deadline_for_the_whole_request_not_for_each_read(echo, headers_too):
    # Every read succeeds within the timeout (one byte each 0.2 s), the answer never completes in time.
    echo.inject("/ok", *(Fault.trickle(0.2, body=[0] * 20, headers_too=headers_too) for _ in range(2)))
    sleeps: list[float] = []
    client = HttpClient(echo.url, source="echo", timeout=1.0, retry=RetryPolicy(attempts=2, base_delay=0.01),
                        sleep=sleeps.append, limiter=RateLimiter(0.0, sleep=lambda _s: None))
    started = time.monotonic()
    with pytest.raises(HttpError) as caught:
        client.get_json("/ok")
    elapsed = time.monotonic() - started
    assert elapsed < 2 * 1.5, f"two attempts with a 1 s timeout took {elapsed:.1f} s"
    assert str(caught.value) == f"echo: no response within 1 s after 2 attempts ({echo.url}/ok)"
    assert len(sleeps) == 1                          # the overrun was retried like a timeout
    assert client.get_json("/ok") == {"ok": True}    # and the client still works afterwards
