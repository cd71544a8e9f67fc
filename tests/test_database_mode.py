"""The database mode is explicit and visible in SQL (DESIGN.md §3)."""


def test_mode_function_matches_the_suite_mode(conn, db_mode: str) -> None:
    assert conn.execute("select ops.database_mode()").fetchone()[0] == db_mode


def test_database_info_describes_the_server(conn, db_mode: str) -> None:
    mode, version, ts_version, migrated = conn.execute(
        "select database_mode, server_version, timescaledb_version, migrated_mode from ops.database_info"
    ).fetchone()
    assert mode == migrated == db_mode
    assert int(version.split(".")[0]) >= 15
    assert (ts_version is not None) == (db_mode == "timescaledb")


def test_every_schema_and_user_facing_object_has_a_comment(conn) -> None:
    missing = conn.execute(
        """
        select n.nspname from pg_namespace as n
        where n.nspname in ('market', 'ta', 'signals', 'trading', 'risk', 'perf', 'ops', 'bi')
          and obj_description(n.oid, 'pg_namespace') is null
        union all
        select format('%I.%I', n.nspname, c.relname) from pg_class as c
        join pg_namespace as n on n.oid = c.relnamespace
        where n.nspname in ('market', 'ta', 'signals', 'trading', 'risk', 'perf', 'ops', 'bi')
          and c.relkind in ('r', 'p', 'v', 'm')
          and c.relname not like '\\_%' and obj_description(c.oid, 'pg_class') is null
        union all
        select p.oid::regprocedure::text from pg_proc as p
        join pg_namespace as n on n.oid = p.pronamespace
        where n.nspname in ('market', 'ta', 'signals', 'trading', 'risk', 'perf', 'ops', 'bi')
          and obj_description(p.oid, 'pg_proc') is null
          and not exists (select from pg_depend as d where d.objid = p.oid and d.deptype = 'e')
        """
    ).fetchall()
    assert [row[0] for row in missing] == []
