"""The one place that decides which PostgreSQL server tsquant talks to.

`DATABASE_URL` wins when it is set (a managed server, docker-compose, CI service). Otherwise the
embedded local cluster of this checkout is used (see db/cluster.py), database `tsquant`.
No other module reads connection settings from the environment.
"""

from __future__ import annotations

import os
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg

DEFAULT_DATABASE = "tsquant"


class ConfigurationError(RuntimeError):
    """A setting the user controls is wrong or missing; the message is one clear sentence."""


def database_url(dbname: str | None = None) -> str:
    """Connection URL of the configured server; `dbname` replaces the database name."""
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url:
        from db import cluster

        url = cluster.EmbeddedCluster.from_environment().url(DEFAULT_DATABASE)
    return with_database(url, dbname) if dbname else url


def with_database(url: str, dbname: str) -> str:
    """The same URL pointing at another database (query string such as host= kept)."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgresql", "postgres"):
        raise ConfigurationError(
            f"DATABASE_URL must start with postgresql:// (got scheme {parts.scheme!r})"
        )
    query = f"?{parts.query}" if parts.query else ""
    return f"{parts.scheme}://{parts.netloc}/{quote(dbname)}{query}"


def redact(url: str) -> str:
    """The URL with any password replaced, safe to print or log."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(":" + parts.password + "@", ":***@", 1)
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def connect(url: str | None = None, *, autocommit: bool = False, **kwargs) -> psycopg.Connection:
    """Open a psycopg connection to `url` (default: the configured database)."""
    target = url or database_url()
    try:
        return psycopg.connect(
            target,
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
    from psycopg.conninfo import conninfo_to_dict

    params = conninfo_to_dict(url)
    return {env: str(params[key]) for key, env in _LIBPQ_ENV.items() if params.get(key) is not None}


if __name__ == "__main__":
    # python -m db.connection env [DBNAME]  ->  shell `export` lines for the PG* variables
    import shlex
    import sys

    if len(sys.argv) < 2 or sys.argv[1] != "env":
        print("usage: python -m db.connection env [DBNAME]", file=sys.stderr)
        sys.exit(2)
    target = database_url(sys.argv[2] if len(sys.argv) > 2 else None)
    for name, value in libpq_environment(target).items():
        print(f"export {name}={shlex.quote(value)}")
