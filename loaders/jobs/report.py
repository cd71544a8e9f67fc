"""The collection report (seed 004): what each run loaded, per instrument and dataset, and how
progress is shown while it runs (a bar on a terminal, plain log lines under cron)."""

from __future__ import annotations

import logging
import sys
import time
from dataclasses import dataclass, field
from typing import TextIO

from db.connection import redact
from loaders.core.ingest import Counts

log = logging.getLogger("loaders")


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


class Progress:
    """A one-line bar on a terminal; one plain log line per step otherwise (cron)."""

    def __init__(self, enabled: bool = True, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.tty = enabled and self.stream.isatty()
        self._drawn = False

    def update(self, label: str, fraction: float | None, detail: str) -> None:
        if not self.enabled:
            return
        if self.tty:
            frac = 0.0 if fraction is None else max(0.0, min(1.0, fraction))
            bar = "#" * int(frac * 30)
            text = f"\r{label[:40]:<40} [{bar:<30}] {frac * 100:5.1f}% {detail}"
            self.stream.write(text[:150].ljust(150))
            self.stream.flush()
            self._drawn = True
        else:
            pct = "" if fraction is None else f" {max(0.0, min(1.0, fraction)) * 100:.0f}%"
            log.info("%s:%s %s", label, pct, detail)

    def done(self) -> None:
        if self.tty and self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False
