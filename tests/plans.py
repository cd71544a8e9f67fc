"""Walking EXPLAIN (format json) plans in tests that check what a query reads."""

from __future__ import annotations

from collections.abc import Iterator


def plan_nodes(plan: dict) -> Iterator[dict]:
    """The plan node and every node below it, depth first."""
    yield plan
    for child in plan.get("Plans", []):
        yield from plan_nodes(child)
