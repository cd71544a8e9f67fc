"""Features benchmark (issue 10): the dbt features marts computed inside the database.

(d) incremental features run: 100 instruments of native 1m candles, 1k vs 100k bars each (100k vs
    10M bars of 1m history in total, plus their rollups), the features marts built over that
    history; then 1 new 1m bar is appended to each instrument and the incremental models are run
    as a pipeline runs them (`dbt run --select int_bar_features candle_features`, the two
    incremental models of `dbt build`; median of --appends runs after one warm-up,
    alternating between the two histories). Timed: the models' execution
    time from dbt's run_results.json (dbt's start-up and parsing, the same for every size, are
    printed beside it). Target d(10M)/d(100k) <= 1.5: the cost follows the new bars, not the history.
(e) full refresh of the features marts (`dbt run --select int_bar_features candle_features
    --full-refresh`) over 1M 1m bars (10 instruments x 100k, plus their rollups and real maintained
    indicator values) vs the round trip a user would otherwise write: pull the same candles and
    maintained values into pandas, compute the same columns (the pandas oracle of the tests,
    tests/features/helpers.oracle_features) and COPY them into a table of the shape of
    features.candle_features. Both are checked equal (every column, 1e-9 relative). Target e <= 1.0.

Data are made set-based in SQL: generate_series candles inserted into market.candles (native 1m,
read through market.candles_1m), rollups by market.refresh_rollups() with the simulated clock (the
forming buckets stay out, so an appended 1m bar is one new 1m bar). For (d) the maintained values
are synthetic rows of ta.indicator_values for the last 300 bars of each configuration and for every
appended bar: the bench times the features, not the indicators (bench (c) times those), and
computing and storing ~170M values for the 10M history would dominate the run; older bars get NULL
indicator features, their candle features and rows are all there. (e) uses real values
(ta.refresh_indicators over the whole history).

Usage: python bench/bench_features.py [--small 1000] [--large 100000] [--appends 5]
                                      [--e-instruments 10] [--e-bars 100000] [--skip-d] [--skip-e]
Plain PostgreSQL mode; scratch databases <database>_bench_features_*, dropped at the end.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psycopg
from psycopg import sql

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from db.connection import connect, database_url  # noqa: E402
from db.dbt_runner import maintain_feature_indicators, run_dbt  # noqa: E402
from db.migrate import migrate  # noqa: E402
from tests.features import helpers as oracle  # noqa: E402
from tests.features.test_candle_features import assert_frames_equal  # noqa: E402

INSTRUMENTS = 100
TIMEFRAMES = oracle.TIMEFRAMES
INCREMENTAL = ["int_bar_features", "candle_features"]
VALUE_TAIL = 300  # synthetic maintained values per configuration in (d)

GENERATE = """
insert into market.candles (instrument_id, timeframe, open_time, open, high, low, close, volume, source)
select %(iid)s, '1m', %(end)s - (%(n)s - g + 1) * interval '1 minute', p.o, greatest(p.o, p.c) * 1.001,
       least(p.o, p.c) * 0.999, p.c, 1 + ((g * 7 + %(iid)s) %% 23) * 0.5, 'bench'
from generate_series(1, %(n)s) as g
cross join lateral (
    select 100 + 10 * sin(g / 50.0 + %(iid)s) + (g %% 7) * 0.01 as c,
           100 + 10 * sin((g - 1) / 50.0 + %(iid)s) + ((g - 1) %% 7) * 0.01 as o
) as p
"""

# the 5m buckets of the new candles are dirty (the 1m level of the native chain is the candles)
DIRTY_5M = """
insert into market.rollup_dirty (chain, timeframe, instrument_id, open_time)
select distinct 'native', '5m', instrument_id, date_bin(interval '5 minutes', open_time, timestamptz '2000-01-03')
from market.candles where instrument_id = %(iid)s and timeframe = '1m'
"""

# synthetic maintained values: the last `tail` bars of every configuration of one timeframe
SYNTHETIC_VALUES = """
insert into ta.indicator_values (indicator_id, open_time, value1, value2, value3)
select m.indicator_id, b.open_time, 50 + 30 * sin(b.k / 40.0 + m.indicator_id),
       40 + 30 * sin(b.k / 40.0 + m.indicator_id), 30 + 30 * sin(b.k / 40.0 + m.indicator_id)
