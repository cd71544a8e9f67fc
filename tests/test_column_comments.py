"""Every table, view and column a user queries carries a comment (issue 9, item 14).

The catalogue is the oracle: pg_class/pg_attribute list every relation and column of the
user-facing schemas, pg_description their comments. The test names everything without one.
"""

from __future__ import annotations

USER_SCHEMAS = ["bi", "market", "ta", "signals", "ops", "trading", "risk", "perf", "features"]

# r table, p partitioned table, v view, m materialized view, f foreign table
RELATIONS = """
    select n.nspname, c.relname, c.relkind, c.oid
    from pg_class as c
    join pg_namespace as n on n.oid = c.relnamespace
    where n.nspname = any(%s) and c.relkind in ('r', 'p', 'v', 'm', 'f')
      and not c.relispartition
      -- TimescaleDB's internal relations of a continuous aggregate are not queried by users
      and c.relname !~ '^_'
"""


def test_every_user_relation_has_a_comment(conn):
    rows = conn.execute(
        RELATIONS.replace("select n.nspname, c.relname, c.relkind, c.oid",
                          "select n.nspname || '.' || c.relname")
        + " and obj_description(c.oid, 'pg_class') is null order by 1",
        (USER_SCHEMAS,),
    ).fetchall()
    assert not rows, "relations without a comment: " + ", ".join(r[0] for r in rows)


def test_every_column_of_every_user_relation_has_a_comment(conn):
    rows = conn.execute(
        f"""
        select r.nspname || '.' || r.relname || '.' || a.attname
        from ({RELATIONS}) as r (nspname, relname, relkind, oid)
        join pg_attribute as a on a.attrelid = r.oid and a.attnum > 0 and not a.attisdropped
        where col_description(r.oid, a.attnum) is null
        order by 1
        """,
        (USER_SCHEMAS,),
    ).fetchall()
    assert not rows, f"{len(rows)} columns without a comment: " + ", ".join(r[0] for r in rows)
