"""ops.settings keeps typed values; ops.events accepts what loaders write."""

import psycopg
import pytest


@pytest.mark.parametrize(
    ("value_type", "good", "bad"),
    [
        ("integer", "42", "4.2"),
        ("numeric", "0.015", "1,5"),
        ("boolean", "true", "maybe"),
        ("interval", "15 minutes", "fortnight-ish"),
        ("timestamptz", "2026-01-01T00:00:00Z", "31/31/2026"),
        ("json", '{"a": 1}', "{a: 1}"),
    ],
)
def test_settings_accept_only_values_of_their_type(conn, value_type: str, good: str, bad: str) -> None:
    conn.execute("select ops.set_setting(%s, %s, %s, %s)", ("t.setting", good, value_type, "test"))
    assert conn.execute("select ops.setting('t.setting')").fetchone()[0] == good
    with pytest.raises(psycopg.errors.InvalidParameterValue, match=f"not a valid {value_type}"):
        with conn.transaction():
            conn.execute("select ops.set_setting('t.setting', %s)", (bad,))
    assert conn.execute("select ops.setting('t.setting')").fetchone()[0] == good


def test_setting_records_who_and_when(conn) -> None:
    conn.execute("select ops.set_setting('t.who', 'x', 'text', 'test')")
    who, fresh = conn.execute(
        "select updated_by, updated_at > now() - interval '1 minute' from ops.settings where name = 't.who'"
    ).fetchone()
    assert who == conn.execute("select current_user").fetchone()[0]
    assert fresh


def test_events_default_severity_and_reject_unknown_severity(conn) -> None:
    conn.execute("insert into ops.events (source, event_type, message) values ('test', 'probe', 'hello')")
    assert conn.execute("select severity from ops.events where event_type = 'probe'").fetchone()[0] == "info"
    with pytest.raises(psycopg.errors.CheckViolation):
        conn.execute(
            "insert into ops.events (source, event_type, severity, message) values ('t', 'p', 'loud', 'x')"
        )