from ta.maintained_indicators as m
cross join lateral (
    select c.open_time, extract(epoch from c.open_time) / 60 as k
    from {candles} as c
    where c.instrument_id = m.instrument_id and c.open_time >= %(since)s
    order by c.open_time desc
    limit %(tail)s
) as b
where m.timeframe = %(tf)s
on conflict do nothing
"""


def _scratch(suffix: str) -> str:
    base = psycopg.conninfo.conninfo_to_dict(database_url()).get("dbname") or "tsquant"
    return f"{base}_bench_features_{suffix}"


def _drop(name: str) -> None:
    with connect(database_url("postgres"), autocommit=True) as admin:
        admin.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


def _fresh_database(suffix: str) -> tuple[str, str]:
    """A new scratch database migrated in plain mode: (name, url)."""
    name = _scratch(suffix)
    _drop(name)
    url = database_url(name)
    migrate(url, mode="postgresql", create_db=True, log=lambda _m: None)
    return name, url


def _history_end() -> dt.datetime:
    """The simulated clock: the history ends at midnight UTC a day ago (every rollup bucket closed)."""
    return dt.datetime.now(dt.timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0) - dt.timedelta(days=1)


def _dbt(url: str, run_dir: Path, *args: str) -> tuple[float, float, dict[str, float]]:
    """Run dbt; returns (wall seconds, the incremental models' execution seconds, per model)."""
    started = time.perf_counter()
    proc = run_dbt(list(args), url, run_dir=run_dir, capture=True)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"dbt {' '.join(args)} failed (exit {proc.returncode}):\n{proc.stdout[-4000:]}")
    results = json.loads((run_dir / "target" / "run_results.json").read_text())["results"]
    per_model = {r["unique_id"].split(".")[-1]: r["execution_time"] for r in results}
    return wall, sum(per_model.get(m, 0.0) for m in INCREMENTAL), per_model


def _history(conn, instruments: int, per_instrument: int, end: dt.datetime) -> list[int]:
    """`instruments` native instruments of `per_instrument` 1m candles ending at `end`, rolled up."""
    ids = [conn.execute("select market.register_instrument('bench', %s, p_candle_source => 'native')",
                        (f"B{k}/USDT",)).fetchone()[0] for k in range(instruments)]
    # bulk load: the dirty buckets are recorded set-based, not by the row trigger
    conn.execute("set tsquant.skip_rollup_invalidation = on")
    for i in ids:
        with conn.transaction():
            conn.execute(GENERATE, {"iid": i, "end": end, "n": per_instrument})
            conn.execute(DIRTY_5M, {"iid": i})
    conn.execute("reset tsquant.skip_rollup_invalidation")
    conn.execute("analyze market.candles")
    conn.execute("call market.refresh_rollups(%s)", (end,))
    conn.execute("analyze")
    return ids


def _synthetic_values(conn, since: dt.datetime, tail: int, timeframes=TIMEFRAMES) -> None:
    for tf in timeframes:
        conn.execute(sql.SQL(SYNTHETIC_VALUES).format(candles=sql.Identifier("market", f"candles_{tf}")),
                     {"since": since, "tail": tail, "tf": tf})


