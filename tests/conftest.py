"""Shared pytest fixtures: real PostgreSQL databases, migrated by the project's runner.

The suite runs in one database mode per pytest session (`--db-mode postgresql|timescaledb`, or
TSQ_TEST_MODE). A session migrates one template database in that mode, then:

- `conn`     a connection to the session database (a clone of the template), inside a
             transaction rolled back after each test: tests never see each other's data;
- `db_url`   the URL of a brand-new clone for one test (for code that commits, runs
             subprocesses or gets killed); dropped after the test;
- `db_mode`  the mode of this session.
"""

from __future__ import annotations

import itertools
import os
import socket

import psycopg
import pytest
from psycopg import sql

from db.connection import database_url
from db.migrate import migrate

pytest_plugins = ["tests.plugins.record_results"]

_clone_counter = itertools.count()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db-mode",
        choices=("postgresql", "timescaledb"),
        default=os.environ.get("TSQ_TEST_MODE", "postgresql"),
        help="database mode the suite runs in (default: postgresql, or $TSQ_TEST_MODE)",
    )


def _admin_url() -> str:
    return database_url("postgres")


def _drop_database(name: str) -> None:
    with psycopg.connect(_admin_url(), autocommit=True) as admin:
        admin.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


def _clone(template: str, name: str) -> str:
    with psycopg.connect(_admin_url(), autocommit=True) as admin:
        admin.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
        admin.execute(
            sql.SQL("create database {} template {}").format(sql.Identifier(name), sql.Identifier(template))
        )
    return database_url(name)


@pytest.fixture(scope="session")
def db_mode(pytestconfig: pytest.Config) -> str:
    return pytestconfig.getoption("--db-mode")


@pytest.fixture(scope="session")
def template_db(db_mode: str, worker_tag: str) -> str:
    """Name of a database migrated in this session's mode, used only as a template."""
    name = f"tsq_tpl_{db_mode}_{worker_tag}"
    _drop_database(name)
    url = database_url(name)
    migrate(url, mode=db_mode, create_db=True, log=lambda _msg: None)
    with psycopg.connect(url, autocommit=True) as conn:
        # Test-only extensions: plpgsql_check for the lint test, pgtap for SQL-side helpers.
        conn.execute("create extension if not exists plpgsql_check")
        conn.execute("create extension if not exists pgtap")
    with psycopg.connect(_admin_url(), autocommit=True) as admin:
        # No connections allowed: TimescaleDB's background scheduler would otherwise hold one
        # and block CREATE DATABASE … TEMPLATE.
        admin.execute(
            sql.SQL("alter database {} with is_template true allow_connections false").format(
                sql.Identifier(name)
            )
        )
        admin.execute(
            "select pg_terminate_backend(pid) from pg_stat_activity where datname = %s", (name,)
        )
    yield name
    with psycopg.connect(_admin_url(), autocommit=True) as admin:
        admin.execute(sql.SQL("alter database {} is_template false").format(sql.Identifier(name)))
    _drop_database(name)


@pytest.fixture(scope="session")
def worker_tag() -> str:
    return f"{socket.gethostname()[:8]}_{os.getpid()}".replace("-", "_").lower()


@pytest.fixture(scope="session")
def session_db_url(template_db: str, worker_tag: str, db_mode: str) -> str:
    name = f"tsq_test_{db_mode}_{worker_tag}"
    url = _clone(template_db, name)
    yield url
    _drop_database(name)


@pytest.fixture
def conn(session_db_url: str):
    """Connection in a transaction that is rolled back after the test."""
    with psycopg.connect(session_db_url, autocommit=False) as connection:
        yield connection
        connection.rollback()


@pytest.fixture(scope="module")
def module_db_url(template_db: str, worker_tag: str) -> str:
    """A brand-new migrated database shared by the tests of one module (set it up once)."""
    name = f"tsq_m_{worker_tag}_{next(_clone_counter)}"
    url = _clone(template_db, name)
    yield url
    _drop_database(name)


@pytest.fixture
def db_url(template_db: str, worker_tag: str) -> str:
    """A brand-new migrated database for this test only."""
    name = f"tsq_t_{worker_tag}_{next(_clone_counter)}"
    url = _clone(template_db, name)
    yield url
    _drop_database(name)
