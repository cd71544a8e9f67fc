"""Backups: a dump restored into a new database has every relation's rows (count and content
checksum identical, recomputed independently of the manifest), in the suite's database mode;
restore refuses to overwrite; pruning keeps the daily/weekly/monthly schedule; PITR restores the
rows written before the target time only."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from db import backup
from db.connection import with_database

ROOT = Path(__file__).resolve().parent.parent


def _cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "db.backup", *args], cwd=ROOT, capture_output=True,
                          text=True, env={**os.environ, **(env or {})}, timeout=600)


def _independent_summary(url: str) -> dict[str, tuple[int, str]]:
    """Row count and checksum of every user relation, written here without db.backup's code."""
    out = {}
    with psycopg.connect(url) as conn:
        rels = conn.execute(
            "select n.nspname, c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace"
            " where c.relkind in ('r', 'p', 'm') and not c.relispartition"
            " and n.nspname in ('ops', 'market', 'ta', 'signals', 'trading', 'risk', 'perf', 'bi', 'features')"
        ).fetchall()
        for schema, name in rels:
            rows = conn.execute(sql.SQL("select t::text from {} as t").format(sql.Identifier(schema, name))).fetchall()
            out[f"{schema}.{name}"] = (len(rows), "".join(sorted(r[0] for r in rows)))
    return out


@pytest.fixture
def loaded_db(db_url: str) -> str:
    # Recent rows: a restored TimescaleDB database restarts its retention policy at once, and
    # rows beyond the raw-data horizon would (rightly) be dropped while the test compares.
    start = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=2)).strftime("%Y-%m-%d")
    done = subprocess.run([sys.executable, "-m", "scripts.synthetic", "--instruments", "2", "--days", "1",
                           "--start", start, "--trades-per-day", "6000", "--load", "--quiet", "--url", db_url],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("call market.refresh_rollups()")
        conn.execute(
            "insert into ops.events (source, event_type, message, details)"
            " values ('test', 'note', 'a row with a quote '' and unicode é', '{\"k\": [1, 2]}')"
        )
    return db_url


def test_backup_restore_round_trip_is_identical(loaded_db: str, tmp_path: Path, db_mode: str):
    dbname = psycopg.conninfo.conninfo_to_dict(loaded_db)["dbname"]
    env = {"DATABASE_URL": loaded_db}
    done = _cli("backup", "--dir", str(tmp_path), env=env)
    assert done.returncode == 0, done.stderr
    dump = next(tmp_path.glob("*.dump"))
    manifest = backup.read_manifest(dump)
    assert manifest["mode"] == db_mode
    assert manifest["relations"]["market.trades"]["rows"] > 5_000

    restored = f"{dbname}_restored"
    try:
        done = _cli("restore", str(dump), "--database", restored, env=env)
        assert done.returncode == 0, done.stderr
        assert "every relation matches" in done.stdout
        before = _independent_summary(loaded_db)
        after = _independent_summary(with_database(loaded_db, restored))
        # ops.events gains the backup's and the restore's own event rows; everything else is equal.
        for name in set(before) | set(after):
            if name == "ops.events":
                continue
            assert before.get(name) == after.get(name), name
        assert before["market.trades"][0] == manifest["relations"]["market.trades"]["rows"]
        with psycopg.connect(with_database(loaded_db, restored), autocommit=True) as conn:
            assert conn.execute("select ops.database_mode()").fetchone()[0] == db_mode
            # the restored database is usable: rollups and indicator functions still work
            conn.execute("call market.refresh_rollups()")
            n = conn.execute("select count(*) from market.candles_1m").fetchone()[0]
            assert n > 0
        # a second restore under the same name is refused without --force
        done = _cli("restore", str(dump), "--database", restored, env=env)
        assert done.returncode == 1 and "already exists" in done.stderr and "Traceback" not in done.stderr
    finally:
        with psycopg.connect(with_database(loaded_db, "postgres"), autocommit=True) as admin:
            admin.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(restored)))


def test_verify_detects_a_changed_row(loaded_db: str, tmp_path: Path):
    path = backup.backup(loaded_db, directory=tmp_path)
    assert backup.verify(path, url=loaded_db) == [] or all(
        d.relation == "ops.events" for d in backup.verify(path, url=loaded_db))
    with psycopg.connect(loaded_db, autocommit=True) as conn:
        conn.execute("update market.trades set price = price + 1 where (instrument_id, time, trade_id) ="
                     " (select instrument_id, time, trade_id from market.trades order by time limit 1)")
    diffs = [d.relation for d in backup.verify(path, url=loaded_db)]
    assert "market.trades" in diffs


def test_missing_dump_is_one_sentence(tmp_path: Path):
    done = _cli("restore", str(tmp_path / "nope.dump"), "--database", "x")
    assert done.returncode == 1
    assert done.stderr.strip() == f"error: backup file {tmp_path / 'nope.dump'} does not exist"


