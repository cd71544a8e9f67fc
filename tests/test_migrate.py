"""The migration runner against a real database: ordering, idempotency, refusals, rollback."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import psycopg
import pytest

from db import migrate as runner
from db.migrate import MigrationError, migrate
from db.sqlsplit import split_statements

REAL_DB_ROOT = Path(runner.DB_ROOT)


def write(root: Path, rel: str, body: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(body).lstrip())
    return path


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of the project's db/ tree that a test may extend."""
    root = tmp_path / "db"
    shutil.copytree(REAL_DB_ROOT, root, ignore=shutil.ignore_patterns("*.py", "__pycache__", "*.md"))
    return root


def quiet(_msg: str) -> None:
    pass


def test_second_run_applies_nothing(db_url: str, db_mode: str) -> None:
    report = migrate(db_url, mode=db_mode, log=quiet)
    assert report.applied == []
    assert report.mode == db_mode
    with psycopg.connect(db_url) as conn:
        before = conn.execute("select count(*) from ops.schema_migrations").fetchone()[0]
    migrate(db_url, mode=db_mode, log=quiet)
    with psycopg.connect(db_url) as conn:
        after = conn.execute("select count(*) from ops.schema_migrations").fetchone()[0]
    assert before == after


def test_migrated_database_has_jit_off(db_url: str, db_mode: str) -> None:
    # A clone of the template loses database-level settings: forget V0013 and apply it again.
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("delete from ops.schema_migrations where path = 'db/ops/V0013__jit_off.sql'")
    report = migrate(db_url, mode=db_mode, log=quiet)
    assert [rel for rel, _ms in report.applied] == ["db/ops/V0013__jit_off.sql"]
    with psycopg.connect(db_url) as conn:
        config = conn.execute(
            "select s.setconfig from pg_catalog.pg_db_role_setting as s"
            " join pg_catalog.pg_database as d on d.oid = s.setdatabase"
            " where d.datname = current_database() and s.setrole = 0"
        ).fetchone()
    assert config is not None and "jit=off" in config[0]


def test_new_versioned_file_is_applied_once_in_version_order(db_url: str, db_mode: str, tree: Path) -> None:
    write(tree, "ops/V9001__first.sql", "create table ops.mig_probe (step int);\n")
    write(tree, "market/V9002__second.sql", "insert into ops.mig_probe (step) values (2);\n")
    report = migrate(db_url, mode=db_mode, log=quiet, root=tree)
    assert [rel for rel, _ms in report.applied] == ["db/ops/V9001__first.sql", "db/market/V9002__second.sql"]
    migrate(db_url, mode=db_mode, log=quiet, root=tree)
    with psycopg.connect(db_url) as conn:
        assert conn.execute("select array_agg(step) from ops.mig_probe").fetchone()[0] == [2]
        owner = conn.execute(
            "select tableowner from pg_tables where schemaname = 'ops' and tablename = 'mig_probe'"
        ).fetchone()[0]
    assert owner == "tsq_owner", "migrations run as tsq_owner so it owns every object"


def test_edited_versioned_file_is_refused(db_url: str, db_mode: str, tree: Path) -> None:
    path = write(tree, "ops/V9001__probe.sql", "create table ops.mig_probe (step int);\n")
    migrate(db_url, mode=db_mode, log=quiet, root=tree)
    path.write_text("create table ops.mig_probe (step int, extra text);\n")
    with pytest.raises(MigrationError) as err:
        migrate(db_url, mode=db_mode, log=quiet, root=tree)
    message = str(err.value)
    assert "db/ops/V9001__probe.sql" in message
    assert "edited after it was applied" in message
    with psycopg.connect(db_url) as conn:
        columns = conn.execute(
            "select count(*) from information_schema.columns where table_name = 'mig_probe'"
        ).fetchone()[0]
    assert columns == 1


