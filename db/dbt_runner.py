"""Run dbt (dbt_project/) against the database everything else uses, from any directory.

The connection comes from db/connection.py (DATABASE_URL or the embedded cluster) as libpq
variables; dbt_project/profiles.yml reads them, so no secret is written to a file. dbt acts as
tsq_dbt (db/roles/V0005__dbt_role.sql). It also arranges the maintained indicators the features
read: dbt_project/seeds/feature_indicators.csv declares them once, `maintain_feature_indicators`
calls ta.maintain for each instrument and feature timeframe.

Usage: python -m db.dbt_runner [--url URL] [--maintain] DBT_ARGS...
  e.g. python -m db.dbt_runner build        python -m db.dbt_runner --maintain build
"""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from psycopg import sql

from db.connection import ConfigurationError, connect, database_url, libpq_environment

PROJECT_DIR = Path(__file__).resolve().parent.parent / "dbt_project"
FEATURE_INDICATORS = PROJECT_DIR / "seeds" / "feature_indicators.csv"
FEATURE_TIMEFRAMES = ("1m", "5m", "15m", "1h", "4h", "1d")


def dbt_executable() -> str:
    """The dbt of this virtualenv (beside the running Python), else the one on PATH."""
    here = Path(sys.executable).parent / "dbt"
    return str(here) if here.exists() else "dbt"


def dbt_environment(url: str | None = None, *, run_dir: Path | None = None) -> dict[str, str]:
    """Environment for a dbt subprocess: libpq variables of `url`, offline flags, and (optional)
    private target/log folders so concurrent runs do not share dbt's state."""
    env = dict(os.environ)
    for name in ("PGHOST", "PGPORT", "PGUSER", "PGPASSWORD", "PGDATABASE", "PGSSLMODE"):
        env.pop(name, None)
    env.update(libpq_environment(url or database_url()))
    env.update(
        DBT_PROFILES_DIR=str(PROJECT_DIR),
        DBT_PROJECT_DIR=str(PROJECT_DIR),
        DBT_SEND_ANONYMOUS_USAGE_STATS="False",
        DBT_VERSION_CHECK="false",
        DO_NOT_TRACK="1",
    )
    if run_dir is not None:
        env["DBT_TARGET_PATH"] = str(run_dir / "target")
        env["DBT_LOG_PATH"] = str(run_dir / "logs")
    return env


