"""Monitoring views (ops.relation_sizes, cache_hit_ratio, connections, blocked_queries,
top_statements): they answer for a read-only analyst, and their numbers agree with the
catalog functions they summarise."""

from __future__ import annotations

import threading
import time

import psycopg


def test_relation_sizes_match_the_catalog(conn: psycopg.Connection):
    row = conn.execute(
        "select total_bytes, index_bytes, kind from ops.relation_sizes"
        " where schema_name = 'market' and relation_name = 'instruments'").fetchone()
    want = conn.execute(
        "select pg_total_relation_size('market.instruments'), pg_indexes_size('market.instruments')").fetchone()
    assert row == (want[0], want[1], "table")


def test_analyst_reads_every_monitoring_view(conn: psycopg.Connection):
    conn.execute("set local role tsq_analyst")
    for view in ("relation_sizes", "cache_hit_ratio", "connections", "blocked_queries"):
        conn.execute(f"select * from ops.{view}").fetchall()
    hit = conn.execute("select hit_percent from ops.cache_hit_ratio").fetchone()[0]
    assert hit is None or 0 <= hit <= 100
    conn.execute("select * from ops.top_statements(5)").fetchall()


def test_connections_counts_this_session(conn: psycopg.Connection):
    n = conn.execute("select sum(connections) from ops.connections where application_name = %s",
                     (conn.execute("select current_setting('application_name')").fetchone()[0],)).fetchone()[0]
    assert n >= 1


def test_blocked_queries_shows_a_lock_wait(db_url: str):
    with psycopg.connect(db_url, autocommit=True) as holder, psycopg.connect(db_url, autocommit=True) as watcher:
        holder.execute("begin")
        holder.execute("lock table ops.settings in access exclusive mode")
        waiter = psycopg.connect(db_url, autocommit=True)
        t = threading.Thread(target=lambda: waiter.execute("select count(*) from ops.settings"))
        t.start()
        try:
            deadline = time.monotonic() + 10
            rows = []
            while time.monotonic() < deadline and not rows:
                rows = watcher.execute("select pid, blocked_by, query from ops.blocked_queries"
                                       " where query like 'select count(*) from ops.settings%'").fetchall()
                time.sleep(0.05)
            assert rows and holder.info.backend_pid in rows[0][1]
        finally:
            holder.execute("rollback")
            t.join(10)
            waiter.close()


def test_top_statements_lists_a_query_when_collecting(conn: psycopg.Connection):
    preloaded = "pg_stat_statements" in conn.execute("show shared_preload_libraries").fetchone()[0]
    conn.execute("select 4242 as tsq_monitoring_probe").fetchall()
    rows = conn.execute("select query, calls from ops.top_statements(5000)").fetchall()
    if preloaded:
        assert any("tsq_monitoring_probe" in q for q, _ in rows)
    else:
        assert rows == []
