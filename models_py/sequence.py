"""PyTorch sequence classifiers for MLPipeline (model types lstm, cnn1d, transformer), on inputs of
shape [n, seq, features]. Optional: torch is not in requirements.txt; install the CPU build with
`pip install -r requirements-torch.txt` (`make test-torch` does, then runs their test).

Inputs are standardised per feature with the training data's mean and standard deviation (kept in
the artifact); missing values become 0 after that (the training mean). Training is full-batch
shuffled mini-batches with Adam for a fixed number of epochs, seeded, on the CPU. Artifacts are a
torch state dict plus JSON metadata, read back with `torch.load(weights_only=True)`, so loading
runs no code.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from models_py.pipeline import TORCH_INSTALL, ModelError, installed


def _torch():
    if not installed("torch"):
        raise ModelError(f"sequence models need PyTorch: {TORCH_INSTALL}")
    import torch

    return torch


def _network(kind: str, n_features: int, n_classes: int, seq_len: int, hidden: int, layers: int,
             dropout: float, heads: int):
    torch = _torch()
    nn = torch.nn

    class LSTMNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = nn.LSTM(n_features, hidden, num_layers=layers, batch_first=True,
                               dropout=dropout if layers > 1 else 0.0)
            self.head = nn.Linear(hidden, n_classes)

        def forward(self, x):
            out, _ = self.rnn(x)
            return self.head(out[:, -1, :])

    class CNN1DNet(nn.Module):
        def __init__(self):
            super().__init__()
            blocks, width = [], n_features
            for _ in range(layers):
                blocks += [nn.Conv1d(width, hidden, kernel_size=3, padding=1), nn.ReLU(), nn.Dropout(dropout)]
                width = hidden
            self.conv = nn.Sequential(*blocks)
            self.head = nn.Linear(hidden, n_classes)

        def forward(self, x):
            return self.head(self.conv(x.transpose(1, 2)).mean(dim=2))

    class TransformerNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Linear(n_features, hidden)
            self.position = nn.Parameter(torch.zeros(1, seq_len, hidden))
            layer = nn.TransformerEncoderLayer(hidden, heads, dim_feedforward=2 * hidden, dropout=dropout,
                                               batch_first=True)
            self.encoder = nn.TransformerEncoder(layer, num_layers=layers, enable_nested_tensor=False)
            self.head = nn.Linear(hidden, n_classes)

        def forward(self, x):
            return self.head(self.encoder(self.embed(x) + self.position).mean(dim=1))

    return {"lstm": LSTMNet, "cnn1d": CNN1DNet, "transformer": TransformerNet}[kind]()


class SequenceClassifier:
    """fit / predict_proba / save / load of one sequence network (scikit-learn-like)."""

    def __init__(self, kind: str, *, n_classes: int, random_state: int = 0, hidden: int = 32, layers: int = 1,
                 dropout: float = 0.0, heads: int = 4, epochs: int = 20, batch_size: int = 128,
                 learning_rate: float = 1e-3):
        self.kind = kind
        self.n_classes = int(n_classes)
        self.random_state = int(random_state)
        self.config = {"hidden": int(hidden), "layers": int(layers), "dropout": float(dropout), "heads": int(heads)}
        self.epochs, self.batch_size, self.learning_rate = int(epochs), int(batch_size), float(learning_rate)
        self.classes_ = np.arange(self.n_classes)
        self.net = None
        self.mean: np.ndarray | None = None
        self.std: np.ndarray | None = None
        self.shape: tuple[int, int] | None = None

    def _prepare(self, X: np.ndarray):
        torch = _torch()
        z = (np.asarray(X, dtype=np.float64) - self.mean) / self.std
        return torch.from_numpy(np.nan_to_num(z, nan=0.0).astype(np.float32))

    def _build(self):
        seq_len, n_features = self.shape
        return _network(self.kind, n_features, self.n_classes, seq_len, **self.config)

    def fit(self, X: np.ndarray, y: np.ndarray) -> SequenceClassifier:
        torch = _torch()
        torch.manual_seed(self.random_state)
        X = np.asarray(X, dtype=np.float64)
        self.shape = (X.shape[1], X.shape[2])
        flat = X.reshape(-1, X.shape[2])
        self.mean = np.nanmean(flat, axis=0)
        self.mean = np.where(np.isnan(self.mean), 0.0, self.mean)
        std = np.nanstd(flat, axis=0)
        self.std = np.where(~np.isfinite(std) | (std == 0), 1.0, std)
        inputs = self._prepare(X)
        targets = torch.from_numpy(np.asarray(y, dtype=np.int64))
        self.net = self._build()
        optimiser = torch.optim.Adam(self.net.parameters(), lr=self.learning_rate)
        loss_fn = torch.nn.CrossEntropyLoss()
        generator = torch.Generator().manual_seed(self.random_state)
        self.net.train()
        for _ in range(self.epochs):
            order = torch.randperm(len(inputs), generator=generator)
            for start in range(0, len(inputs), self.batch_size):
                batch = order[start:start + self.batch_size]
                optimiser.zero_grad()
                loss = loss_fn(self.net(inputs[batch]), targets[batch])
                loss.backward()
                optimiser.step()
        self.net.eval()
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        torch = _torch()
        if self.net is None:
            raise ModelError("the sequence model is not trained")
        with torch.no_grad():
            logits = self.net(self._prepare(X))
            proba = torch.softmax(logits, dim=1).double().numpy()
        return proba / proba.sum(axis=1, keepdims=True)

    def _state(self) -> dict[str, Any]:
        return {"kind": self.kind, "n_classes": self.n_classes, "random_state": self.random_state,
                "config": self.config, "epochs": self.epochs, "batch_size": self.batch_size,
                "learning_rate": self.learning_rate, "shape": list(self.shape)}

    def save(self, path: Path, meta: dict[str, Any]) -> None:
        torch = _torch()
        torch.save({
            "format": "tsquant-sequence-1",
            "meta": json.dumps(meta),
            "state": json.dumps(self._state()),
            "mean": torch.from_numpy(self.mean),
            "std": torch.from_numpy(self.std),
            "weights": self.net.state_dict(),
        }, path)

    @classmethod
    def load(cls, path: Path) -> tuple[SequenceClassifier, dict[str, Any]]:
        torch = _torch()
        blob = torch.load(path, weights_only=True)
        state = json.loads(blob["state"])
        model = cls(state["kind"], n_classes=state["n_classes"], random_state=state["random_state"],
                    epochs=state["epochs"], batch_size=state["batch_size"], learning_rate=state["learning_rate"],
                    **state["config"])
        model.shape = tuple(state["shape"])
        model.mean, model.std = blob["mean"].numpy(), blob["std"].numpy()
        model.net = model._build()
        model.net.load_state_dict(blob["weights"])
        model.net.eval()
        return model, json.loads(blob["meta"])
