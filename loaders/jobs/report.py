"""The collection report (seed 004): what each run loaded, per instrument and dataset. Progress
while it runs: loaders/core/progress.py (re-exported here for the jobs)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from db.connection import redact
from loaders.core.ingest import Counts
from loaders.core.progress import Progress  # noqa: F401  (the jobs' progress display)


@dataclass
class SeriesResult:
    """Outcome of one (source, instrument, dataset, timeframe) in one run."""

    source: str
    symbol: str
    dataset: str
    timeframe: str = ""
    counts: Counts = field(default_factory=Counts)
    pages: int = 0
    forming_skipped: int = 0
    gaps: int | None = None
    first_us: int | None = None
    last_us: int | None = None
    seconds: float = 0.0
    error: str | None = None
    skipped: str | None = None

    @property
    def label(self) -> str:
        return " ".join(p for p in (self.source, self.symbol, self.dataset, self.timeframe) if p)


def _fmt_time(us: int | None) -> str:
    if us is None:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M", time.gmtime(us / 1e6))


def format_report(results: list[SeriesResult], *, title: str = "collection report",
                  elapsed: float | None = None) -> list[str]:
    """Lines of the collection report (a table, then a total)."""
    header = (f"{'source':<10} {'symbol':<10} {'dataset':<8} {'tf':<4} {'in':>7} {'loaded':>7} "
              f"{'quarant.':>8} {'dup':>6} {'forming':>7} {'gaps':>5} {'from':<16} {'to':<16} {'secs':>6}  status")
    lines = [f"== {title}", header, "-" * len(header)]
    total = Counts()
    for r in results:
        c = r.counts
        total.add(c)
        status = "failed: " + redact(r.error) if r.error else ("skipped: " + r.skipped if r.skipped else "ok")
        lines.append(
            f"{r.source:<10} {r.symbol:<10} {r.dataset:<8} {r.timeframe or '-':<4} {c.rows_in:>7} "
            f"{c.loaded:>7} {c.quarantined:>8} {c.duplicate:>6} {r.forming_skipped:>7} "
            f"{'-' if r.gaps is None else r.gaps:>5} {_fmt_time(r.first_us):<16} "
            f"{_fmt_time(r.last_us):<16} {r.seconds:>6.1f}  {status}"
        )
    took = f" in {elapsed:.1f} s" if elapsed is not None else ""
    lines.append(f"total: in {total.rows_in} = loaded {total.loaded} + quarantined {total.quarantined}"
                 f" + duplicate {total.duplicate}{took}"
                 + (f"; quarantine reasons {dict(sorted(total.reasons.items()))}" if total.reasons else ""))
    return lines