class _History:
    """One (d) database: `per_instrument` 1m bars for each of 100 instruments, marts built."""

    def __init__(self, per_instrument: int, run_dir: Path):
        self.per_instrument = per_instrument
        self.run_dir = run_dir
        self.name, self.url = _fresh_database(f"d{per_instrument}")
        self.end = _history_end()
        self.appended = 0
        self.times: list[float] = []
        self.walls: list[float] = []
        self.split: list[dict[str, float]] = []
        with connect(self.url, autocommit=True) as conn:
            started = time.perf_counter()
            self.ids = _history(conn, INSTRUMENTS, per_instrument, self.end)
            maintain_feature_indicators(conn, self.ids)
            _synthetic_values(conn, self.end - dt.timedelta(days=3650), VALUE_TAIL)
            conn.execute("analyze ta.indicator_values")
            built = time.perf_counter() - started
            bars = conn.execute("select " + " + ".join(f"(select count(*) from market.candles_{tf})"
                                                       for tf in TIMEFRAMES)).fetchone()[0]
            _, models, _ = _dbt(self.url, run_dir, "run", "--select", "+candle_features")
            conn.execute("analyze")
        print(f"    history {per_instrument * INSTRUMENTS:,} 1m bars ({per_instrument:,} per instrument, "
              f"{bars:,} bars of the 6 feature timeframes): data {built:.1f} s, first build of the marts "
              f"{models:.1f} s", flush=True)

    def append(self, timed: bool = True) -> None:
        """1 new 1m bar per instrument (rolled up with the simulated clock, its maintained values),
        then the incremental run."""
        at = self.end + dt.timedelta(minutes=self.appended)
        self.appended += 1
        with connect(self.url, autocommit=True) as conn:
            conn.execute(
                "insert into market.candles (instrument_id, timeframe, open_time, open, high, low, close,"
                " volume, source) select i, '1m', %s, 100, 101, 99, 100.5, 3 + %s, 'bench'"
                " from unnest(%s::int[]) as i", (at, self.appended, self.ids))
            conn.execute("call market.refresh_rollups(%s)", (at + dt.timedelta(minutes=1),))
            _synthetic_values(conn, at, 1, ["1m"])
            wall, models, per_model = _dbt(self.url, self.run_dir, "run", "--select", *INCREMENTAL)
            new = conn.execute("select count(*) from features.candle_features where open_time = %s"
                               " and timeframe = '1m'", (at,)).fetchone()[0]
        assert new == INSTRUMENTS, f"{new} new feature rows, expected {INSTRUMENTS}"
        if timed:
            self.times.append(models)
            self.walls.append(wall)
            self.split.append(per_model)

    def report(self) -> float:
        d = statistics.median(self.times)
        print(f"    {self.per_instrument * INSTRUMENTS:,} bars: append 1 bar x {INSTRUMENTS} instruments, incremental "
              f"run: models median {d * 1000:.0f} ms ({', '.join(f'{t * 1000:.0f}' for t in self.times)} ms); "
              f"dbt wall median {statistics.median(self.walls):.1f} s; per model (median): "
              + ", ".join(f"{m} {statistics.median(x[m] for x in self.split) * 1000:.0f} ms" for m in INCREMENTAL),
              flush=True)
        return d


def _size(per_instrument: int) -> str:
    total = per_instrument * INSTRUMENTS
    return f"{total // 1_000_000}M" if total % 1_000_000 == 0 else f"{total // 1000}k" if total % 1000 == 0 else f"{total:,}"


def run_d(small: int, large: int, appends: int, keep: bool = False) -> float:
    """Both histories are built first; then the appends alternate between them (after one untimed
    warm-up append each), so a change of load on the machine hits both sizes alike."""
    print(f"(d) incremental features run, {INSTRUMENTS} instruments, 1m, plain mode; history = 1m bars in total")
    histories: list[_History] = []
    try:
        with tempfile.TemporaryDirectory(prefix="tsq-bench-feat-") as tmp:
            for n in (small, large):
                (Path(tmp) / str(n)).mkdir()
                histories.append(_History(n, Path(tmp) / str(n)))
            for h in histories:
                h.append(timed=False)
            for _ in range(appends):
                for h in histories:
                    h.append()
            d_small, d_large = (h.report() for h in histories)
    finally:
        for h in histories:
            if keep:
                print(f"    database kept: {h.name}")
            else:
                _drop(h.name)
    ratio = d_large / d_small
    print(f"(d) d({small * INSTRUMENTS:,}) = {d_small * 1000:.0f} ms, d({large * INSTRUMENTS:,}) = "
          f"{d_large * 1000:.0f} ms, d({_size(large)})/d({_size(small)}) = {ratio:.2f}  (target <= 1.5)", flush=True)
    return ratio


