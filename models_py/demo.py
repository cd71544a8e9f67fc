"""The scorer's part of `make demo`: train a model on the demo features, score the bars, build the
ML signals, flag anomalous bars; returns the lines to print. Self-contained: when the features
marts are missing or empty it maintains the feature indicators and builds them with dbt first.

    for line in run_demo(database_url()): print(line)
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from db.connection import connect
from db.dbt_runner import maintain_feature_indicators, run_dbt
from models_py import anomaly, scorer
from models_py.data import LabelSpec

HORIZON = 5
CANDIDATE_TIMEFRAMES = ("1m", "5m", "15m", "1h")
MIN_ROWS = 300


def _labelled_rows(conn) -> dict[str, int]:
    if conn.execute("select to_regclass('features.candle_labels') is null").fetchone()[0]:
        return {}
    rows = conn.execute(
        "select timeframe, count(*) from features.candle_labels where horizon_bars = %s and timeframe = any(%s)"
        " group by timeframe", (HORIZON, list(CANDIDATE_TIMEFRAMES))).fetchall()
    return dict(rows)


def _dbt(url: str, *args: str) -> None:
    proc = run_dbt(list(args), url, capture=True)
    if proc.returncode != 0:
        raise RuntimeError(f"dbt {' '.join(args)} failed:\n{proc.stdout[-3000:]}")


def run_demo(url: str, artifact_dir=None) -> list[str]:
    """Lines to print; the model file goes to artifact_dir (default data/models)."""
    return list(_run(url, artifact_dir))


def _run(url: str, artifact_dir) -> Iterator[str]:
    started = time.perf_counter()
    with connect(url, autocommit=True) as conn:
        counts = _labelled_rows(conn)
        if max(counts.values(), default=0) < MIN_ROWS:
            n = maintain_feature_indicators(conn)
            conn.execute("select count(*) from ta.refresh_indicators()")
            _dbt(url, "run", "--select", "+candle_features", "+candle_labels")
            counts = _labelled_rows(conn)
            yield f"features marts built ({n} feature indicator configurations maintained, dbt run)"
    if max(counts.values(), default=0) < MIN_ROWS:
        yield f"not enough labelled bars for a model (at most {max(counts.values(), default=0)}): scorer skipped"
        return
    timeframe = max(counts, key=lambda tf: (counts[tf] >= MIN_ROWS, -CANDIDATE_TIMEFRAMES.index(tf)))
    name = f"demo_hgb_{timeframe}"
    with connect(url) as conn:
        record = scorer.train(conn, scorer.TrainRequest(
            name=name, model_type="hist_gradient_boosting", timeframe=timeframe, label=LabelSpec(HORIZON),
            params={"max_iter": 60}, cv=3, val_split=0.2, signal_threshold=0.55, artifact_dir=artifact_dir))
        result = scorer.score(conn, record.model_id)
        flags = anomaly.detect(conn, timeframe, contamination=0.01, n_estimators=100)
        conn.commit()
    hold, cv = record.metrics["holdout"], record.metrics["cv"]
    yield (f"trained {record.ref} ({record.model_type}) on {record.training_rows} {timeframe} bars of "
           f"{len(record.instrument_ids)} instruments, label: direction {HORIZON} bars ahead; classes {record.classes}")
    yield (f"  time-ordered hold-out accuracy {hold['accuracy']:.3f} (always-majority {hold['majority_accuracy']:.3f}), "
           f"log loss {hold['log_loss']:.3f}; walk-forward CV ({len(cv['folds'])} folds, gap {HORIZON} bars) "
           f"mean accuracy {cv['mean_accuracy']:.3f}")
    yield f"  registry: model_id {record.model_id}, artifact {record.artifact_format} sha256 {record.artifact_sha256[:16]}…"
    yield (f"scored {result.bars} bars -> {result.rows} rows in signals.model_scores "
           f"({result.replaced} replaced) in {sum(result.seconds.values()):.2f} s")
    _dbt(url, "run", "--select", "ml_signals", "trading_signals")
    with connect(url) as conn:
        signals = conn.execute(
            "select direction, count(*), round(avg(confidence)::numeric, 3) from bi.trading_signals"
            " where signal_type = 'ml' and signal_source = %s group by direction order by direction",
            (name,)).fetchall()
        examples = conn.execute(
            "select a.exchange, a.symbol, a.open_time, round(a.anomaly_score::numeric, 3) from bi.bar_anomalies as a"
            " where a.run_id = %s and a.is_anomaly order by a.anomaly_score desc limit 3", (flags.run_id,)).fetchall()
    shown = ", ".join(f"{d} {n} (mean confidence {c})" for d, n, c in signals) or "none above the threshold"
    yield f"ML trading signals (bi.trading_signals, signal_type ml, threshold 0.55): {shown}"
    yield (f"anomalies (Isolation Forest, contamination 1%): {flags.anomalies} of {flags.bars} {timeframe} bars "
           f"flagged, e.g. " + "; ".join(f"{e}:{s} {t:%Y-%m-%d %H:%M} score {sc}" for e, s, t, sc in examples))
    yield f"scorer demo took {time.perf_counter() - started:.1f} s"