def test_new_file_of_a_lower_range_is_applied_out_of_order_and_said_so(db_url: str, db_mode: str, tree: Path) -> None:
    write(tree, "ops/V9005__later.sql", "create table ops.mig_later (id int);\n")
    migrate(db_url, mode=db_mode, log=quiet, root=tree)
    write(tree, "market/V9004__earlier.sql", "create table ops.mig_earlier (id int);\n")
    messages: list[str] = []
    report = migrate(db_url, mode=db_mode, log=messages.append, root=tree)
    assert [rel for rel, _ in report.applied] == ["db/market/V9004__earlier.sql"]
    assert "out of order, below applied version 9005" in messages[0]
    with psycopg.connect(db_url) as conn:
        assert conn.execute("select to_regclass('ops.mig_earlier')").fetchone()[0] is not None
    assert migrate(db_url, mode=db_mode, log=quiet, root=tree).applied == []


def test_failing_file_is_rolled_back_and_reported_with_file_and_line(
    db_url: str, db_mode: str, tree: Path
) -> None:
    write(
        tree,
        "ops/V9001__broken.sql",
        """
        create table ops.mig_half (id int);
        insert into ops.mig_half (id) values (1);

        -- the error is on the line below (line 5 of the file)
        insert into ops.mig_half (id) values ('not a number');
        """,
    )
    with pytest.raises(MigrationError) as err:
        migrate(db_url, mode=db_mode, log=quiet, root=tree)
    message = str(err.value)
    assert message.startswith("db/ops/V9001__broken.sql:5:"), message
    assert "invalid input syntax for type integer" in message
    assert "rolled back" in message
    with psycopg.connect(db_url) as conn:
        assert conn.execute("select to_regclass('ops.mig_half')").fetchone()[0] is None
        recorded = conn.execute(
            "select count(*) from ops.schema_migrations where path like '%V9001%'"
        ).fetchone()[0]
    assert recorded == 0


def test_syntax_error_inside_a_function_body_points_at_its_line(
    db_url: str, db_mode: str, tree: Path
) -> None:
    write(
        tree,
        "ops/R__zz_broken_function.sql",
        """
        create or replace function ops.mig_broken()
        returns int
        language plpgsql
        as $$
        begin
            return 1 +;
        end;
        $$;
        """,
    )
    with pytest.raises(MigrationError, match=r"R__zz_broken_function.sql:6: syntax error"):
        migrate(db_url, mode=db_mode, log=quiet, root=tree)


def test_repeatable_file_is_reapplied_only_when_changed(db_url: str, db_mode: str, tree: Path) -> None:
    path = write(
        tree,
        "ops/R__zz_probe.sql",
        "create or replace function ops.mig_answer() returns int language sql return 41;\n",
    )
    first = migrate(db_url, mode=db_mode, log=quiet, root=tree)
    assert ("db/ops/R__zz_probe.sql" in [rel for rel, _ in first.applied])
    assert migrate(db_url, mode=db_mode, log=quiet, root=tree).applied == []
    path.write_text("create or replace function ops.mig_answer() returns int language sql return 42;\n")
    third = migrate(db_url, mode=db_mode, log=quiet, root=tree)
    assert [rel for rel, _ in third.applied] == ["db/ops/R__zz_probe.sql"]
    with psycopg.connect(db_url) as conn:
        assert conn.execute("select ops.mig_answer()").fetchone()[0] == 42
        applications = conn.execute(
            "select count(*) from ops.schema_migrations where path = 'db/ops/R__zz_probe.sql'"
        ).fetchone()[0]
    assert applications == 2


def test_mode_specific_files_run_only_in_their_mode(db_url: str, db_mode: str, tree: Path) -> None:
    write(tree, "ops/V9001__probe.postgresql.sql", "create table ops.mig_plain (id int);\n")
    write(tree, "ops/V9001__probe.timescaledb.sql", "create table ops.mig_tsdb (id int);\n")
    migrate(db_url, mode=db_mode, log=quiet, root=tree)
    with psycopg.connect(db_url) as conn:
        plain = conn.execute("select to_regclass('ops.mig_plain')").fetchone()[0]
        tsdb = conn.execute("select to_regclass('ops.mig_tsdb')").fetchone()[0]
    assert (plain is not None, tsdb is not None) == (db_mode == "postgresql", db_mode == "timescaledb")


