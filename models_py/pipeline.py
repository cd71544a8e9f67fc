"""MLPipeline (seed 001's API): fit / tune / predict / predict_proba / save / load / explain over
time-ordered data, for scikit-learn models (random forest, histogram gradient boosting, a small
MLP), XGBoost when installed, and PyTorch sequence models (LSTM, CNN1D, Transformer on
`[n, seq, features]`) when torch is installed (models_py/sequence.py).

    pipe = MLPipeline("random_forest", label_horizon=5)
    metrics = pipe.fit(X, y, val_split=0.2, cv=3, times=bar_times)
    proba = pipe.predict_proba(X_new)            # columns in pipe.classes_ order
    sha = pipe.save("data/models/rf.skops")      # sha256 of the file
    MLPipeline().load("data/models/rf.skops", expected_sha256=sha)

Validation is time-ordered only: the hold-out is the last `val_split` of the bars, the
walk-forward CV folds are expanding windows, and between every training set and the bars it is
judged on lies a gap of `label_horizon` bars, so no training label reaches into the judged
bars. With `times` (the bar time of each row) rows of several instruments are split by time,
never one instrument's bar on both sides. After validation the model is refitted on every row.

Artifacts: skops for scikit-learn models (loading runs no code; only scikit-learn and numpy types
are trusted), pickle only for XGBoost (a trusted file from this machine), torch state dicts for
sequence models. `load(path, expected_sha256)` refuses a file whose sha256 differs.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import pickle
import platform
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from db.errors import EXIT_FAILED, UserError

TABULAR_TYPES = ("random_forest", "hist_gradient_boosting", "xgboost", "mlp")
SEQUENCE_TYPES = ("lstm", "cnn1d", "transformer")
MODEL_TYPES = TABULAR_TYPES + SEQUENCE_TYPES
ARTIFACT_FORMATS = {"skops": ".skops", "pickle": ".pkl", "torch": ".pt"}
TRUSTED_MODULES = ("sklearn.", "numpy.")
TORCH_INSTALL = "pip install -r requirements-torch.txt (the CPU build of torch)"

DEFAULT_PARAMS: dict[str, dict[str, Any]] = {
    "random_forest": {"n_estimators": 200, "min_samples_leaf": 20, "max_features": "sqrt"},
    "hist_gradient_boosting": {"max_iter": 200, "learning_rate": 0.05, "max_leaf_nodes": 31,
                               "l2_regularization": 1.0, "early_stopping": False},
    "xgboost": {"n_estimators": 200, "learning_rate": 0.05, "max_depth": 4, "subsample": 0.8,
                "tree_method": "hist", "n_jobs": 2},
    "mlp": {"hidden_layer_sizes": (32, 16), "alpha": 1e-2, "max_iter": 200, "early_stopping": False},
}


class ModelError(UserError):
    """A model request the user can fix (unknown type, missing optional package, bad data)."""


class ArtifactError(UserError):
    """An artifact that must not be loaded (hash differs, untrusted content, unreadable)."""

    exit_code = EXIT_FAILED


def installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def sha256_file(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def library_versions() -> dict[str, str]:
    """Versions that decide whether an artifact can be read back (saved in the registry)."""
    import sklearn

    versions = {"python": platform.python_version(), "numpy": np.__version__, "scikit-learn": sklearn.__version__}
    for name in ("skops", "xgboost", "torch", "shap"):
        if installed(name):
            versions[name] = __import__(name).__version__
    return versions


# -- time-ordered splits ---------------------------------------------------------------------------

def _bar_index(n: int, times: Sequence | np.ndarray | None) -> tuple[np.ndarray, int]:
    """Each row's position on the time axis (0..k-1) and k. Without times every row is one bar."""
    if times is None:
        return np.arange(n), n
    t = np.asarray(times)
    if len(t) != n:
        raise ModelError(f"times has {len(t)} values for {n} rows")
    distinct, position = np.unique(t, return_inverse=True)
    return position.reshape(-1), len(distinct)


def holdout_split(n: int, val_split: float, gap: int, times=None) -> tuple[np.ndarray, np.ndarray]:
    """Rows of the training part and of the hold-out (the last val_split of the bars), with `gap`
    bars left out between them."""
    if not 0 < val_split < 1:
        raise ModelError(f"val_split must be between 0 and 1 (got {val_split})")
    position, bars = _bar_index(n, times)
    val_bars = max(1, int(round(bars * val_split)))
    train_end = bars - val_bars - gap
    if train_end < 2:
        raise ModelError(f"too few bars ({bars}) for a hold-out of {val_split:.0%} after a gap of {gap} bars")
    return np.flatnonzero(position < train_end), np.flatnonzero(position >= bars - val_bars)


