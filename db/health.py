"""`tsquant health` (also `python -m db.health`): is the database reachable, which mode, are the
migrations applied, and is every job, rollup and indicator fresh (ops.health_checks()).

Exit codes for cron and monitors: 0 everything ok (warnings included), 1 something stale,
failed, unreachable or not migrated, 2 a usage or configuration error.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Iterable, Mapping

import psycopg

from db.connection import ConfigurationError, connect, database_url, redact

CHECKS_SQL = "select check_name, subject, status, age, detail from ops.health_checks()"
FAILING = ("stale", "failed")


def summarise(rows: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Overall status (ok / degraded) and the checks as plain dicts."""
    checks = [{"name": r["check_name"], "subject": r["subject"], "status": r["status"],
               "age_seconds": None if r["age"] is None else round(r["age"].total_seconds(), 3),
               "detail": r["detail"]} for r in rows]
    bad = [c for c in checks if c["status"] in FAILING]
    return {"status": "degraded" if bad else "ok", "checks": checks}


def migration_state(url: str) -> dict[str, Any]:
    """Pending or edited migration files of this checkout against the database's ledger."""
    from db.migrate import status

    lines = status(url)
    pending = [ln.split()[-1] for ln in lines[1:] if ln.startswith(("pending", "EDITED", "changed"))]
    return {"name": "migrations", "subject": "db/", "status": "failed" if pending else "ok",
            "age_seconds": None,
            "detail": (f"{len(pending)} file(s) not applied: {', '.join(pending[:5])} (run make migrate)"
                       if pending else "every migration is applied")}


def report(url: str | None = None) -> dict[str, Any]:
    url = url or database_url()
    try:
        conn = connect(url)
    except ConfigurationError as exc:
        return {"status": "degraded", "database": "unreachable", "mode": None,
                "checks": [{"name": "database", "subject": redact(url), "status": "failed",
                            "age_seconds": None, "detail": str(exc)}]}
    with conn:
        migrated = conn.execute("select to_regclass('ops.schema_migrations') is not null").fetchone()[0]
        if not migrated:
            return {"status": "degraded", "database": "reachable", "mode": None,
                    "checks": [{"name": "migrations", "subject": "db/", "status": "failed", "age_seconds": None,
                                "detail": "the database was never migrated (run make migrate)"}]}
        mode = conn.execute("select ops.database_mode()").fetchone()[0]
        cur = conn.cursor(row_factory=psycopg.rows.dict_row)
        try:
            rows = cur.execute(CHECKS_SQL).fetchall()
        except psycopg.errors.UndefinedFunction:
            rows = []
    out = summarise(rows)
    out["checks"].insert(0, migration_state(url))
    if out["checks"][0]["status"] in FAILING:
        out["status"] = "degraded"
    return {"status": out["status"], "database": "reachable", "mode": mode, "checks": out["checks"]}


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    s = int(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if s >= size:
            return f"{s // size}{unit}{(s % size) // (size // 60) if unit != 'm' else s % 60:02d}"
    return f"{s}s"


def print_report(rep: dict[str, Any], *, only_problems: bool = False) -> None:
    print(f"health: {rep['status']}  (database {rep['database']}, mode {rep['mode'] or '-'})")
    rows = [c for c in rep["checks"] if not only_problems or c["status"] != "ok"]
    if not rows:
        return
    w1 = max(len(c["name"]) for c in rows)
    w2 = max(len(c["subject"]) for c in rows)
    for c in rows:
        print(f"  {c['status']:<8} {c['name']:<{w1}}  {c['subject']:<{w2}}  {_age(c['age_seconds']):>7}  {c['detail']}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="tsquant health", description=__doc__.split("\n\n")[0])
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--problems", action="store_true", help="list only checks that are not ok")
    p.add_argument("--url", help="database URL (default: DATABASE_URL or the embedded database)")
    args = p.parse_args(argv)
    rep = report(args.url)
    if args.json:
        print(json.dumps(rep, indent=1, default=str))
    else:
        print_report(rep, only_problems=args.problems)
    return 0 if rep["status"] == "ok" else 1


if __name__ == "__main__":
    from db.errors import run_main

    sys.exit(run_main(main))