def test_prune_keeps_daily_weekly_monthly(tmp_path: Path):
    now = dt.datetime(2026, 12, 2, 12, tzinfo=dt.timezone.utc)
    # one backup a day at 03:00 for three years, two on the newest day
    times = [now.replace(hour=3) - dt.timedelta(days=d) for d in range(0, 3 * 365)]
    times.append(now.replace(hour=1))
    for t in times:
        name = f"tsquant-db-{t.strftime('%Y%m%dT%H%M%SZ')}.dump"
        (tmp_path / name).write_bytes(b"x")
        (tmp_path / name).with_suffix(".json").write_text("{}")
    kept, deleted = backup.prune(tmp_path, now=now)
    kept_times = sorted(backup.backup_time(p) for p in kept)
    # oracle: written out by hand from the schedule
    daily = {t.date() for t in times if now - t < dt.timedelta(days=30)}
    weekly = {t.isocalendar()[:2] for t in times if now - t < dt.timedelta(weeks=26)}
    monthly = {(t.year, t.month) for t in times if (now.year - t.year) * 12 + now.month - t.month < 24}
    assert {t.date() for t in kept_times} >= daily
    assert {t.isocalendar()[:2] for t in kept_times} == weekly | {t.isocalendar()[:2] for t in kept_times}
    assert {(t.year, t.month) for t in kept_times} == monthly
    # the newest of the newest day is kept, the 01:00 one of that day is not
    assert now.replace(hour=3) in kept_times and now.replace(hour=1) not in kept_times
    assert len(kept) <= 30 + 26 + 24
    assert len(kept) + len(deleted) == len(times)
    assert all(not p.exists() and not p.with_suffix(".json").exists() for p in deleted)
    oldest_kept = kept_times[0]
    assert (now.year - oldest_kept.year) * 12 + now.month - oldest_kept.month == 23


@pytest.mark.skipif(os.geteuid() == 0 and subprocess.run(["id", "postgres"], capture_output=True).returncode,
                    reason="needs the postgres system user")
def test_point_in_time_recovery_keeps_only_earlier_writes():
    """A private cluster with WAL archiving: base backup, write A, note the time, write B;
    recovery to the noted time has A and not B."""
    import shutil
    import tempfile

    from db.cluster import EmbeddedCluster, find_bindir

    tmp_path = Path(tempfile.mkdtemp(prefix="tsq-pitr-"))  # pytest's tmp dirs are root-only

    archive = tmp_path / "wal"
    home = tmp_path / "src"
    port = 54400 + os.getpid() % 400
    env_archive = {"TSQ_WAL_ARCHIVE": str(archive), "TSQ_TIMESCALEDB": "off"}
    old = {k: os.environ.get(k) for k in env_archive}
    os.environ.update(env_archive)
    os.chmod(tmp_path, 0o755)
    src = EmbeddedCluster(data_dir=home / "pgdata", port=port, bindir=find_bindir())
    restored_cluster = None
    try:
        src.start()
        if os.geteuid() == 0:
            subprocess.run(["chown", "postgres", str(archive)], check=True)
        url = src.url("tsquant")
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("create table notes (n int primary key, written_at timestamptz default clock_timestamp())")
        base = backup.basebackup(tmp_path / "base", url=src.url("postgres"))
        if os.geteuid() == 0:
            os.chmod(base.parent, 0o755)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("insert into notes (n) select generate_series(1, 100)")
            time.sleep(0.2)
            target = conn.execute("select clock_timestamp()").fetchone()[0]
            time.sleep(0.2)
            conn.execute("insert into notes (n) select generate_series(101, 200)")
            switched = conn.execute("select pg_walfile_name(pg_switch_wal())").fetchone()[0]
            # wait until the segment holding the second write is archived
            deadline = time.monotonic() + 30
            while (conn.execute("select coalesce(last_archived_wal, '') from pg_stat_archiver").fetchone()[0]
                   < switched):
                assert time.monotonic() < deadline, "WAL was not archived"
                time.sleep(0.2)
        src.stop()
        new_home = tmp_path / "recovered"
        backup.pitr_restore(base, archive, target, new_home, port=port + 1, log=lambda _m: None)
        restored_cluster = EmbeddedCluster(data_dir=new_home / "pgdata", port=port + 1, bindir=find_bindir())
        os.environ.pop("TSQ_WAL_ARCHIVE")
        restored_cluster.start()
        deadline = time.monotonic() + 60
        while True:
            try:
                with psycopg.connect(restored_cluster.url("tsquant"), autocommit=True) as conn:
                    if not conn.execute("select pg_is_in_recovery()").fetchone()[0]:
                        got = conn.execute("select min(n), max(n), count(*) from notes").fetchone()
                        break
            except psycopg.OperationalError:
                pass
            assert time.monotonic() < deadline, "recovered cluster never left recovery"
            time.sleep(0.3)
        assert got == (1, 100, 100)
    finally:
        for c in (src, restored_cluster):
            if c is not None:
                try:
                    c.stop()
                except Exception:  # noqa: BLE001
                    pass
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        shutil.rmtree(tmp_path, ignore_errors=True)
