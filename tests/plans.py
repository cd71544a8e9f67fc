"""Walking EXPLAIN (format json) plans in tests that check what a query reads."""

from __future__ import annotations

from collections.abc import Iterator


def plan_nodes(plan: dict) -> Iterator[dict]:
    """The plan node and every node below it, depth first."""
    yield plan
    for child in plan.get("Plans", []):
        yield from plan_nodes(child)


def rows_read(conn, query: str, params: tuple) -> tuple[list, dict[str, int]]:
    """The query's rows, and per relation the rows its scans produced (actual rows x loops), from
    EXPLAIN ANALYZE. Leaf nodes only: a TimescaleDB ChunkAppend names the hypertable above the
    chunk scans it runs, and counting it too would count those rows twice."""
    rows = conn.execute(query, params).fetchall()
    plan = conn.execute("explain (analyze, format json) " + query, params).fetchone()[0][0]["Plan"]
    read: dict[str, int] = {}
    for node in plan_nodes(plan):
        rel = node.get("Relation Name")
        if rel and "Plans" not in node:
            read[rel] = read.get(rel, 0) + int(node["Actual Rows"]) * int(node["Actual Loops"])
    return rows, read
