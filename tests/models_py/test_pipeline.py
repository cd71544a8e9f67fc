"""MLPipeline without a database: the time-ordered splits (scikit-learn's documented
TimeSeriesSplit example, panel rows split by time), metrics and tuning against scikit-learn run
directly, save/load round trips for every scikit-learn model, the artifact checks (hash,
untrusted types), explanations, and the clear errors."""

from __future__ import annotations

import numpy as np
import pytest

from models_py import pipeline as pl
from models_py.pipeline import ArtifactError, MLPipeline, ModelError


class Foreign:
    """A class a skops file could name: loading must not construct it."""


def synthetic(n: int = 1500, seed: int = 0):
    """y depends on feature 0 (and a little on 1); features 2 and 3 are noise; some NaNs."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    y = np.where(X[:, 0] + 0.3 * X[:, 1] + 0.4 * rng.normal(size=n) > 0, 1, -1)
    X[::37, 2] = np.nan
    return X, y


def test_walk_forward_splits_are_scikit_learns_time_series_split_with_the_gap():
    # REFERENCE-2.md §6: n=12, n_splits=3, gap=2, test size 2 -> [0..3]/[6,7], [0..5]/[8,9], [0..7]/[10,11]
    from sklearn.model_selection import TimeSeriesSplit

    want = [(tr.tolist(), te.tolist()) for tr, te in TimeSeriesSplit(n_splits=3, gap=2, test_size=2).split(range(12))]
    assert want == [([0, 1, 2, 3], [6, 7]), ([0, 1, 2, 3, 4, 5], [8, 9]), ([0, 1, 2, 3, 4, 5, 6, 7], [10, 11])]
    got = pl.walk_forward_splits(20, 3, 2)
    for (tr, te), (wtr, wte) in zip(got, TimeSeriesSplit(n_splits=3, gap=2).split(range(20))):
        assert tr.tolist() == wtr.tolist() and te.tolist() == wte.tolist()
        assert te[0] - tr[-1] == 3  # two bars left out between them


def test_rows_of_several_instruments_are_split_by_bar_time():
    times = np.repeat(np.arange(50), 3)  # three instruments per bar
    for tr, te in pl.walk_forward_splits(len(times), 4, 5, times):
        assert times[tr].max() + 5 < times[te].min()
        assert len(tr) % 3 == 0 and len(te) % 3 == 0
    tr, val = pl.holdout_split(len(times), 0.2, 5, times)
    assert set(times[val]) == set(range(40, 50)) and times[tr].max() == 34


def test_fit_metrics_equal_scikit_learn_on_the_same_split():
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import accuracy_score, log_loss, roc_auc_score

    X, y = synthetic()
    pipe = MLPipeline("hist_gradient_boosting", {"max_iter": 40}, label_horizon=3)
    metrics = pipe.fit(X, y, val_split=0.25, cv=3)
    n_val = round(len(X) * 0.25)
    tr, va = slice(0, len(X) - n_val - 3), slice(len(X) - n_val, None)
    est = HistGradientBoostingClassifier(max_iter=40, learning_rate=0.05, max_leaf_nodes=31, l2_regularization=1.0,
                                         early_stopping=False, random_state=0).fit(X[tr], y[tr])
    proba = est.predict_proba(X[va])
    hold = metrics["holdout"]
    assert hold["rows"] == n_val and hold["train_rows"] == len(X) - n_val - 3
    assert hold["accuracy"] == accuracy_score(y[va], est.predict(X[va]))
    assert hold["log_loss"] == pytest.approx(log_loss(y[va], proba), rel=1e-12)
    assert hold["roc_auc"] == pytest.approx(roc_auc_score(y[va], proba[:, 1]), rel=1e-12)
    assert hold["accuracy"] > hold["majority_accuracy"] + 0.2  # it learned the signal
    assert len(metrics["cv"]["folds"]) == 3
    # the final model is refitted on every row
    full = HistGradientBoostingClassifier(max_iter=40, learning_rate=0.05, max_leaf_nodes=31, l2_regularization=1.0,
                                          early_stopping=False, random_state=0).fit(X, y)
    assert np.array_equal(pipe.predict_proba(X), full.predict_proba(X))
    assert np.array_equal(pipe.predict(X), full.predict(X))


@pytest.mark.parametrize("model_type", ["random_forest", "hist_gradient_boosting", "mlp"])
def test_save_and_load_give_the_same_probabilities(model_type, tmp_path):
    X, y = synthetic(800)
    params = {"random_forest": {"n_estimators": 30}, "hist_gradient_boosting": {"max_iter": 20},
              "mlp": {"max_iter": 60}}[model_type]
    pipe = MLPipeline(model_type, params, label_horizon=2, feature_names=["a", "b", "c", "d"])
    pipe.fit(X, y, val_split=0.2, cv=None)
    sha = pipe.save(tmp_path / "m.skops")
    other = MLPipeline().load(tmp_path / "m.skops", expected_sha256=sha)
    assert other.model_type == model_type and other.feature_names == ["a", "b", "c", "d"]
    assert other.classes_.tolist() == [-1, 1] and other.label_horizon == 2
    assert np.array_equal(other.predict_proba(X), pipe.predict_proba(X))
    assert pipe.artifact_format == "skops"


def test_load_refuses_a_changed_file_and_untrusted_types(tmp_path):
    import skops.io as sio

    X, y = synthetic(400)
    pipe = MLPipeline("random_forest", {"n_estimators": 5})
    pipe.fit(X, y, val_split=0.2, cv=None)
    sha = pipe.save(tmp_path / "m.skops")
    blob = bytearray((tmp_path / "m.skops").read_bytes())
    blob[100] ^= 0xFF
    (tmp_path / "m.skops").write_bytes(bytes(blob))
    with pytest.raises(ArtifactError, match="refusing to load a file that changed since training"):
        MLPipeline().load(tmp_path / "m.skops", expected_sha256=sha)
    # a well-formed skops file holding a type outside scikit-learn and numpy, or something else
    sio.dump({"format": "tsquant-mlpipeline-1", "meta": "{}", "model": Foreign()}, tmp_path / "evil.skops")
    with pytest.raises(ArtifactError, match="types that are not trusted: tests.models_py.test_pipeline.Foreign"):
        MLPipeline().load(tmp_path / "evil.skops")
    sio.dump({"format": "x", "meta": "{}", "model": [1]}, tmp_path / "other.skops")
    with pytest.raises(ArtifactError, match="was not written by MLPipeline.save"):
        MLPipeline().load(tmp_path / "other.skops")
    with pytest.raises(ArtifactError, match="does not exist"):
        MLPipeline().load(tmp_path / "nothing.skops")
    (tmp_path / "junk.skops").write_bytes(b"not a zip")
    with pytest.raises(ArtifactError, match="not a readable skops file"):
        MLPipeline().load(tmp_path / "junk.skops")


def test_tune_chooses_what_a_time_ordered_grid_search_chooses():
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.model_selection import GridSearchCV, TimeSeriesSplit

    X, y = synthetic(900, seed=3)
    pipe = MLPipeline("random_forest", {"n_estimators": 20}, label_horizon=4)
    result = pipe.tune(X, y, {"min_samples_leaf": [1, 40, 200]}, cv=3)
    search = GridSearchCV(RandomForestClassifier(n_estimators=20, max_features="sqrt", random_state=0),
                          {"min_samples_leaf": [1, 40, 200]}, scoring="neg_log_loss",
                          cv=TimeSeriesSplit(n_splits=3, gap=4)).fit(X, np.searchsorted([-1, 1], y))
    assert result["best_params"] == search.best_params_
    assert result["best_score"] == pytest.approx(search.best_score_, rel=1e-12)
    assert pipe.params["min_samples_leaf"] == search.best_params_["min_samples_leaf"]
    assert [c["mean_score"] for c in result["candidates"]] == pytest.approx(
        search.cv_results_["mean_test_score"].tolist(), rel=1e-12)


def test_mlp_parameters_are_tuned_on_its_step():
    X, y = synthetic(500)
    pipe = MLPipeline("mlp", {"max_iter": 30}, label_horizon=1)
    result = pipe.tune(X, y, {"alpha": [1e-4, 1.0]}, cv=2)
    assert set(result["best_params"]) == {"alpha"} and pipe.params["alpha"] in (1e-4, 1.0)


def test_explain_ranks_the_informative_feature_first_as_permutation_importance_does():
    from sklearn.inspection import permutation_importance

    X, y = synthetic(1200)
    pipe = MLPipeline("hist_gradient_boosting", {"max_iter": 30}, feature_names=["signal", "weak", "noise", "noise2"])
    pipe.fit(X[:900], y[:900], val_split=0.2, cv=None)
    out = pipe.explain(X[900:], y[900:], method="permutation", n_repeats=4)
    want = permutation_importance(pipe.model, X[900:], np.searchsorted([-1, 1], y[900:]), n_repeats=4,
                                  random_state=0, scoring="neg_log_loss")
    assert [out["permutation"][f]["mean"] for f in ["signal", "weak", "noise", "noise2"]] == pytest.approx(
        want.importances_mean.tolist(), rel=1e-12)
    assert max(out["permutation"], key=lambda f: out["permutation"][f]["mean"]) == "signal"
    if not pl.installed("shap"):
        with pytest.raises(ModelError, match="needs the shap package"):
            pipe.explain(X[900:], method="shap")


def test_shap_values_when_shap_is_installed():
    pytest.importorskip("shap")
    X, y = synthetic(600)
    pipe = MLPipeline("hist_gradient_boosting", {"max_iter": 20}, feature_names=["signal", "weak", "noise", "noise2"])
    pipe.fit(X, y, val_split=0.2, cv=None)
    shap_values = pipe.explain(X, method="shap")["shap"]
    assert max(shap_values, key=shap_values.get) == "signal"


def test_xgboost_when_installed(tmp_path):
    pytest.importorskip("xgboost")
    X, y = synthetic(800)
    pipe = MLPipeline("xgboost", {"n_estimators": 20}, label_horizon=2)
    metrics = pipe.fit(X, y, val_split=0.2, cv=2)
    assert metrics["holdout"]["accuracy"] > metrics["holdout"]["majority_accuracy"]
    sha = pipe.save(tmp_path / "x.pkl")
    assert pipe.artifact_format == "pickle"
    assert np.array_equal(MLPipeline().load(tmp_path / "x.pkl", sha).predict_proba(X), pipe.predict_proba(X))


def test_clear_errors():
    X, y = synthetic(100)
    with pytest.raises(ModelError, match="unknown model type 'svm'"):
        MLPipeline("svm")
    with pytest.raises(ModelError, match="single class"):
        MLPipeline().fit(X, np.ones(len(X)))
    with pytest.raises(ModelError, match="not trained"):
        MLPipeline().predict(X)
    with pytest.raises(ModelError, match="too few bars"):
        MLPipeline(label_horizon=90).fit(X, y, val_split=0.2, cv=None)
    with pytest.raises(ModelError, match="val_split must be between 0 and 1"):
        MLPipeline().fit(X, y, val_split=1.5)
    with pytest.raises(ModelError, match=r"shape \[n, features\]"):
        MLPipeline().fit(X[:, 0], y)
    if not pl.installed("xgboost"):
        with pytest.raises(ModelError, match="needs the xgboost package"):
            MLPipeline("xgboost").fit(X, y, val_split=0.2, cv=None)
    if not pl.installed("torch"):
        with pytest.raises(ModelError, match="requirements-torch.txt"):
            MLPipeline("lstm").fit(X.reshape(100, 1, 4), y, val_split=0.2, cv=None)
