"""Import Binance WebSocket captures: trades -> market.trades, bookTicker -> market.quotes.

    python -m loaders.binance_capture ../shared/data/binance_spot_btcusdt_20240808.ws.gz [...]

Idempotent (re-importing a file, or overlapping files, loads each row once), one transaction per
batch, a run record in ops.loader_runs, quarantine for bad lines, and a lock so two imports do not
run at once. Exit codes: 0 ok, 1 failure, 2 user error, 3 another run holds the lock.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from db.errors import UserError, run_main
from loaders.core.ingest import QUOTES, TRADES, Counts
from loaders.core.progress import Progress
from loaders.core.runs import LoaderRun
from loaders.core.instruments import attach_ids, resolve
from loaders.sources.binance_capture import parse_capture

JOB = "binance_capture"
SOURCE = "binance_capture"


def import_files(conn, paths: list[Path], *, datasets=("trades", "quotes"), batch_size: int = 50_000,
                 register: bool = True, exchange: str = "binance", job: str = JOB, progress=None,
                 pause: float = 0.0) -> tuple[int, Counts, dict[str, Counts]]:
    """Import capture files through the ingest core. Returns (run_id, total counts, per dataset)."""
    per: dict[str, Counts] = {d: Counts() for d in datasets}
    with LoaderRun(conn, job=job, source=SOURCE, dataset=",".join(datasets), progress=progress,
                   args={"files": [str(p) for p in paths], "batch_size": batch_size},
                   pause_between_batches=pause) as run:
        for path in paths:
            cap = parse_capture(path)
            run.skipped += cap.skipped
            run.quarantine_only("unknown", cap.rejects.get("unknown", []))
            symbols = set(cap.trades["symbol"]) | set(cap.quotes["symbol"])
            ids = resolve(conn, exchange, symbols, register=register)
            if "trades" in datasets:
                per["trades"].add(run.load(TRADES, attach_ids(cap.trades, ids), batch_size=batch_size,
                                           rejects=cap.rejects.get("trades")))
            if "quotes" in datasets:
                per["quotes"].add(run.load(QUOTES, attach_ids(cap.quotes, ids), batch_size=batch_size,
                                           rejects=cap.rejects.get("quotes")))
        return run.run_id, run.counts, per


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m loaders.binance_capture", description=__doc__.split("\n\n")[0])
    p.add_argument("files", nargs="+", type=Path, help="capture files (.ws.gz or plain text)")
    p.add_argument("--datasets", default="trades,quotes", help="comma list of trades,quotes (default both)")
    p.add_argument("--batch-size", type=int, default=50_000, help="rows per transaction (default 50000)")
    p.add_argument("--no-register", action="store_true",
                   help="do not register unknown symbols (their rows are quarantined as unknown_instrument)")
    p.add_argument("--refresh-rollups", action="store_true", help="bring the candle rollups up to date afterwards")
    p.add_argument("--url", help="database URL (default: DATABASE_URL or the embedded database)")
    p.add_argument("--job", default=JOB, help=argparse.SUPPRESS)
    p.add_argument("--pause-between-batches", type=float, default=0.0,
                   help="seconds to sleep after each committed batch (be gentle on a busy server)")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    args = p.parse_args(argv)
    datasets = tuple(d.strip() for d in args.datasets.split(",") if d.strip())
    if not datasets or set(datasets) - {"trades", "quotes"}:
        raise UserError(f"--datasets takes trades and/or quotes, got {args.datasets!r}")
    if args.batch_size < 1:
        raise UserError("--batch-size must be a positive number of rows")
    for f in args.files:
        if not f.is_file():
            raise UserError(f"capture file {f} does not exist")
    from db.connection import connect

    progress = Progress(enabled=not args.quiet)
    with connect(args.url) as conn:
        try:
            run_id, total, per = import_files(
                conn, args.files, datasets=datasets, batch_size=args.batch_size,
                register=not args.no_register, job=args.job, progress=progress,
                pause=args.pause_between_batches,
            )
        finally:
            progress.done()
        for name, c in per.items():
            print(f"{name}: in {c.rows_in}, loaded {c.loaded}, duplicate {c.duplicate}, "
                  f"quarantined {c.quarantined} (fast path {c.fast_path}, merged {c.merged})")
        print(f"run {run_id}: in {total.rows_in} = loaded {total.loaded} + quarantined "
              f"{total.quarantined} + duplicate {total.duplicate}"
              + (f"; quarantine reasons {total.reasons}" if total.reasons else ""))
        if args.refresh_rollups:
            conn.autocommit = True
            conn.execute("call market.refresh_rollups()")
            print("rollups refreshed")
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
