"""The dbt step of `make test` (scripts/run-tests.sh runs it once per database mode).

On a fresh database migrated in that mode, loaded with a small deterministic fixture
(`load_fixture`: two instruments of native 1m candles ending at the last full hour, one with gaps
and a quarantined row, rolled up to 1d, the declared feature indicators maintained, and taapi.io
rows next to our 1h RSI and MACD), it runs
  dbt build              seeds, models, generic data tests and unit tests;
  dbt source freshness   the sources' loaded_at_field freshness (an error-level stale source fails);
  dbt docs generate      offline (proxies pointed at a closed port), catalog.json must describe the marts;
prints dbt's output and then one line "dbt step (<mode>): ...", and exits non-zero when any of the
three fails. tests/features/test_dbt_step.py shows that a failing data test fails the step.

    python -m tests.features.dbt_step --mode postgresql|timescaledb [--keep]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import psycopg
from psycopg import sql

from db.connection import database_url
from db.dbt_runner import run_dbt
from db.migrate import migrate
from tests.features import helpers as h

#: the marts catalog.json must describe (with their columns) after dbt docs generate
DOCUMENTED = ("model.tsquant.candle_features", "model.tsquant.strategy_signals", "model.tsquant.analysis_results",
              "model.tsquant.trading_signals", "model.tsquant.candle_labels")
#: dbt must not need the network for docs: any HTTP(S) request would go to a closed port
OFFLINE = {"HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9",
           "http_proxy": "http://127.0.0.1:9", "https_proxy": "http://127.0.0.1:9", "NO_PROXY": "", "no_proxy": ""}


@dataclass
class Result:
    """One dbt command of the step: its exit code, a one-line summary and dbt's output."""

    command: str
    returncode: int
    summary: str
    output: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def last_full_hour() -> dt.datetime:
    now = dt.datetime.now(dt.timezone.utc)
    return now.replace(minute=0, second=0, microsecond=0)


def load_fixture(url: str, *, bars: int = 3000, end: dt.datetime | None = None) -> dict[str, int]:
    """Two instruments (AAA/USDT, BBB/USDT with a gap every 400 bars and a quarantined row) of
    `bars` native 1m candles ending at `end` (default: the last full hour, so the sources are
    fresh), rolled up, the feature indicators maintained and refreshed, and taapi.io rsi/macd rows
    for every 1h bar: ours, except every 5th RSI moved 30 points towards the nearer extreme (taapi
    disagreeing, so the consensus strategy fires with a low cross-check confidence)."""
    end = end or last_full_hour()
    start = pd.Timestamp(end) - pd.Timedelta(minutes=bars)
    series = {
        "AAA/USDT": h.random_walk_candles(bars, seed=11, start=start),
        "BBB/USDT": h.random_walk_candles(bars, seed=12, start=start, price=0.5, gap_every=400),
    }
    with psycopg.connect(url, autocommit=True) as conn:
        ids = {symbol: h.register(conn, symbol) for symbol in series}
        for symbol, candles in series.items():
            h.insert_candles(conn, ids[symbol], candles)
        conn.execute(
            "insert into market.quarantine (source, dataset, reason, symbol, record_time, payload)"
            " values ('testex_rest', 'candles', 'nan_price', 'BBB/USDT', %s, '{}')",
            (series["BBB/USDT"]["open_time"].iloc[50].to_pydatetime() + dt.timedelta(seconds=5),),
        )
        h.maintain(conn, list(ids.values()))
        h.refresh(conn)
        conn.execute(
            """
            insert into signals.raw_signals (source, exchange, symbol, timeframe, indicator, indicator_key, params,
                                             value, outputs, source_time, raw_json, simulated)
            select 'taapi', i.exchange, i.symbol, m.timeframe, m.indicator, m.name, m.params,
                   case when m.indicator = 'rsi' then
                       case when row_number() over (partition by m.indicator_id order by v.open_time) % 5 = 0
                            then least(100, greatest(0, v.value1 + case when v.value1 >= 50 then 30 else -30 end))
                            else v.value1 end
                   else v.value1 end,
                   case when m.indicator = 'macd' then jsonb_build_object(
                       'valueMACD', v.value1, 'valueMACDSignal', v.value2, 'valueMACDHist', v.value3)
                   else '{}'::jsonb end,
                   v.open_time, '{}'::jsonb, false
            from ta.maintained_indicators as m
            join ta.indicator_values as v using (indicator_id)
            join market.instruments as i using (instrument_id)
            where m.timeframe = '1h' and m.name in ('rsi_14', 'macd_12_26_9')
            """
        )
    return ids


