"""Scorer benchmark (h): score 1M feature rows end to end — read them from the features mart
(binary COPY), predict_proba, COPY the class probabilities back into signals.model_scores — vs
the model's own predict_proba on the same rows already in memory plus a raw COPY of the same
score rows (pre-encoded). Target h = end-to-end / (predict_proba + raw COPY) <= 1.5.

    python bench/bench_scorer.py [--rows 1000000] [--instruments 20] [--repeat 2] [--mode postgresql|timescaledb]

Data: a scratch database (<database>_bench_scorer) migrated like the main one; the dbt marts are
built on no candles (`dbt run`: empty tables) and features.candle_features is filled server-side with
synthetic 1m bars (the benchmark is about scoring, not computing features); the model is a
histogram gradient boosting classifier (100 iterations) trained on 20k of those rows with a
label that depends on them. Both sides run --repeat times, the best kept (the machine may be
shared); the score table is emptied before every run. The database is dropped afterwards.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import psycopg  # noqa: E402
from psycopg import sql  # noqa: E402

from db.connection import connect, database_url  # noqa: E402
from db.dbt_runner import run_dbt  # noqa: E402
from db.migrate import migrate  # noqa: E402
from models_py import data, registry, scorer  # noqa: E402
from models_py.pipeline import MLPipeline  # noqa: E402

FEATURES = list(data.DEFAULT_FEATURES)


def setup(url: str, rows: int, instruments: int, run_dir: Path) -> list[int]:
    with connect(url, autocommit=True) as conn:
        ids = [conn.execute("select market.register_instrument('benchex', %s, p_candle_source => 'native')",
                            (f"B{i:03d}/USDT",)).fetchone()[0] for i in range(instruments)]
    proc = run_dbt(["run", "--select", "+candle_features", "+candle_labels"], url, run_dir=run_dir,
                   capture=True)
    if proc.returncode != 0:
        raise SystemExit(f"dbt run failed:\n{proc.stdout[-3000:]}")
    per = rows // instruments
    features = sql.SQL(", ").join(sql.Identifier(f) for f in FEATURES)
    # feature values: deterministic functions of the bar (sin/cos of its index), NULL in the first bars
    values = sql.SQL(", ").join(
        sql.SQL("case when g.n > 20 then sin(g.n * {a} + i.k) * {b} end").format(
            a=sql.Literal(0.001 * (j + 1)), b=sql.Literal(float(j + 1)))
        for j in range(len(FEATURES)))
    with connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("""
            insert into features.candle_features (instrument_id, timeframe, open_time, exchange, symbol, close,
                volume, gap_before, quarantined_rows, bar_seconds, {features})
            select i.instrument_id, '1m', timestamptz '2024-01-01' + g.n * interval '1 minute', i.exchange, i.symbol,
                   100, 1, false, 0, 60, {values}
            from (select instrument_id, exchange, symbol, row_number() over (order by instrument_id) as k
                  from market.instruments) as i
            cross join generate_series(0, %s - 1) as g (n)
        """).format(features=features, values=values), (per,))
        conn.execute("vacuum analyze features.candle_features")
    return ids


def train_model(url: str, ids: list[int], artifact_dir: Path) -> registry.ModelRecord:
    with connect(url) as conn:
        bars = data.read_features(conn, "1m", ids, FEATURES)
        rng = np.random.default_rng(1)
        sample = rng.choice(len(bars), 20_000, replace=False)
        X = bars.X[sample]
        y = np.where(np.nan_to_num(X[:, 0]) + 0.5 * np.nan_to_num(X[:, 1]) + rng.normal(0, 0.5, len(X)) > 0, 1, -1)
        pipe = MLPipeline("hist_gradient_boosting", {"max_iter": 100}, feature_names=FEATURES)
        pipe.fit(X, y, val_split=0.2, cv=None)
        record = registry.register(
            conn, pipe, name="bench_hgb", timeframe="1m", instrument_ids=ids,
            data_start=data.from_us(bars.open_time_us.min()), data_end=data.from_us(bars.open_time_us.max()),
            training_rows=len(X), label={"kind": "synthetic"}, artifact_dir=artifact_dir)
        conn.commit()
    return record


def empty_scores(url: str) -> None:
    with connect(url, autocommit=True) as conn:
        conn.execute("truncate signals.model_scores")
        conn.execute("checkpoint")


def end_to_end(url: str, record: registry.ModelRecord) -> tuple[float, scorer.ScoreResult]:
    empty_scores(url)
    started = time.perf_counter()
    with connect(url) as conn:
        result = scorer.score(conn, record.model_id)
        conn.commit()
    return time.perf_counter() - started, result


def baseline(url: str, record: registry.ModelRecord) -> tuple[float, float, int]:
    """(predict_proba seconds, raw COPY seconds, rows) on the same rows, already in memory."""
    with connect(url) as conn:
        bars = data.read_features(conn, "1m", record.instrument_ids, FEATURES)
    pipe = MLPipeline().load(record.artifact_path, record.artifact_sha256)
    started = time.perf_counter()
    proba = pipe.predict_proba(bars.X)
    predict = time.perf_counter() - started
    payload = scorer.score_rows(record.model_id, "1m", bars, proba, pipe.classes_)
    empty_scores(url)
    started = time.perf_counter()
    with connect(url) as conn:
        scorer.write_scores(conn, payload)
        conn.commit()
    return predict, time.perf_counter() - started, proba.size


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--instruments", type=int, default=20)
    p.add_argument("--repeat", type=int, default=2)
    p.add_argument("--mode", default="postgresql", choices=("postgresql", "timescaledb"))
    args = p.parse_args(argv)
    main_db = psycopg.conninfo.conninfo_to_dict(database_url()).get("dbname") or "tsquant"
    name = f"{main_db}_bench_scorer"
    url = database_url(name)
    admin_url = database_url("postgres")
    print(f"scorer (h): {args.rows:,} feature rows ({args.instruments} instruments, {len(FEATURES)} features), "
          f"hist_gradient_boosting, {args.mode} mode")
    with connect(admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
    try:
        with tempfile.TemporaryDirectory() as tmp:
            started = time.perf_counter()
            migrate(url, mode=args.mode, create_db=True, log=lambda _m: None)
            ids = setup(url, args.rows, args.instruments, Path(tmp))
            record = train_model(url, ids, Path(tmp) / "models")
            print(f"  setup {time.perf_counter() - started:.0f} s")
            e2e, parts = min((end_to_end(url, record) for _ in range(args.repeat)), key=lambda r: r[0])
            base = min((baseline(url, record) for _ in range(args.repeat)), key=lambda r: r[0] + r[1])
    finally:
        with connect(admin_url, autocommit=True) as admin:
            admin.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
    predict, raw_copy, rows = base
    s = parts.seconds
    print(f"  end to end: {e2e:.2f} s for {parts.bars:,} bars -> {parts.rows:,} score rows "
          f"(load {s['load']:.2f}, read {s['read']:.2f}, predict_proba {s['predict_proba']:.2f}, "
          f"encode {s['encode']:.2f}, delete {s['delete']:.2f}, copy {s['copy']:.2f}; rest: connect, commit)")
    print(f"  baseline:   predict_proba {predict:.2f} s + raw COPY of {rows:,} rows {raw_copy:.2f} s "
          f"= {predict + raw_copy:.2f} s")
    print(f"scorer h = end-to-end / (predict_proba + raw COPY) = {e2e / (predict + raw_copy):.2f}  (target <= 1.5)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