def walk_forward_splits(n: int, n_splits: int, gap: int, times=None) -> list[tuple[np.ndarray, np.ndarray]]:
    """scikit-learn's TimeSeriesSplit(n_splits, gap) over the bars (expanding training windows,
    `gap` bars between training and test), mapped to rows."""
    from sklearn.model_selection import TimeSeriesSplit

    position, bars = _bar_index(n, times)
    if n_splits < 2:
        raise ModelError(f"cv needs at least 2 folds (got {n_splits})")
    if bars < (n_splits + 1) + gap + 1:
        raise ModelError(f"too few bars ({bars}) for {n_splits} walk-forward folds with a gap of {gap} bars")
    splits = []
    for train_bars, test_bars in TimeSeriesSplit(n_splits=n_splits, gap=gap).split(np.arange(bars)):
        splits.append((np.flatnonzero(position <= train_bars[-1]),
                       np.flatnonzero((position >= test_bars[0]) & (position <= test_bars[-1]))))
    return splits


# -- metrics ---------------------------------------------------------------------------------------

def classification_metrics(y_true: np.ndarray, proba: np.ndarray, classes: np.ndarray) -> dict[str, Any]:
    """Accuracy, balanced accuracy, log loss, ROC AUC (binary, or one-vs-rest macro when every class
    occurs) and the accuracy of always answering the most frequent class."""
    from sklearn.metrics import accuracy_score, balanced_accuracy_score, log_loss, roc_auc_score

    pred = classes[np.argmax(proba, axis=1)]
    values, counts = np.unique(y_true, return_counts=True)
    out: dict[str, Any] = {
        "rows": int(len(y_true)),
        "accuracy": float(accuracy_score(y_true, pred)),
        "balanced_accuracy": float(balanced_accuracy_score(y_true, pred)) if len(values) > 1 else None,
        "log_loss": float(log_loss(y_true, proba, labels=classes)),
        "majority_accuracy": float(counts.max() / counts.sum()),
        "class_share": {str(int(v)): float(c / counts.sum()) for v, c in zip(values, counts)},
    }
    out["roc_auc"] = None
    if len(values) == len(classes) and len(classes) == 2:
        out["roc_auc"] = float(roc_auc_score(y_true == classes[1], proba[:, 1]))
    elif len(values) == len(classes):
        out["roc_auc"] = float(roc_auc_score(y_true, proba, multi_class="ovr", labels=classes))
    return out


# -- estimators ------------------------------------------------------------------------------------

