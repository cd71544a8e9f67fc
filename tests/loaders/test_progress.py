"""One progress display for every loader (issue 9, item 14): the jobs' bar (loaders/core/progress.py)
also serves the capture importer and the synthetic loader, as LoaderRun's callback."""

from __future__ import annotations

import io

import loaders.binance_capture as capture
import loaders.core.runs as runs
import scripts.synthetic as synthetic
from loaders.core.progress import Progress
from loaders.sources.binance_capture import bundled_captures


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_bar_on_a_terminal_plain_lines_otherwise():
    tty = Tty()
    bar = Progress(stream=tty)
    bar.update("binance BTC/USDT candles 1m", 0.5, "720 loaded")
    bar("trades: 500/1000 rows (loaded 500)")
    bar.done()
    text = tty.getvalue()
    assert text.count("\r") == 2 and text.endswith("\n") and "[###############" in text and "50.0%" in text
    assert "trades" in text and "500/1000 rows (loaded 500)" in text
    plain = io.StringIO()
    lines = Progress(stream=plain)
    lines("trades: 500/1000 rows")
    lines.update("taapi 1h", 1.0, "6 stored")
    lines.done()
    assert plain.getvalue().splitlines() == ["trades: 500/1000 rows", "taapi 1h: 100% 6 stored"]
    quiet = io.StringIO()
    off = Progress(enabled=False, stream=quiet)
    off("x: y")
    off.update("a", 0.1, "b")
    assert quiet.getvalue() == ""


def test_capture_importer_and_synthetic_loader_use_the_same_progress(db_url, monkeypatch):
    seen = []
    real = runs.LoaderRun.__init__

    def spy(self, *args, **kwargs):
        seen.append(kwargs.get("progress"))
        real(self, *args, **kwargs)

    monkeypatch.setattr(runs.LoaderRun, "__init__", spy)
    assert capture.main([str(bundled_captures()[0]), "--url", db_url, "--datasets", "trades"]) == 0
    assert synthetic.main(["--load", "--days", "0.01", "--instruments", "1", "--url", db_url]) == 0
    assert len(seen) == 2 and all(isinstance(p, Progress) for p in seen), seen
