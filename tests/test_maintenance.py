"""tsquant maintenance against a real database: a sparse B-tree (90 % of its rows deleted) is
rebuilt concurrently and shrinks tenfold, tables with dead rows are vacuumed and analyzed, plain mode runs
the rollups and retention in the same pass, the run is recorded in ops.events, --dry-run changes
nothing, and a second run while one holds the lock skips with exit 3."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from db.maintenance import LOCK_KEY

ROOT = Path(__file__).resolve().parents[1]


def maintenance(url: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "db.cli", "maintenance", "--url", url, *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT)})


def _index_state(conn) -> tuple[int, float, float]:
    size, density = conn.execute("select pg_relation_size('market.maint_probe_pkey'),"
                                 " (public.pgstatindex('market.maint_probe_pkey')).avg_leaf_density").fetchone()
    # VACUUM and ANALYZE write these transactionally (the statistics views may lag behind)
    vacuumed = conn.execute("select reltuples from pg_class where oid = 'market.maint_probe'::regclass").fetchone()[0]
    return size, density, vacuumed


@pytest.fixture
def sparse_db(db_url):
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("set role tsq_owner")
        conn.execute("create table market.maint_probe (id integer primary key, pad text not null)")
        conn.execute("insert into market.maint_probe select g, md5(g::text) from generate_series(1, 200000) as g")
        conn.execute("delete from market.maint_probe where id % 10 <> 0")
        conn.execute("vacuum market.maint_probe")  # index pages now 10 % full
        conn.execute("delete from market.maint_probe where id % 20 = 0")  # dead rows for maintenance
        conn.execute("reset role")
    return db_url


def test_dry_run_changes_nothing(sparse_db):
    with psycopg.connect(sparse_db, autocommit=True) as conn:
        before = _index_state(conn)
    done = maintenance(sparse_db, "--dry-run", "--min-index-bytes", "1000000")
    assert done.returncode == 0, done.stderr
    assert "would rebuild: market.maint_probe_pkey" in done.stdout
    with psycopg.connect(sparse_db, autocommit=True) as conn:
        assert _index_state(conn) == before and before[2] == 20000  # as the fixture's vacuum left it
        assert conn.execute("select count(*) from ops.events where source = 'maintenance'").fetchone()[0] == 0


def test_sparse_index_is_rebuilt_and_tables_vacuumed(sparse_db, db_mode):
    with psycopg.connect(sparse_db, autocommit=True) as conn:
        size_before, density_before, _ = _index_state(conn)
        expected_rows = conn.execute("select count(*) from market.maint_probe").fetchone()[0]
    assert expected_rows == 10000 and size_before > 4_000_000 and density_before < 20
    done = maintenance(sparse_db, "--min-index-bytes", "1000000", "--reindex-below", "50")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "rebuilt: market.maint_probe_pkey (leaf density" in done.stdout
    with psycopg.connect(sparse_db, autocommit=True) as conn:
        size_after, density_after, vacuumed = _index_state(conn)
        assert conn.execute("select count(*) from market.maint_probe").fetchone()[0] == expected_rows
        valid = conn.execute("select indisvalid from pg_index where indexrelid = 'market.maint_probe_pkey'::regclass"
                             ).fetchone()[0]
        event = conn.execute("select details from ops.events where source = 'maintenance'"
                             " order by event_id desc limit 1").fetchone()[0]
    assert valid and vacuumed == 10000  # VACUUM ANALYZE counted the rows left
    # 10,000 int4 keys fill about 28 leaf pages when packed (90 % fill factor of 8 kB pages)
    assert size_after < size_before / 10 and density_after > 80
    assert "market.maint_probe" in event["vacuumed"] and event["failures"] == []
    assert any(r.startswith("market.maint_probe_pkey") for r in event["reindexed"])
    if db_mode == "postgresql":
        assert event["policies"] == ["rollups (market.refresh_rollups)", "retention (ops.run_retention)"]
        with psycopg.connect(sparse_db, autocommit=True) as conn:  # the retention run is on record
            assert conn.execute("select last_run_status from ops.job_health where job = 'retention'"
                                ).fetchone()[0] == "succeeded"
    else:
        assert all(p.startswith("job ") for p in event["policies"])


def test_a_second_run_skips_while_one_holds_the_lock(db_url):
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("select pg_advisory_lock(hashtextextended(%s, 0))", (LOCK_KEY,))
        done = maintenance(db_url, "--no-reindex")
    assert done.returncode == 3 and "another maintenance run is in progress" in done.stderr