def _done_line(output: str) -> str:
    found = re.findall(r"Done\. (PASS=\d+ WARN=\d+ ERROR=\d+ SKIP=\d+(?: NO-OP=\d+)? TOTAL=\d+)", output)
    return found[-1] if found else "no dbt summary"


def dbt_build(url: str, run_dir: Path) -> Result:
    proc = run_dbt(["build"], url, run_dir=run_dir, capture=True)
    return Result("build", proc.returncode, _done_line(proc.stdout), proc.stdout)


def source_freshness(url: str, run_dir: Path) -> Result:
    proc = run_dbt(["source", "freshness"], url, run_dir=run_dir, capture=True)
    summary = "no sources.json"
    path = run_dir / "target" / "sources.json"
    if path.exists():
        results = json.loads(path.read_text())["results"]
        counts: dict[str, int] = {}
        for r in results:
            counts[r["status"]] = counts.get(r["status"], 0) + 1
        summary = f"{len(results)} sources: " + ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
        stale = [r["unique_id"].removeprefix("source.tsquant.") for r in results if r["status"] != "pass"]
        if stale:
            summary += f" ({', '.join(stale)})"
    return Result("source freshness", proc.returncode, summary, proc.stdout)


def docs_generate(url: str, run_dir: Path) -> Result:
    proc = run_dbt(["docs", "generate"], url, run_dir=run_dir, capture=True, extra_env=OFFLINE)
    rc, summary = proc.returncode, "no catalog.json"
    catalog = run_dir / "target" / "catalog.json"
    if catalog.exists() and (run_dir / "target" / "index.html").exists():
        nodes = json.loads(catalog.read_text())["nodes"]
        missing = [m for m in DOCUMENTED if not nodes.get(m, {}).get("columns")]
        summary = f"catalog of {len(nodes)} relations"
        if missing:
            rc, summary = rc or 1, summary + f", missing {', '.join(missing)}"
    elif rc == 0:
        rc = 1
    return Result("docs generate", rc, summary, proc.stdout)


def run_checks(url: str, run_dir: Path) -> list[Result]:
    """The three dbt commands of the step on a loaded database (each runs whatever the others did)."""
    return [dbt_build(url, run_dir), source_freshness(url, run_dir), docs_generate(url, run_dir)]


def step_exit_code(results: list[Result]) -> int:
    return 0 if all(r.ok for r in results) else 1


def summary_line(mode: str, results: list[Result]) -> str:
    parts = [f"{r.command}{'' if r.ok else f' FAILED (exit {r.returncode})'}: {r.summary}" for r in results]
    return f"dbt step ({mode}): " + "; ".join(parts)


def _admin(statement: sql.Composable) -> None:
    with psycopg.connect(database_url("postgres"), autocommit=True) as admin:
        admin.execute(statement)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--mode", choices=("postgresql", "timescaledb"), default="postgresql")
    p.add_argument("--keep", action="store_true", help="keep the database (named in the output)")
    args = p.parse_args(argv)
    name = f"tsq_dbt_{args.mode}_{os.getpid()}"
    url = database_url(name)
    _admin(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
    try:
        migrate(url, mode=args.mode, create_db=True, log=lambda _m: None)
        load_fixture(url)
        with tempfile.TemporaryDirectory(prefix="tsq-dbt-step-") as tmp:
            results = run_checks(url, Path(tmp))
        for r in results:
            print(f"---- dbt {r.command}")
            print(r.output.rstrip())
        line = summary_line(args.mode, results)
        print(line)
        return step_exit_code(results)
    finally:
        if args.keep:
            print(f"database kept: {name}")
        else:
            _admin(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


if __name__ == "__main__":
    sys.exit(main())
