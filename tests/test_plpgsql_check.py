"""Every PL/pgSQL function in the tsquant schemas passes plpgsql_check without errors."""

from __future__ import annotations

from pathlib import Path

REPORT_DIR = Path(__file__).resolve().parents[1] / ".tsq" / "reports"
SCHEMAS = ("market", "ta", "signals", "trading", "risk", "perf", "ops", "bi")

FUNCTIONS = """
select p.oid::regprocedure::text as signature,
       p.prorettype = 'trigger'::regtype as is_trigger,
       (select t.tgrelid::regclass::text from pg_trigger as t where t.tgfoid = p.oid limit 1) as trigger_table
from pg_proc as p
join pg_namespace as n on n.oid = p.pronamespace
join pg_language as l on l.oid = p.prolang
where l.lanname = 'plpgsql' and n.nspname = any(%s)
order by 1
"""


def test_every_plpgsql_function_passes_plpgsql_check(conn, db_mode: str) -> None:
    functions = conn.execute(FUNCTIONS, (list(SCHEMAS),)).fetchall()
    assert functions, "there are PL/pgSQL functions to check"
    errors: list[str] = []
    for signature, is_trigger, trigger_table in functions:
        if is_trigger and trigger_table is None:
            continue  # a trigger function not attached to any table cannot be checked
        rows = conn.execute(
            "select level, message, lineno, statement from plpgsql_check_function_tb("
            " %s::regprocedure, coalesce(%s::regclass, 0::regclass),"
            " fatal_errors => false, other_warnings => false, performance_warnings => false,"
            " extra_warnings => false)",
            (signature, trigger_table),
        ).fetchall()
        errors += [f"{signature} line {line}: {msg} ({stmt})" for level, msg, line, stmt in rows if level == "error"]
    REPORT_DIR.mkdir(parents=True, exist_ok=True)
    (REPORT_DIR / f"plpgsql_check-{db_mode}.txt").write_text(
        f"{len(functions)} PL/pgSQL functions checked, {len(errors)} errors\n"
    )
    assert errors == []
