"""Sequence models (LSTM, CNN1D, Transformer) through MLPipeline: the optional PyTorch extra
(`make test-torch` installs the CPU build and runs this file; without torch it is skipped). On
sequences whose class is the sign of a feature's sum over the window, each network learns well
beyond the majority class under time-ordered validation, and a saved model loads back (state
dict, weights_only) with the same probabilities; a changed file is refused."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from models_py.pipeline import ArtifactError, MLPipeline  # noqa: E402

SEQ, FEATURES = 12, 3


def sequences(n: int = 1200, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, SEQ, FEATURES))
    y = np.where(X[:, :, 0].sum(axis=1) + 0.5 * rng.normal(size=n) > 0, 1, -1)
    X[::41, 3, 1] = np.nan  # missing values inside a window
    return X, y


@pytest.mark.parametrize("kind", ["lstm", "cnn1d", "transformer"])
def test_sequence_models_learn_save_and_load(kind, tmp_path):
    torch.set_num_threads(1)
    X, y = sequences()
    pipe = MLPipeline(kind, {"epochs": 15, "hidden": 16, "heads": 2}, label_horizon=1,
                      feature_names=["a", "b", "c"])
    metrics = pipe.fit(X, y, val_split=0.25, cv=None)
    hold = metrics["holdout"]
    assert hold["accuracy"] > hold["majority_accuracy"] + 0.15, hold
    proba = pipe.predict_proba(X[:50])
    assert proba.shape == (50, 2) and np.allclose(proba.sum(axis=1), 1.0)
    sha = pipe.save(tmp_path / "m.pt")
    assert pipe.artifact_format == "torch"
    other = MLPipeline().load(tmp_path / "m.pt", expected_sha256=sha)
    assert other.model_type == kind and other.feature_names == ["a", "b", "c"]
    assert np.array_equal(other.predict_proba(X[:50]), proba)
    (tmp_path / "m.pt").write_bytes((tmp_path / "m.pt").read_bytes()[:-10])
    with pytest.raises(ArtifactError, match="changed since training"):
        MLPipeline().load(tmp_path / "m.pt", expected_sha256=sha)


def test_sequence_models_take_three_dimensional_input():
    X, y = sequences(100)
    with pytest.raises(Exception, match=r"\[n, seq, features\]"):
        MLPipeline("lstm").fit(X[:, 0, :], y)