def pandas_round_trip(url: str):
    """The baseline of (e): pull candles and maintained values, compute the features with the
    pandas oracle, COPY them into bench_pandas_features (the shape of features.candle_features).
    Returns (seconds, the frame written)."""
    started = time.perf_counter()
    with connect(url) as conn:
        feats = oracle.oracle_features(conn)
        names = oracle.fetch(conn, "select instrument_id, exchange, symbol from market.instruments")
        feats = feats.merge(names, on="instrument_id")
        columns = [r[0] for r in conn.execute(
            "select attname from pg_attribute where attrelid = 'features.candle_features'::regclass"
            " and attnum > 0 and not attisdropped order by attnum")]
        # pandas' fast path: the frame as CSV (floats written round-trip exact), one COPY
        buffer = io.StringIO()
        feats[columns].to_csv(buffer, index=False, header=False)
        conn.execute("drop table if exists public.bench_pandas_features")
        conn.execute("create table public.bench_pandas_features (like features.candle_features)")
        with conn.cursor().copy(sql.SQL("copy public.bench_pandas_features ({}) from stdin (format csv)").format(
                sql.SQL(", ").join(map(sql.Identifier, columns)))) as cp:
            cp.write(buffer.getvalue())
        conn.commit()
    return time.perf_counter() - started, feats[columns]


def run_e(instruments: int, per_instrument: int) -> float:
    name, url = _fresh_database("e")
    try:
        end = _history_end()
        with connect(url, autocommit=True) as conn:
            started = time.perf_counter()
            ids = _history(conn, instruments, per_instrument, end)
            maintain_feature_indicators(conn, ids)
            conn.execute("select count(*) from ta.refresh_indicators()")
            conn.execute("analyze")
            bars = conn.execute("select " + " + ".join(f"(select count(*) from market.candles_{tf})"
                                                       for tf in TIMEFRAMES)).fetchone()[0]
            values = conn.execute("select count(*) from ta.indicator_values").fetchone()[0]
            built = time.perf_counter() - started
        print(f"(e) full refresh of the features marts, {instruments} instruments x {per_instrument:,} 1m bars "
              f"({instruments * per_instrument:,} 1m bars, {bars:,} bars of the 6 feature timeframes, {values:,} "
              f"maintained values), plain mode; data {built:.1f} s", flush=True)
        with tempfile.TemporaryDirectory(prefix="tsq-bench-feat-") as tmp:
            run_dir = Path(tmp)
            _dbt(url, run_dir, "run", "--select", "+candle_features", "--exclude", *INCREMENTAL)  # the views
            wall, models, _ = _dbt(url, run_dir, "run", "--select", *INCREMENTAL, "--full-refresh")
        print(f"    dbt full refresh: models {models:.1f} s (dbt wall {wall:.1f} s)", flush=True)
        baseline, frame = pandas_round_trip(url)
        print(f"    pandas: pull, compute (tests/features/helpers.oracle_features), COPY back: {baseline:.1f} s",
              flush=True)
        with connect(url) as conn:
            got = oracle.fetch(conn, oracle.FEATURES_QUERY)
            copied = conn.execute("select count(*) from public.bench_pandas_features").fetchone()[0]
        assert copied == len(got), (copied, len(got))
        assert_frames_equal(got, frame, "candle_features vs the pandas round trip")
        print(f"    both wrote the same {len(got):,} rows (every column, 1e-9 relative)", flush=True)
        ratio = models / baseline
        print(f"(e) dbt full refresh {models:.1f} s, pandas round trip {baseline:.1f} s, e = {ratio:.2f}  "
              f"(target <= 1.0; with dbt's start-up, {wall:.1f} s: {wall / baseline:.2f})", flush=True)
        return ratio
    finally:
        _drop(name)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--small", type=int, default=1_000, help="(d) 1m bars per instrument, small history")
    p.add_argument("--large", type=int, default=100_000, help="(d) 1m bars per instrument, large history")
    p.add_argument("--appends", type=int, default=5,
                   help="(d) timed appends per history (after one warm-up), the median run is used")
    p.add_argument("--e-instruments", type=int, default=10)
    p.add_argument("--e-bars", type=int, default=100_000, help="(e) 1m bars per instrument")
    p.add_argument("--skip-d", action="store_true")
    p.add_argument("--skip-e", action="store_true")
    p.add_argument("--keep", action="store_true", help="(d) keep the two databases (to profile them)")
    args = p.parse_args(argv)
    if not args.skip_e:
        run_e(args.e_instruments, args.e_bars)
    if not args.skip_d:
        run_d(args.small, args.large, args.appends, args.keep)
    return 0


if __name__ == "__main__":
    sys.exit(main())
