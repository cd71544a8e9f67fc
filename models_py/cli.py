"""`python -m models_py <command>`: the scorer's commands (docs/scorer-and-dispatch.md).

    python -m models_py train   --name hgb_1h --model hist_gradient_boosting --timeframe 1h \\
                                [--instrument binance:BTC/USDT ...] [--start 2024-01-01] [--end 2024-06-01] \\
                                [--horizon 5] [--features ret_1,rsi_14,...] [--param max_iter=300 ...] \\
                                [--tune max_leaf_nodes=15,31] [--cv 3] [--val-split 0.2] [--threshold 0.6] \\
                                [--snapshot | --dataset data/features/X.manifest.json]
    python -m models_py score   --model hgb_1h[@VERSION] [--instrument ...] [--start ...] [--end ...]
    python -m models_py anomaly --timeframe 1h [--instrument ...] [--contamination 0.01|auto] [--start/--end]
    python -m models_py export  --timeframe 1h [--instrument ...] --start ... --end ... [--horizon 5] [--out DIR]
    python -m models_py models  (the registry)

Exit codes: 0 done; 1 the run failed (e.g. an artifact whose sha256 is not the registered one);
2 a usage or configuration error (unknown instrument, feature or model, empty window, missing
optional package). Errors are one sentence on stderr (db.errors.run_main).
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
from collections.abc import Callable
from typing import Any

from db.connection import connect
from db.errors import UserError, run_main
from models_py.data import LabelSpec, parse_time
from models_py.pipeline import MODEL_TYPES


class UsageError(UserError):
    """A command-line value that is not one."""


def _value(text: str) -> Any:
    """A parameter value: a Python literal (3, 0.1, None, (64, 32), 'sqrt') or else the text."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def parse_params(items: list[str] | None) -> dict[str, Any]:
    out = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise UsageError(f"--param {item!r}: expected NAME=VALUE (e.g. max_iter=300)")
        out[name.strip()] = _value(value.strip())
    return out


def parse_grid(items: list[str] | None) -> dict[str, list[Any]]:
    out = {}
    for item in items or []:
        name, sep, values = item.partition("=")
        if not sep or not name or not values:
            raise UsageError(f"--tune {item!r}: expected NAME=V1,V2,... (e.g. max_leaf_nodes=15,31)")
        out[name.strip()] = [_value(v.strip()) for v in values.split(",")]
    return out


def _features(text: str | None) -> list[str] | None:
    return [f.strip() for f in text.split(",") if f.strip()] if text else None


def _window(p: argparse.ArgumentParser) -> None:
    p.add_argument("--instrument", action="append", metavar="EXCHANGE:SYMBOL",
                   help="instrument (repeatable; default: every instrument with features in the timeframe)")
    p.add_argument("--start", help="first bar (open time, UTC), e.g. 2024-01-01")
    p.add_argument("--end", help="end of the window, UTC (training: every label known by then)")


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--url", help="database URL (default: DATABASE_URL or the embedded database)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m models_py", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("train", help="train a model on the features marts and register it")
    _common(p)
    p.add_argument("--name", required=True, help="model name (lower case): the signal_source of its signals")
    p.add_argument("--model", default="hist_gradient_boosting", choices=MODEL_TYPES, help="estimator")
    p.add_argument("--timeframe", default="1h")
    _window(p)
    p.add_argument("--horizon", type=int, default=5, help="label horizon in bars (dbt var label_horizons)")
    p.add_argument("--min-abs-return", type=float, default=0.0,
                   help="forward returns within ±this are class 0 (flat); default 0")
    p.add_argument("--features", help="comma-separated feature columns (default: the scale-free set)")
    p.add_argument("--param", action="append", metavar="NAME=VALUE", help="estimator parameter (repeatable)")
    p.add_argument("--tune", action="append", metavar="NAME=V1,V2", help="grid-search a parameter (repeatable)")
    p.add_argument("--cv", type=int, default=3, help="walk-forward folds (0: none)")
    p.add_argument("--val-split", type=float, default=0.2, help="share of the last bars held out")
    p.add_argument("--random-state", type=int, default=0)
    p.add_argument("--threshold", type=float, help="signal threshold of this model (default: dbt var)")
    p.add_argument("--snapshot", action="store_true", help="export the training data to data/features first")
    p.add_argument("--snapshot-dir", help="folder of that snapshot (default: data/features)")
    p.add_argument("--dataset", help="train from a snapshot (manifest or Parquet path) instead of the marts")
    p.add_argument("--artifacts", help="folder for the model file (default: data/models)")

    p = sub.add_parser("score", help="score bars with a registered model and COPY the scores back")
    _common(p)
    p.add_argument("--model", required=True, help="model id, name (newest version) or name@version")
    _window(p)

    p = sub.add_parser("anomaly", help="Isolation Forest anomaly scores and flags per bar")
    _common(p)
    p.add_argument("--timeframe", default="1h")
    _window(p)
    p.add_argument("--features", help="comma-separated feature columns (default: returns, range, body, volume)")
    p.add_argument("--contamination", default="0.01", help="expected share of anomalies in (0, 0.5], or auto")
    p.add_argument("--n-estimators", type=int, default=200)
    p.add_argument("--random-state", type=int, default=0)

    p = sub.add_parser("export", help="write a feature/label snapshot (Parquet + manifest) to data/features")
    _common(p)
    p.add_argument("--timeframe", default="1h")
    _window(p)
    p.add_argument("--horizon", type=int, default=5)
    p.add_argument("--min-abs-return", type=float, default=0.0)
    p.add_argument("--features", help="comma-separated feature columns (default: the scale-free set)")
    p.add_argument("--out", help="folder (default: data/features)")

    p = sub.add_parser("models", help="list the model registry")
    _common(p)
    return parser