def run_dbt(args: list[str], url: str | None = None, *, run_dir: Path | None = None,
            capture: bool = False, check: bool = False,
            extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run `dbt <args>` on the project with the shared connection (plus `extra_env`); returns
    the finished process."""
    proc = subprocess.run(
        [dbt_executable(), *args],
        cwd=PROJECT_DIR,
        env={**dbt_environment(url, run_dir=run_dir), **(extra_env or {})},
        text=True,
        capture_output=capture,
    )
    if check and proc.returncode != 0:
        tail = (proc.stdout or "")[-4000:] if capture else ""
        raise RuntimeError(f"dbt {' '.join(args)} failed with exit {proc.returncode}\n{tail}")
    return proc


def feature_indicators() -> list[tuple[str, dict]]:
    """The maintained indicators the features read: (ta indicator, TA-Lib parameters) per seed row."""
    with FEATURE_INDICATORS.open(newline="") as fh:
        return [(row["indicator"], json.loads(row["params"] or "{}")) for row in csv.DictReader(fh)]


def maintain_feature_indicators(conn, instrument_ids: list[int] | None = None,
                                timeframes: tuple[str, ...] = FEATURE_TIMEFRAMES) -> int:
    """ta.maintain every declared feature indicator for the instruments (default: all) and
    timeframes; idempotent. Returns how many configurations were arranged. Values appear after the
    next ta.refresh_indicators()."""
    if instrument_ids is None:
        instrument_ids = [r[0] for r in conn.execute("select instrument_id from market.instruments order by 1")]
    declared = feature_indicators()
    with conn.transaction():  # one commit, not one per configuration
        conn.execute(
            "select count(ta.maintain(i.instrument_id, tf.timeframe, f.indicator, f.params::jsonb))"
            " from unnest(%s::int[]) as i (instrument_id) cross join unnest(%s::text[]) as tf (timeframe)"
            " cross join unnest(%s::text[], %s::text[]) as f (indicator, params)",
            (list(instrument_ids), list(timeframes), [d[0] for d in declared], [json.dumps(d[1]) for d in declared]),
        )
    return len(instrument_ids) * len(timeframes) * len(declared)


def _fmt(value, spec: str) -> str:
    return "-" if value is None else format(float(value), spec)


def _why_silent(conn, strategy: str, kind: str, timeframe: str) -> str:
    """Why a strategy fired nowhere, when its inputs are missing (the demo has two days of data)."""
    if kind == "mtf_trend":
        trend = conn.execute("select parameters ->> 'trend_timeframe' from staging.strategies"
                             " where strategy_name = %s", (strategy,)).fetchone()[0] or "4h"
        if trend in FEATURE_TIMEFRAMES:
            known = conn.execute(
                sql.SQL("select count(*) filter (where {} is not null), count(*) from features.candle_features"
                        " where timeframe = %s").format(sql.Identifier(f"mtf_{trend}_macd_hist")),
                (timeframe,)).fetchone()
            return f"(the {trend} trend, MACD of 34 {trend} bars, is known on {known[0]} of {known[1]} {timeframe} bars)"
    if kind == "taapi_consensus":
        real, simulated = conn.execute("select count(*) filter (where not simulated), count(*) filter (where simulated)"
                                       " from signals.raw_signals where timeframe = %s", (timeframe,)).fetchone()
        return f"({real} real and {simulated} simulated taapi.io rows for {timeframe}; it reads real ones)"
    return ""


def demo_lines(url: str | None = None, *, bars: int = 2) -> list[str]:
    """`make demo`, after the rollups and indicators: arrange the feature indicators, run
    `dbt build` (fails loudly with dbt's output), and describe what it built: the newest `bars`
    15m features of each instrument (with the latest closed 1h bar's RSI) and the signals that
    fired per strategy."""
    with connect(url, autocommit=True) as conn:
        configurations = maintain_feature_indicators(conn)
        conn.execute("select count(*) from ta.refresh_indicators()")
    started = time.perf_counter()
    proc = run_dbt(["build"], url, capture=True)
    if proc.returncode != 0:
        raise RuntimeError(f"dbt build failed (exit {proc.returncode}):\n{proc.stdout[-4000:]}")
    done = re.findall(r"Done\. (PASS=\d+ WARN=\d+ ERROR=\d+ SKIP=\d+)", proc.stdout)
    lines = [f"dbt build: {done[-1] if done else 'done'} in {time.perf_counter() - started:.1f} s "
             f"({configurations} feature indicator configurations maintained)"]
    with connect(url) as conn:
        rows = conn.execute(
            """
            select exchange, symbol, open_time, close, ret_1, volatility_20_annual, volume_zscore_20, rsi_14,
                   macd_hist, bb_pctb_20, mtf_1h_open_time, mtf_1h_rsi_14, gap_before
            from (
                select f.*, row_number() over (partition by f.instrument_id order by f.open_time desc) as newest
                from features.candle_features as f where f.timeframe = '15m'
            ) as ranked
            where newest <= %s
            order by exchange, symbol, open_time
            """, (bars,)).fetchall()
        lines.append("-- features.candle_features, the newest 15m bars (mtf_1h: the latest closed hour)")
        lines.append(f"{'exchange':<9} {'symbol':<9} {'open_time':<16} {'close':>11} {'ret_1':>9} {'vol20_ann':>9} "
                     f"{'vol_z20':>7} {'rsi_14':>6} {'macd_hist':>10} {'bb_%b':>6} {'mtf_1h':>5} {'rsi_14':>6} gap")
        for ex, sym, t, close, ret, vol, vz, rsi, hist, pctb, h_time, h_rsi, gap in rows:
            lines.append(
                f"{ex:<9} {sym:<9} {t:%Y-%m-%d %H:%M} {close:>11.6g} {_fmt(ret, '9.5f'):>9} {_fmt(vol, '9.3f'):>9} "
                f"{_fmt(vz, '7.2f'):>7} {_fmt(rsi, '6.1f'):>6} {_fmt(hist, '10.4g'):>10} {_fmt(pctb, '6.2f'):>6} "
                f"{'-' if h_time is None else format(h_time, '%H:%M'):>5} {_fmt(h_rsi, '6.1f'):>6} "
                f"{'yes' if gap else 'no'}")
        signals = conn.execute(
            """
            select s.strategy_name, s.kind, s.timeframe, count(t.direction),
                   count(*) filter (where t.direction = 'BUY'), count(*) filter (where t.direction = 'SELL'),
                   count(*) filter (where t.direction = 'NEUTRAL'),
                   (array_agg(t.symbol || ' ' || t.direction || ' at ' || to_char(t.bar_time at time zone 'UTC',
                       'YYYY-MM-DD HH24:MI') || ' strength ' || round(t.strength::numeric, 2) || ' confidence '
                       || round(t.confidence::numeric, 2) order by t.bar_time desc, t.symbol))[1]
            from staging.strategies as s
            left join bi.trading_signals as t on s.strategy_name = t.signal_source
            where s.enabled
            group by s.strategy_name, s.kind, s.timeframe
            order by s.strategy_name
            """).fetchall()
        lines.append("-- bi.trading_signals: the signals that fired, per strategy (seed strategies)")
        for name, kind, tf, n, buy, sell, neutral, latest in signals:
            counts = f"{n:>4} signals ({buy} BUY, {sell} SELL, {neutral} NEUTRAL)"
            lines.append(f"{name:<24} {kind:<16} {tf:<4} {counts:<36} "
                         f"{'latest: ' + latest if latest else _why_silent(conn, name, kind, tf)}")
        days = conn.execute("select count(*) from signals.analysis_results").fetchone()[0]
        best = conn.execute("select result_summary from signals.analysis_results order by score desc, symbol,"
                            " timeframe, analysis_date limit 1").fetchone()
        lines.append(f"-- signals.analysis_results: {days} instrument-timeframe-days; highest score: "
                     f"{best[0] if best else '-'}")
    return lines


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    url = None
    maintain = False
    while argv and argv[0] in ("--url", "--maintain", "-h", "--help"):
        flag = argv.pop(0)
        if flag in ("-h", "--help"):
            print(__doc__.split("\n\n", 2)[2].strip())
            return 0
        if flag == "--maintain":
            maintain = True
        elif not argv:
            print("db.dbt_runner: --url needs a value", file=sys.stderr)
            return 2
        else:
            url = argv.pop(0)
    if not argv and not maintain:
        print("usage: python -m db.dbt_runner [--url URL] [--maintain] DBT_ARGS... (e.g. build)", file=sys.stderr)
        return 2
    try:
        if maintain:
            with connect(url, autocommit=True) as conn:
                n = maintain_feature_indicators(conn)
                conn.execute("select ta.refresh_indicators()")
            print(f"feature indicators: {n} configurations maintained and refreshed")
        if not argv:
            return 0
        return run_dbt(argv, url).returncode
    except ConfigurationError as exc:
        print(f"db.dbt_runner: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