def test_recorded_mode_cannot_be_switched(db_url: str, db_mode: str) -> None:
    other = "timescaledb" if db_mode == "postgresql" else "postgresql"
    with pytest.raises(MigrationError, match=f"migrated in {db_mode} mode"):
        migrate(db_url, mode=other, log=quiet)


def test_requires_directive_orders_repeatables(tree: Path) -> None:
    write(tree, "ops/R__aa_view.sql", "-- tsquant:requires db/ops/R__zz_function.sql\nselect 1;\n")
    write(tree, "ops/R__zz_function.sql", "select 1;\n")
    _versioned, repeatable = runner.discover(tree)
    order = [f.rel for f in repeatable]
    assert order.index("db/ops/R__zz_function.sql") < order.index("db/ops/R__aa_view.sql")


def test_bad_file_name_and_duplicate_version_are_refused(tree: Path) -> None:
    write(tree, "ops/V9001__one.sql", "select 1;\n")
    write(tree, "market/V9001__two.sql", "select 1;\n")
    with pytest.raises(MigrationError, match="version 9001 is also used"):
        runner.discover(tree)
    (tree / "market/V9001__two.sql").unlink()
    write(tree, "ops/create_things.sql", "select 1;\n")
    with pytest.raises(MigrationError, match="file name must look like"):
        runner.discover(tree)


def test_splitter_keeps_function_bodies_and_line_numbers() -> None:
    text = textwrap.dedent(
        """
        -- header
        create function a() returns int language sql
        begin atomic
            select 1;
            select case when true then 2 end;
        end;
        do $x$ begin perform 1; end $x$;
        select 'a;b', "c;d", e'it\\'s;';  /* ; */ select 1
        """
    )
    statements = split_statements(text)
    assert [s.line for s in statements] == [2, 8, 9, 9]  # a leading comment belongs to its statement
    assert statements[0].sql.endswith("end;")
    assert statements[2].sql == "select 'a;b', \"c;d\", e'it\\'s;';"


def test_fingerprint_reapplies_a_repeatable_when_the_server_changes(db_url: str, db_mode: str, tree: Path) -> None:
    # The fingerprint query reads a setting the test changes, as an extension appearing on the
    # server changes pg_available_extensions for db/ta/R__native.sql.
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("select set_config('tsq.probe', 'one', false)")
        db = conn.execute("select current_database()").fetchone()[0]
        conn.execute(f'alter database "{db}" set tsq.probe = one')
    write(
        tree,
        "ops/R__zz_fingerprint.sql",
        """
        -- tsquant:fingerprint select current_setting('tsq.probe', true)
        create or replace function ops.mig_probe() returns text language sql return 'applied';
        """,
    )
    assert "db/ops/R__zz_fingerprint.sql" in [rel for rel, _ in migrate(db_url, mode=db_mode, log=quiet, root=tree).applied]
    assert migrate(db_url, mode=db_mode, log=quiet, root=tree).applied == []
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(f'alter database "{db}" set tsq.probe = two')
    assert [rel for rel, _ in migrate(db_url, mode=db_mode, log=quiet, root=tree).applied] == ["db/ops/R__zz_fingerprint.sql"]
    assert migrate(db_url, mode=db_mode, log=quiet, root=tree).applied == []


def test_fingerprint_is_for_repeatable_files_and_native_folders_are_not_migrations(tree: Path) -> None:
    write(tree, "ta/native/anything--1.0.sql", "create function @extschema@.f() returns int language c;\n")
    runner.discover(tree)  # C extension sources are not migration files
    write(tree, "ops/V9001__probe.sql", "-- tsquant:fingerprint select 1\nselect 1;\n")
    with pytest.raises(MigrationError, match="tsquant:fingerprint is for repeatable files only"):
        runner.discover(tree)
