"""Indicator benchmark (c): incremental maintenance cost vs history length.

100 instruments maintain the standard set (SMA, EMA, RSI, MACD, BBANDS, ATR, STOCH, ADX, OBV,
VWAP, TA-Lib defaults) on 1m candles. History: 1k bars per instrument (100k bars in total) vs
100k bars per instrument (10M bars in total). Then 1 bar is appended to each instrument and
ta.refresh_indicators() is timed (median of several appends). The cost must not depend on the
history: prints c(10M)/c(100k) (target <= 1.2).

History is built fast: native 1m candles generated in SQL with generate_series, inserted straight
into market.candles, read through market.candles_1m (plain mode: instruments with candle_source
'native'). The state after the history is built directly by the same kernel (ta._kernel over
all but the last 121 bars per instrument, written to ta.indicator_state; values of those bars are
not stored, which only changes the size of ta.indicator_values), then one ta.refresh_indicators()
consumes the last 121 bars (correction window + 1) with checkpoints - by the chunking property this
equals an initial refresh over the whole history.
Usage: python bench/bench_indicators_incremental.py [--small 1000] [--large 100000] [--appends 5]
Runs in a scratch database (<database>_bench_incr), dropped at the end.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import psycopg
from psycopg import sql

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from db.connection import connect, database_url  # noqa: E402
from db.migrate import migrate  # noqa: E402

INSTRUMENTS = 100
STANDARD = ["sma", "ema", "rsi", "macd", "bbands", "atr", "stoch", "adx", "obv", "vwap"]

GENERATE = """
insert into market.candles (instrument_id, timeframe, open_time, open, high, low, close, volume, source)
select i.instrument_id, '1m', %(end)s - (%(n)s - g) * interval '1 minute',
       p.c * 0.999, p.c * 1.002, p.c * 0.997, p.c, 1 + (g %% 17), 'bench'
from unnest(%(ids)s::int[]) as i (instrument_id)
cross join generate_series(1, %(n)s) as g
cross join lateral (select 100 + 10 * sin(g / 50.0 + i.instrument_id) + (g %% 7) * 0.01 as c) as p
"""

TAIL = 121
DIRECT_STATE = """
with s as materialized (
    select array_agg(high order by open_time) as h, array_agg(low order by open_time) as l,
           array_agg(close order by open_time) as c, array_agg(volume order by open_time) as v,
           max(open_time) as last
    from market.candles_1m where instrument_id = %(iid)s and open_time <= %(cut)s
), k as (
    select m.indicator_id, s.last, r.state
    from ta.maintained_indicators as m cross join s
    cross join lateral ta._kernel(m.indicator, m.params, null, s.h, s.l, s.c, s.v) as r
    where m.instrument_id = %(iid)s
)
update ta.indicator_state as st
set state = k.state, last_open_time = k.last, bar_count = k.state[1]::bigint
from k where st.indicator_id = k.indicator_id
"""


def _append(conn, ids: list[int], at) -> float:
    conn.execute(
        "insert into market.candles (instrument_id, timeframe, open_time, open, high, low, close, volume, source)"
        " select i, '1m', %s, 100, 101, 99, 100.5, 3, 'bench' from unnest(%s::int[]) as i",
        (at, ids),
    )
    started = time.perf_counter()
    rows = conn.execute("select sum(new_bars) from ta.refresh_indicators()").fetchone()[0]
    elapsed = time.perf_counter() - started
    assert rows == len(ids) * len(STANDARD), rows
    return elapsed


def _scenario(url: str, per_instrument: int, appends: int) -> float:
    with connect(url, autocommit=True) as conn:
        conn.execute("delete from ta.maintained_indicators")
        conn.execute("truncate market.candles")
        ids = [
            conn.execute(
                "select market.register_instrument('bench', %s, 'B' || %s, 'USDT', p_candle_source => 'native')",
                (f"B{k}USDT", k),
            ).fetchone()[0]
            for k in range(INSTRUMENTS)
        ]
        now = conn.execute("select date_trunc('minute', now()) - interval '1 day'").fetchone()[0]
        started = time.perf_counter()
        # bulk load without per-row FK checks and rollup-dirty triggers (scratch database,
        # superuser): the bench reads only 1m native candles, which market.candles_1m shows directly
        conn.execute("set session_replication_role = replica")
        for i in ids:
            conn.execute(GENERATE, {"end": now, "n": per_instrument, "ids": [i]})
        conn.execute("set session_replication_role = origin")
        conn.execute("analyze market.candles")
        for i in ids:
            for ind in STANDARD:
                conn.execute("select ta.maintain(%s, '1m', %s)", (i, ind))
        built = time.perf_counter() - started
        started = time.perf_counter()
        for i in ids:
            conn.execute(DIRECT_STATE, {"iid": i, "cut": now - (TAIL * __import__("datetime").timedelta(minutes=1))})
        conn.execute("select count(*) from ta.refresh_indicators()")
        conn.execute("analyze ta.indicator_values")
        conn.execute("analyze ta.indicator_checkpoints")
        initial = time.perf_counter() - started
        total = per_instrument * INSTRUMENTS
        print(f"    history {total:,} bars ({per_instrument:,} per instrument): candles {built:.1f} s, "
              f"initial refresh {initial:.1f} s", flush=True)
        times = []
        for k in range(1, appends + 1):
            times.append(_append(conn, ids, now + k * __import__("datetime").timedelta(minutes=1)))
        c = statistics.median(times)
        print(f"    append 1 bar x {INSTRUMENTS} instruments, refresh: median {c * 1000:.0f} ms "
              f"({', '.join(f'{t * 1000:.0f}' for t in times)} ms)", flush=True)
        return c


def run_incremental(conn=None, small: int = 1_000, large: int = 100_000, appends: int = 5) -> float:
    """Bench (c); conn is unused (a scratch database is made). Returns c(large)/c(small)."""
    main_url = database_url()
    name = (psycopg.conninfo.conninfo_to_dict(main_url).get("dbname") or "tsquant") + "_bench_incr"
    url = database_url(name)
    with connect(database_url("postgres"), autocommit=True) as admin:
        admin.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
    migrate(url, mode="postgresql", create_db=True, log=lambda _m: None)
    try:
        print(f"(c) incremental update, {INSTRUMENTS} instruments x {len(STANDARD)} maintained indicators "
              f"(standard set, defaults, 1m), plain mode; history = bars in total over the 100 instruments")
        c_small = _scenario(url, small, appends)
        c_large = _scenario(url, large, appends)
        ratio = c_large / c_small
        print(f"(c) c({small * INSTRUMENTS:,}) = {c_small * 1000:.0f} ms, c({large * INSTRUMENTS:,}) = "
              f"{c_large * 1000:.0f} ms, c(10M)/c(100k) = {ratio:.2f}  (target <= 1.2)")
        return ratio
    finally:
        with connect(database_url("postgres"), autocommit=True) as admin:
            admin.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--small", type=int, default=1_000, help="bars per instrument, small history")
    p.add_argument("--large", type=int, default=100_000, help="bars per instrument, large history")
    p.add_argument("--appends", type=int, default=5)
    args = p.parse_args(argv)
    run_incremental(None, args.small, args.large, args.appends)
    return 0


if __name__ == "__main__":
    sys.exit(main())
