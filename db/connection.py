"""The one place that decides which PostgreSQL server tsquant talks to.

`DATABASE_URL` wins when it is set (a managed server, docker-compose, CI service). Otherwise the
embedded local cluster of this checkout is used (see db/cluster.py), database `tsquant`.
No other module reads connection settings from the environment.
"""

from __future__ import annotations

import os
import re
from urllib.parse import quote, urlsplit

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from db.errors import UserError

DEFAULT_DATABASE = "tsquant"


class ConfigurationError(UserError):
    """A setting the user controls is wrong or missing; the message is one clear sentence (exit 2)."""


def database_url(dbname: str | None = None) -> str:
    """Connection URL of the configured server; `dbname` replaces the database name."""
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url:
        from db import cluster

        url = cluster.EmbeddedCluster.from_environment().url(DEFAULT_DATABASE)
    return with_database(url, dbname) if dbname else url


API_ROLE = "tsq_api"


def api_database_url() -> str:
    """URL the HTTP API connects with: TSQ_API_DATABASE_URL, else the configured server and
    database as the read-only login tsq_api (no password: fine on the embedded cluster's trusted
    socket; elsewhere set TSQ_API_DATABASE_URL with tsq_api's password)."""
    explicit = os.environ.get("TSQ_API_DATABASE_URL", "").strip()
    if explicit:
        return conninfo(explicit)
    params = conninfo_to_dict(conninfo(database_url()))
    params.pop("password", None)
    params["user"] = API_ROLE
    return make_conninfo(**params)


def with_database(url: str, dbname: str) -> str:
    """The same URL pointing at another database (query string such as host= kept)."""
    if "://" not in url:
        raise ConfigurationError(NOT_A_URL)
    checked(url)
    parts = urlsplit(url)
    query = f"?{parts.query}" if parts.query else ""
    return f"{parts.scheme}://{parts.netloc}/{quote(dbname)}{query}"


REDACTED = "***"
#: Names of query parameters, conninfo keywords and JSON fields whose value is a secret.
SECRET_NAMES = ("secret", "api_key", "apikey", "apiKey", "key", "token", "signature", "password")
_USERINFO_PASSWORD_RE = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^\s/:@'\"]*):([^\s/@'\"]*)@")
_SECRET_PARAM_RE = re.compile(r"(?i)\b(" + "|".join(map(re.escape, SECRET_NAMES)) + r")=([^&\s'\"]+)")
_SECRET_JSON_RE = re.compile(
    r'(?i)("(?:' + "|".join(map(re.escape, SECRET_NAMES)) + r')"\s*:\s*")([^"]*)(")'
)


def redact(text: object) -> str:
    """`text` (a URL, a conninfo string, a message or a JSON document that contains them) with every
    secret replaced by ***: URL passwords (`scheme://user:password@`), `password=`/`secret=`/
    `apikey=`/`key=`/`token=`-style parameters and JSON fields. The one redaction rule for everything
    tsquant prints, logs or stores (loaders.core.http adds the secret values it was given)."""
    out = _USERINFO_PASSWORD_RE.sub(lambda m: f"{m.group(1)}:{REDACTED}@", str(text))
    out = _SECRET_PARAM_RE.sub(lambda m: f"{m.group(1)}={REDACTED}", out)
    return _SECRET_JSON_RE.sub(lambda m: f"{m.group(1)}{REDACTED}{m.group(3)}", out)


NOT_A_URL = ("the database URL (--url or DATABASE_URL) is not a PostgreSQL URL: expected "
             "postgresql://user@host:port/dbname")


def checked(url: str) -> str:
    """`url` when libpq can use it (a postgresql:// URL or a key=value conninfo string); otherwise
    a ConfigurationError that says what is wrong without repeating the URL (it may hold a password)."""
    scheme = url.split("://", 1)[0].strip().lower() if "://" in url else None
    if scheme is not None and scheme not in ("postgresql", "postgres"):
        raise ConfigurationError(
            f"the database URL (--url or DATABASE_URL) must start with postgresql:// (got scheme {scheme!r})"
        )
    try:
        conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        raise ConfigurationError(NOT_A_URL) from None
    return url


_LOCAL_HOSTS = frozenset({"", "localhost", "127.0.0.1", "::1"})


def _is_local(host: str) -> bool:
    """A host of this machine: loopback names and addresses, or a Unix-socket directory."""
    return host.startswith(("/", "@")) or host.strip("[]").lower() in _LOCAL_HOSTS


def conninfo(url: str) -> str:
    """What tsquant hands to libpq for `url`: TLS is requested (sslmode=require) for a server on
    another machine unless the URL (or PGSSLMODE) sets an sslmode; local servers and Unix sockets
    (the embedded cluster) are left as they are. Use sslmode=verify-full with sslrootcert= to also
    check the server's certificate (docs/security.md)."""
    params = conninfo_to_dict(checked(url))
    if params.get("sslmode") or os.environ.get("PGSSLMODE"):
        return url
    hosts = params.get("host") or params.get("hostaddr") or os.environ.get("PGHOST", "")
    if all(_is_local(h) for h in str(hosts).split(",")):
        return url
    return make_conninfo(url, sslmode="require")


def connect(url: str | None = None, *, autocommit: bool = False, **kwargs) -> psycopg.Connection:
    """Open a psycopg connection to `url` (default: the configured database)."""
    target = url or database_url()
    try:
        return psycopg.connect(
            conninfo(target),
            autocommit=autocommit,
            application_name=kwargs.pop("application_name", "tsquant"),
            **kwargs,
        )
    except psycopg.OperationalError as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
        raise ConfigurationError(
            f"cannot connect to {redact(target)}: {first_line}"
            " (start the embedded database with 'make db-up' or set DATABASE_URL)"
        ) from exc


_LIBPQ_ENV = {
    "host": "PGHOST",
    "port": "PGPORT",
    "user": "PGUSER",
    "password": "PGPASSWORD",
    "dbname": "PGDATABASE",
    "sslmode": "PGSSLMODE",
}


def libpq_environment(url: str) -> dict[str, str]:
    """PG* environment variables equivalent to `url`, for tools that take no URL (pg_prove)."""
    params = conninfo_to_dict(conninfo(url))
    return {env: str(params[key]) for key, env in _LIBPQ_ENV.items() if params.get(key) is not None}


def main(argv: list[str] | None = None) -> int:
    """python -m db.connection env [DBNAME]  ->  shell `export` lines for the PG* variables."""
    import shlex
    import sys

    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] != "env":
        print("usage: python -m db.connection env [DBNAME]", file=sys.stderr)
        return 2
    target = database_url(argv[1] if len(argv) > 1 else None)
    for name, value in libpq_environment(target).items():
        print(f"export {name}={shlex.quote(value)}")
    return 0


if __name__ == "__main__":
    import sys

    from db.errors import run_main

    sys.exit(run_main(main))