def make_estimator(model_type: str, params: Mapping[str, Any], random_state: int):
    """A fresh unfitted scikit-learn-compatible estimator for a tabular model type."""
    if model_type == "random_forest":
        from sklearn.ensemble import RandomForestClassifier

        return RandomForestClassifier(random_state=random_state, **params)
    if model_type == "hist_gradient_boosting":
        from sklearn.ensemble import HistGradientBoostingClassifier

        return HistGradientBoostingClassifier(random_state=random_state, **params)
    if model_type == "xgboost":
        if not installed("xgboost"):
            raise ModelError("model type xgboost needs the xgboost package (pip install xgboost)")
        from xgboost import XGBClassifier

        return XGBClassifier(random_state=random_state, **params)
    if model_type == "mlp":
        from sklearn.impute import SimpleImputer
        from sklearn.neural_network import MLPClassifier
        from sklearn.pipeline import Pipeline
        from sklearn.preprocessing import StandardScaler

        return Pipeline([
            ("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
            ("scale", StandardScaler()),
            ("mlp", MLPClassifier(random_state=random_state, **params)),
        ])
    raise ModelError(f"unknown model type {model_type!r}: choose one of {', '.join(MODEL_TYPES)}")


def _param_key(model_type: str, name: str) -> str:
    """The estimator parameter a user names: MLP parameters sit on the pipeline's mlp step."""
    return f"mlp__{name}" if model_type == "mlp" and "__" not in name else name


class MLPipeline:
    """Train, validate, tune, apply, save, load and explain one classifier (module docstring)."""

    def __init__(self, model_type: str = "random_forest", params: Mapping[str, Any] | None = None, *,
                 label_horizon: int = 1, random_state: int = 0, feature_names: Sequence[str] | None = None):
        if model_type not in MODEL_TYPES:
            raise ModelError(f"unknown model type {model_type!r}: choose one of {', '.join(MODEL_TYPES)}")
        if label_horizon < 1:
            raise ModelError(f"label_horizon must be at least 1 bar (got {label_horizon})")
        self.model_type = model_type
        self.params = {**DEFAULT_PARAMS.get(model_type, {}), **dict(params or {})}
        self.label_horizon = int(label_horizon)
        self.random_state = int(random_state)
        self.feature_names = list(feature_names) if feature_names is not None else None
        self.classes_: np.ndarray | None = None
        self.model = None
        self.metrics: dict[str, Any] = {}

    # -- data --------------------------------------------------------------------------------------

    @property
    def is_sequence(self) -> bool:
        return self.model_type in SEQUENCE_TYPES

    def _matrix(self, X) -> np.ndarray:
        """X as a float array; a DataFrame is put in feature_names order (and sets it when unset)."""
        if hasattr(X, "columns"):
            if self.feature_names is None:
                self.feature_names = [str(c) for c in X.columns]
            missing = [c for c in self.feature_names if c not in X.columns]
            if missing:
                raise ModelError(f"the data has no column {missing[0]!r} the model needs")
            X = X[self.feature_names].to_numpy(dtype=float)
        arr = np.asarray(X, dtype=float)
        want = 3 if self.is_sequence else 2
        if arr.ndim != want:
            shape = "[n, seq, features]" if self.is_sequence else "[n, features]"
            raise ModelError(f"{self.model_type} takes X of shape {shape} (got {arr.ndim} dimensions)")
        if self.feature_names is not None and arr.shape[-1] != len(self.feature_names):
            raise ModelError(f"X has {arr.shape[-1]} features, the model {len(self.feature_names)}")
        return arr

    def _encode(self, y) -> np.ndarray:
        """Class labels as positions in classes_ (every estimator sees 0..k-1)."""
        y = np.asarray(y)
        idx = np.searchsorted(self.classes_, y)
        idx = np.clip(idx, 0, len(self.classes_) - 1)
        if not (self.classes_[idx] == y).all():
            raise ModelError("y has a class the model was not trained on")
        return idx

    def _new_model(self, params: Mapping[str, Any] | None = None):
        params = self.params if params is None else params
        if self.is_sequence:
            from models_py import sequence

            return sequence.SequenceClassifier(self.model_type, n_classes=len(self.classes_),
                                               random_state=self.random_state, **params)
        return make_estimator(self.model_type, dict(params), self.random_state)

    def _fit_model(self, X: np.ndarray, y_idx: np.ndarray, params=None):
        model = self._new_model(params)
        model.fit(X, y_idx)
        return model

    @staticmethod
    def _proba(model, X: np.ndarray, k: int) -> np.ndarray:
        """Probabilities of all k classes, also when a training fold lacked one."""
        p = model.predict_proba(X)
        seen = np.asarray(getattr(model, "classes_", np.arange(p.shape[1]))).astype(int)
        if p.shape[1] == k and (seen == np.arange(k)).all():
            return p
        full = np.zeros((len(X), k))
        full[:, seen] = p
        return full

    # -- the seed's API ----------------------------------------------------------------------------

    def fit(self, X, y, val_split: float = 0.2, cv: int | None = 3, *, times=None,
            refit: bool = True) -> dict[str, Any]:
        """Time-ordered hold-out metrics (the last val_split of the bars) and walk-forward CV on the
        bars before it (cv folds; None or 0: none), then the model refitted on every row (refit)."""
        X = self._matrix(X)
        y = np.asarray(y)
        if len(X) != len(y):
            raise ModelError(f"X has {len(X)} rows and y {len(y)}")
        self.classes_ = np.unique(y)
        if len(self.classes_) < 2:
            raise ModelError("y has a single class: nothing to learn")
        y_idx = self._encode(y)
        k = len(self.classes_)
        metrics: dict[str, Any] = {"validation": "time-ordered", "gap_bars": self.label_horizon}
        if val_split:
            train, val = holdout_split(len(X), val_split, self.label_horizon, times)
            model = self._fit_model(X[train], y_idx[train])
            metrics["holdout"] = classification_metrics(y[val], self._proba(model, X[val], k), self.classes_)
            metrics["holdout"]["train_rows"] = int(len(train))
            before = train
        else:
            before = np.arange(len(X))
            model = None
        if cv:
            sub_times = None if times is None else np.asarray(times)[before]
            folds = []
            for tr, te in walk_forward_splits(len(before), int(cv), self.label_horizon, sub_times):
                tr, te = before[tr], before[te]
                m = self._fit_model(X[tr], y_idx[tr])
                fold = classification_metrics(y[te], self._proba(m, X[te], k), self.classes_)
                fold["train_rows"] = int(len(tr))
                folds.append(fold)
            metrics["cv"] = {
                "folds": folds,
                "mean_accuracy": float(np.mean([f["accuracy"] for f in folds])),
                "mean_log_loss": float(np.mean([f["log_loss"] for f in folds])),
            }
        self.model = self._fit_model(X, y_idx) if refit or model is None else model
        metrics["train_rows"] = int(len(X))
        self.metrics = metrics
        return metrics

    def tune(self, X, y, param_grid: Mapping[str, Sequence[Any]], cv: int = 3, *, times=None,
             scoring: str = "neg_log_loss") -> dict[str, Any]:
        """Grid search over param_grid with walk-forward folds (gap = label horizon); the best
        parameters become the pipeline's, and the model is refitted on every row. Returns the best
        parameters, their mean CV score and every candidate's."""
        if self.is_sequence:
            raise ModelError("tune is for the scikit-learn models; choose sequence-model parameters by hand")
        from sklearn.model_selection import GridSearchCV

        X = self._matrix(X)
        y = np.asarray(y)
        self.classes_ = np.unique(y)
        if len(self.classes_) < 2:
            raise ModelError("y has a single class: nothing to learn")
        y_idx = self._encode(y)
        grid = {_param_key(self.model_type, name): list(values) for name, values in param_grid.items()}
        search = GridSearchCV(self._new_model(), grid, scoring=scoring, refit=True, error_score="raise",
                              cv=walk_forward_splits(len(X), int(cv), self.label_horizon, times))
        try:
            search.fit(X, y_idx)
        except ValueError as exc:
            raise ModelError(f"tuning failed: {exc}") from None
        best = {name.removeprefix("mlp__"): value for name, value in search.best_params_.items()}
        self.params = {**self.params, **best}
        self.model = search.best_estimator_
        result = {
            "best_params": best,
            "best_score": float(search.best_score_),
            "scoring": scoring,
            "candidates": [
                {"params": {k.removeprefix("mlp__"): v for k, v in p.items()}, "mean_score": float(s)}
                for p, s in zip(search.cv_results_["params"], search.cv_results_["mean_test_score"])
            ],
        }
        self.metrics = {**self.metrics, "tuning": result}
        return result

    def _fitted(self):
        if self.model is None:
            raise ModelError("the model is not trained: call fit (or load) first")
        return self.model

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities, one column per class in classes_ order."""
        model = self._fitted()
        return self._proba(model, self._matrix(X), len(self.classes_))

    def predict(self, X) -> np.ndarray:
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    # -- persistence -------------------------------------------------------------------------------

    @property
    def artifact_format(self) -> str:
        if self.is_sequence:
            return "torch"
        return "pickle" if self.model_type == "xgboost" else "skops"

    def _meta(self) -> dict[str, Any]:
        return {
            "model_type": self.model_type,
            "params": json.loads(json.dumps(self.params, default=_jsonable)),
            "label_horizon": self.label_horizon,
            "random_state": self.random_state,
            "feature_names": self.feature_names,
            "classes": [int(c) for c in self.classes_],
            "library_versions": library_versions(),
        }

    def save(self, path: str | Path) -> str:
        """Write the model to `path` (skops, pickle for XGBoost, torch for sequence models) and
        return the file's sha256."""
        model = self._fitted()
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        meta = self._meta()
        tmp = path.with_name(path.name + ".tmp")
        if self.artifact_format == "skops":
            import skops.io as sio

            sio.dump({"format": "tsquant-mlpipeline-1", "meta": json.dumps(meta), "model": model}, tmp)
        elif self.artifact_format == "pickle":
            with open(tmp, "wb") as fh:
                pickle.dump({"format": "tsquant-mlpipeline-1", "meta": json.dumps(meta), "model": model}, fh,
                            protocol=5)
        else:
            model.save(tmp, meta)
        tmp.replace(path)
        return sha256_file(path)

    def load(self, path: str | Path, expected_sha256: str | None = None) -> MLPipeline:
        """Read a saved model. With expected_sha256 (the registry's), a file whose hash differs is
        refused before anything in it is read."""
        path = Path(path)
        if not path.is_file():
            raise ArtifactError(f"model artifact {path} does not exist")
        if expected_sha256 is not None:
            actual = sha256_file(path)
            if actual != expected_sha256:
                raise ArtifactError(
                    f"model artifact {path} has sha256 {actual[:12]}…, the registry says {expected_sha256[:12]}…: "
                    "refusing to load a file that changed since training")
        fmt = {".skops": "skops", ".pkl": "pickle", ".pt": "torch"}.get(path.suffix)
        if fmt == "skops":
            import skops.io as sio

            try:
                untrusted = sio.get_untrusted_types(file=path)
            except Exception as exc:  # noqa: BLE001 - any parse failure means "not a readable artifact"
                raise ArtifactError(f"model artifact {path} is not a readable skops file ({type(exc).__name__})") \
                    from None
            foreign = [t for t in untrusted if not t.startswith(TRUSTED_MODULES)]
            if foreign:
                raise ArtifactError(f"model artifact {path} holds types that are not trusted: {', '.join(foreign)}")
            meta, model = _unpack(sio.load(path, trusted=untrusted), path)
        elif fmt == "pickle":
            with open(path, "rb") as fh:
                blob = pickle.load(fh)  # noqa: S301 - XGBoost only, hash-checked against the registry
            meta, model = _unpack(blob, path)
        elif fmt == "torch":
            from models_py import sequence

            model, meta = sequence.SequenceClassifier.load(path)
        else:
            raise ArtifactError(f"model artifact {path}: unknown file type (expected .skops, .pkl or .pt)")
        self.model_type = meta["model_type"]
        self.params = meta["params"]
        self.label_horizon = meta["label_horizon"]
        self.random_state = meta["random_state"]
        self.feature_names = meta["feature_names"]
        self.classes_ = np.asarray(meta["classes"])
        self.model = model
        return self

    # -- explanations ------------------------------------------------------------------------------

    def explain(self, X, y=None, method: str = "auto", *, n_repeats: int = 5,
                max_rows: int = 2000) -> dict[str, Any]:
        """Feature importance on (held-out) data: permutation importance (needs y; always, unless
        method='shap') and mean |SHAP value| per feature when shap is installed (method 'auto' or
        'shap'). Returns {"permutation": {feature: {"mean", "std"}}, "shap": {feature: value}}."""
        if method not in ("auto", "permutation", "shap"):
            raise ModelError(f"unknown explain method {method!r}: auto, permutation or shap")
        model = self._fitted()
        X = self._matrix(X)[:max_rows]
        names = self.feature_names or [f"x{i}" for i in range(X.shape[-1])]
        out: dict[str, Any] = {}
        if method in ("auto", "permutation"):
            if y is None:
                raise ModelError("permutation importance needs the true labels y")
            from sklearn.inspection import permutation_importance

            if self.is_sequence:
                raise ModelError("permutation importance is for the tabular models")
            result = permutation_importance(model, X, self._encode(np.asarray(y)[:max_rows]),
                                            n_repeats=n_repeats, random_state=self.random_state,
                                            scoring="neg_log_loss")
            out["permutation"] = {name: {"mean": float(m), "std": float(s)}
                                  for name, m, s in zip(names, result.importances_mean, result.importances_std)}
        if method == "shap" and not installed("shap"):
            raise ModelError("explain(method='shap') needs the shap package (pip install shap)")
        if method in ("auto", "shap") and installed("shap"):
            import shap

            explainer = shap.Explainer(lambda a: self._proba(model, a, len(self.classes_)), X[:200])
            values = np.abs(np.asarray(explainer(X[:200]).values))
            per_feature = values.mean(axis=tuple(i for i in range(values.ndim) if i != 1))
            out["shap"] = {name: float(v) for name, v in zip(names, per_feature)}
        return out


META_KEYS = {"model_type", "params", "label_horizon", "random_state", "feature_names", "classes"}


def _unpack(blob: Any, path: Path) -> tuple[dict[str, Any], Any]:
    """(metadata, model) of a loaded artifact written by MLPipeline.save."""
    try:
        meta = json.loads(blob["meta"]) if blob.get("format") == "tsquant-mlpipeline-1" else None
    except (AttributeError, TypeError, ValueError):
        meta = None
    if not isinstance(meta, dict) or not META_KEYS <= meta.keys() or meta["model_type"] not in MODEL_TYPES:
        raise ArtifactError(f"model artifact {path} was not written by MLPipeline.save")
    return meta, blob["model"]


def _jsonable(value: Any) -> Any:
    if isinstance(value, (np.integer, np.floating)):
        return value.item()
    if isinstance(value, tuple):
        return list(value)
    return str(value)