def cmd_train(args: argparse.Namespace) -> int:
    from models_py import scorer

    if args.horizon < 1:
        raise UsageError("--horizon must be at least 1 bar")
    req = scorer.TrainRequest(
        name=args.name, model_type=args.model, timeframe=args.timeframe, instruments=args.instrument,
        start=parse_time(args.start), end=parse_time(args.end), features=_features(args.features),
        label=LabelSpec(args.horizon, args.min_abs_return), params=parse_params(args.param),
        tune_grid=parse_grid(args.tune), val_split=args.val_split, cv=args.cv, random_state=args.random_state,
        signal_threshold=args.threshold, snapshot=args.snapshot, snapshot_dir=args.snapshot_dir, dataset=args.dataset,
        artifact_dir=args.artifacts,
    )
    with connect(args.url) as conn:
        record = scorer.train(conn, req)
        conn.commit()
    print(format_training(record))
    return 0


def format_training(record) -> str:
    m = record.metrics
    hold = m.get("holdout", {})
    cv = m.get("cv", {})
    parts = [f"model {record.ref} (id {record.model_id}, {record.model_type}, {record.timeframe}):",
             f"{record.training_rows} bars {record.data_start:%Y-%m-%d %H:%M} .. {record.data_end:%Y-%m-%d %H:%M} UTC,",
             f"{len(record.features)} features, classes {record.classes};"]
    if hold:
        auc = f", roc auc {hold['roc_auc']:.3f}" if hold.get("roc_auc") is not None else ""
        parts.append(f"hold-out accuracy {hold['accuracy']:.3f} (majority {hold['majority_accuracy']:.3f}), "
                     f"log loss {hold['log_loss']:.3f}{auc};")
    if cv:
        parts.append(f"walk-forward CV ({len(cv['folds'])} folds) mean accuracy {cv['mean_accuracy']:.3f};")
    if "tuning" in m:
        parts.append(f"tuned {json.dumps(m['tuning']['best_params'])};")
    parts.append(f"artifact {record.artifact_path} sha256 {record.artifact_sha256[:12]}…")
    if record.dataset_sha256:
        parts.append(f"(dataset sha256 {record.dataset_sha256[:12]}…)")
    return " ".join(parts)


def cmd_score(args: argparse.Namespace) -> int:
    from models_py import scorer

    with connect(args.url) as conn:
        result = scorer.score(conn, args.model, instruments=args.instrument, start=parse_time(args.start),
                              end=parse_time(args.end))
        conn.commit()
    if not result.bars:
        print(f"model {result.model.ref}: no {result.model.timeframe} bars in the window; nothing scored")
        return 0
    print(f"model {result.model.ref}: {result.bars} bars {result.first_bar:%Y-%m-%d %H:%M} .. "
          f"{result.last_bar:%Y-%m-%d %H:%M} UTC scored, {result.rows} score rows written "
          f"({result.replaced} replaced) in {sum(result.seconds.values()):.2f} s")
    return 0


def cmd_anomaly(args: argparse.Namespace) -> int:
    from models_py import anomaly

    text = args.contamination.strip().lower()
    try:
        contamination = None if text == "auto" else float(text)
    except ValueError:
        raise UsageError(f"--contamination {args.contamination!r}: a number in (0, 0.5] or auto") from None
    with connect(args.url) as conn:
        result = anomaly.detect(conn, args.timeframe, instruments=args.instrument, start=parse_time(args.start),
                                end=parse_time(args.end), features=_features(args.features),
                                contamination=contamination, n_estimators=args.n_estimators,
                                random_state=args.random_state)
        conn.commit()
    print(f"anomaly run {result.run_id}: {result.bars} {args.timeframe} bars scored, {result.anomalies} flagged "
          f"(contamination {result.contamination if result.contamination is not None else 'auto'}); "
          f"{result.skipped} bars without every feature skipped; see bi.bar_anomalies")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from models_py import data, datasets

    with connect(args.url) as conn:
        features = data.check_features(conn, _features(args.features))
        ids = data.resolve_instruments(conn, args.instrument, args.timeframe)
        snap = datasets.export(conn, datasets.DatasetRequest(
            args.timeframe, ids, parse_time(args.start), parse_time(args.end), features,
            LabelSpec(args.horizon, args.min_abs_return)), args.out)
    dvc = f", {snap.dvc_file}" if snap.dvc_file else " (dvc not installed: no .dvc file)"
    print(f"{snap.rows} rows -> {snap.path} sha256 {snap.sha256}; manifest {snap.manifest_path}{dvc}")
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    from models_py import registry

    with connect(args.url) as conn:
        records = registry.list_models(conn)
    if not records:
        print("no models registered (python -m models_py train …)")
    for r in records:
        acc = r.metrics.get("holdout", {}).get("accuracy")
        print(f"{r.model_id:>4} {r.ref:<24} {r.model_type:<24} {r.timeframe:<4} {r.training_rows:>8} bars "
              f"{r.data_start:%Y-%m-%d}..{r.data_end:%Y-%m-%d} hold-out acc {acc if acc is None else round(acc, 3)} "
              f"{r.artifact_sha256[:12]}")
    return 0


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "train": cmd_train, "score": cmd_score, "anomaly": cmd_anomaly, "export": cmd_export, "models": cmd_models,
}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return COMMANDS[args.command](args)


if __name__ == "__main__":
    sys.exit(run_main(main))
