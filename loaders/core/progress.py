"""The one progress display of every loader (jobs, the capture importer, the synthetic loader):
a one-line bar redrawn in place on a terminal, one plain line per step otherwise (cron, pipes),
through the `loaders` logger when logging is configured, else straight to the stream."""

from __future__ import annotations

import logging
import sys
from typing import TextIO

log = logging.getLogger("loaders")


class Progress:
    """`update(label, fraction, detail)` for steps with a known fraction; calling the object with
    one message (`progress("trades: 500/1000 rows")`) is the callback LoaderRun takes."""

    def __init__(self, enabled: bool = True, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.tty = enabled and self.stream.isatty()
        self._drawn = False

    def update(self, label: str, fraction: float | None, detail: str) -> None:
        if not self.enabled:
            return
        frac = None if fraction is None else max(0.0, min(1.0, fraction))
        if self.tty:
            bar = "" if frac is None else f" [{'#' * int(frac * 30):<30}] {frac * 100:5.1f}%"
            text = f"\r{label[:40]:<40}{bar} {detail}"
            self.stream.write(text[:150].ljust(150))
            self.stream.flush()
            self._drawn = True
            return
        line = f"{label}:{'' if frac is None else f' {frac * 100:.0f}%'} {detail}".rstrip()
        if log.isEnabledFor(logging.INFO) and log.hasHandlers():
            log.info("%s", line)
        else:
            print(line, file=self.stream, flush=True)

    def __call__(self, message: str) -> None:
        label, _, detail = message.partition(": ")
        self.update(label, None, detail)

    def done(self) -> None:
        """End the bar's line (a terminal); nothing otherwise."""
        if self.tty and self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False
