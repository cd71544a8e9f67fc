"""db/connection.py: TLS requested by default for a remote server (the local socket untouched),
and the one redaction function every printed or stored URL goes through."""

from __future__ import annotations

import pytest
from psycopg.conninfo import conninfo_to_dict

from db.connection import conninfo, libpq_environment, redact

REMOTE = [
    "postgresql://app:pw@db.example.com:5432/tsquant",
    "postgresql://app@10.0.0.7/tsquant",
    "postgresql:///tsquant?host=db.internal",
    "host=db.example.com dbname=tsquant user=app",
    "postgresql://app@[2001:db8::1]:5432/tsquant",
    "postgresql://app@localhost,db.example.com/tsquant",       # a list with one remote host
]
LOCAL = [
    "postgresql://app:pw@localhost:5432/tsquant",
    "postgresql://app@127.0.0.1/tsquant",
    "postgresql://app@[::1]:5432/tsquant",
    "postgresql:///tsquant?host=/work/main/.tsq/run&port=54329",   # the embedded cluster's socket
    "postgresql:///tsquant",                                      # libpq's default socket
    "host=/var/run/postgresql dbname=tsquant",
]


@pytest.fixture(autouse=True)
def _no_libpq_environment(monkeypatch):
    for name in ("PGSSLMODE", "PGHOST", "PGHOSTADDR"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("url", REMOTE)
def test_a_remote_server_gets_tls_unless_the_url_says_otherwise(url):
    assert conninfo_to_dict(conninfo(url))["sslmode"] == "require"
    assert libpq_environment(url)["PGSSLMODE"] == "require"          # pg_prove, pg_dump … too
    for mode in ("disable", "verify-full"):
        chosen = url + ("&" if "?" in url else "?" if "://" in url else " ") + f"sslmode={mode}"
        assert conninfo_to_dict(conninfo(chosen))["sslmode"] == mode


def test_pgsslmode_in_the_environment_is_respected(monkeypatch):
    monkeypatch.setenv("PGSSLMODE", "verify-full")
    assert "sslmode" not in conninfo_to_dict(conninfo(REMOTE[0]))     # libpq takes PGSSLMODE


@pytest.mark.parametrize("url", LOCAL)
def test_local_servers_and_unix_sockets_are_left_as_they_are(url):
    assert conninfo(url) == url


def test_a_remote_pghost_counts_when_the_url_names_no_host(monkeypatch):
    monkeypatch.setenv("PGHOST", "db.example.com")
    assert conninfo_to_dict(conninfo("postgresql:///tsquant"))["sslmode"] == "require"


@pytest.mark.parametrize("text,secret", [
    ("postgresql://app:s3cret-pw@db.example:5432/tsquant?sslmode=require", "s3cret-pw"),
    ("retry 1/2 (http://user:hunter2-pw@127.0.0.1:8080/api/v3/klines)", "hunter2-pw"),
    ("https://user:p%40ss-word@host/x", "p%40ss-word"),
    ("host=db dbname=t password=kw-s3cret", "kw-s3cret"),
    ("http://host/x?apikey=K123456&symbol=BTC", "K123456"),
    ("http://host/x?token=T123456", "T123456"),
    ("http://host/x?key=Q123456", "Q123456"),
    ("http://host/x?secret=S123456", "S123456"),
    ("http://host/x?password=P123456", "P123456"),
    ('{"base_url": "http://u:jsonpw99@h:1/"}', "jsonpw99"),
])
def test_redact_hides_passwords_and_secret_parameters_in_any_text(text, secret):
    out = redact(text)
    assert secret not in out and "***" in out


def test_redact_keeps_what_is_not_secret():
    assert redact("http://user@host:8080/api/v3/klines?symbol=BTCUSDT") == \
        "http://user@host:8080/api/v3/klines?symbol=BTCUSDT"
    assert redact("postgresql://app:pw123@db/t") == "postgresql://app:***@db/t"
