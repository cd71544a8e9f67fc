"""The scorer against a real database with the dbt marts built (tests/models_py/scorer_data.py):
training data read from the marts vs a plain-SQL oracle, time-ordered validation recomputed with
scikit-learn, the registry row and its sha256, load refusing a changed artifact, scores COPYed
back vs predict_proba on the oracle's features, ML signals from dbt vs the threshold rule applied
in Python, the leakage test, Isolation Forest flags vs scikit-learn on the same rows, dataset
snapshots (same request, same bytes), the CLI's sentences and exit codes, and the roles."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psycopg
import pytest
from psycopg import sql

from db.connection import database_url
from models_py import anomaly, data, datasets, registry, scorer
from models_py.data import LabelSpec
from models_py.pipeline import ArtifactError, MLPipeline
from tests.conftest import _clone, _drop_database
from tests.features import helpers as h
from tests.models_py import scorer_data as sd

ROOT = Path(__file__).resolve().parents[2]
FEATURES = ["ret_1", "ret_5", "log_ret_1", "volatility_20", "volume_zscore_20", "range_pct", "body_pct",
            "rsi_14", "bb_pctb_20", "natr_14", "gap_before"]
HORIZON = 5
FAST_HGB = {"max_iter": 30, "max_leaf_nodes": 15}


@pytest.fixture(scope="module")
def marts(template_db, worker_tag, tmp_path_factory):
    """(url, ids, run_dir): the module's database with the marts built; tests that change the marts
    use a clone (`clone_of_marts`)."""
    name = f"tsq_scorer_{worker_tag}"
    url = _clone(template_db, name)
    run_dir = tmp_path_factory.mktemp("dbt")
    ids = sd.build(url, run_dir)
    yield url, ids, run_dir
    _drop_database(name)


@pytest.fixture
def clone_of_marts(marts, worker_tag):
    url, ids, run_dir = marts
    source = psycopg.conninfo.conninfo_to_dict(url)["dbname"]
    name = f"tsq_scorer_c_{worker_tag}"
    for attempt in range(20):  # a terminated backend takes a moment to leave
        with psycopg.connect(database_url("postgres"), autocommit=True) as admin:
            admin.execute("select pg_terminate_backend(pid) from pg_stat_activity where datname = %s", (source,))
        try:
            clone = _clone(source, name)
            break
        except psycopg.errors.ObjectInUse:
            if attempt == 19:
                raise
            time.sleep(0.5)
    yield clone, ids, run_dir
    _drop_database(name)


def _request(name: str, tmp_path, **kw) -> scorer.TrainRequest:
    base = dict(name=name, model_type="hist_gradient_boosting", timeframe="1m", features=FEATURES,
                label=LabelSpec(HORIZON), params=FAST_HGB, cv=3, val_split=0.2, artifact_dir=tmp_path / "models")
    base.update(kw)
    return scorer.TrainRequest(**base)


# -- reading the marts -------------------------------------------------------------------------------

def test_training_rows_equal_the_sql_oracle_and_stop_at_known_labels(marts):
    url, ids, _ = marts
    with psycopg.connect(url) as conn:
        end = conn.execute("select max(open_time) - interval '10 minutes' from features.candle_features"
                           " where timeframe = '1m'").fetchone()[0]
        bars = data.read_labeled(conn, "1m", list(ids.values()), FEATURES, LabelSpec(HORIZON), end=end)
        want = sd.labeled_oracle(conn, "1m", list(ids.values()), FEATURES, HORIZON, end=end)
    assert len(bars) == len(want) > 3500
    assert (want["known_at"] <= end).all()
    assert np.array_equal(bars.instrument_id, want["instrument_id"].to_numpy())
    got_times = pd.to_datetime(bars.open_time_us, unit="us", utc=True)
    assert (got_times == pd.DatetimeIndex(want["open_time"])).all()
    expected = want[FEATURES].astype(float).to_numpy()
    assert np.array_equal(np.isnan(bars.X), np.isnan(expected))
    assert np.array_equal(np.nan_to_num(bars.X), np.nan_to_num(expected))
    assert np.array_equal(bars.forward_return, want["forward_return"].to_numpy(float))
    assert np.isnan(bars.X[:, FEATURES.index("rsi_14")]).sum() >= 2 * 14  # lookback NULLs arrive as NaN
    assert set(np.unique(bars.X[:, FEATURES.index("gap_before")])) <= {0.0, 1.0}


def test_unknown_features_instruments_and_empty_windows_are_one_sentence(marts):
    url, _, _ = marts
    with psycopg.connect(url) as conn:
        with pytest.raises(data.DataError, match="has no numeric column 'nope'"):
            data.check_features(conn, ["ret_1", "nope"])
        with pytest.raises(data.DataError, match="unknown instrument 'testex:ZZZ/USDT'"):
            data.resolve_instruments(conn, ["testex:ZZZ/USDT"], "1m")
        with pytest.raises(data.DataError, match="exchange:SYMBOL"):
            data.resolve_instruments(conn, ["AAA/USDT"], "1m")
        with pytest.raises(data.DataError, match="nothing to train on"):
            scorer.train(conn, _request("empty", Path("/tmp"), start=data.parse_time("2030-01-01")))


# -- training, registry, hash check --------------------------------------------------------------------

def test_train_registers_the_model_and_its_metrics_match_an_independent_recomputation(marts, tmp_path):
    url, ids, _ = marts
    with psycopg.connect(url) as conn:
        first = scorer.train(conn, _request("hgb_test", tmp_path))
        second = scorer.train(conn, _request("hgb_test", tmp_path, cv=0))
        want = sd.labeled_oracle(conn, "1m", list(ids.values()), FEATURES, HORIZON)
        row = conn.execute("select * from bi.model_performance where id = %s", (first.model_id,)).fetchone()
        conn.rollback()
    assert (first.version, second.version) == (1, 2)
    assert first.artifact_sha256 == hashlib.sha256(Path(first.artifact_path).read_bytes()).hexdigest()
    assert Path(first.artifact_path).name == "v1.skops" and first.artifact_format == "skops"
    assert first.features == FEATURES and first.classes == [-1, 1] and first.timeframe == "1m"
    assert first.label == {"source": "features.candle_labels", "kind": "direction", "horizon_bars": HORIZON,
                           "min_abs_return": 0.0}
    assert first.training_rows == len(want)
    assert first.data_start == want["open_time"].min() and first.data_end == want["known_at"].max()
    assert first.instrument_ids == sorted(ids.values()) and first.symbol is None
    assert row is not None and row[1] == "hgb_test" and row[6] == "1"  # seed 002 shape: version as text
    # the hold-out: the last 20% of the bar times, a gap of HORIZON bar times before it
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import accuracy_score, log_loss

    times = np.sort(want["open_time"].unique())
    n_val = round(len(times) * 0.2)
    train_t, val_t = times[: len(times) - n_val - HORIZON], times[len(times) - n_val:]
    tr, va = want[want["open_time"].isin(train_t)], want[want["open_time"].isin(val_t)]
    y_tr, y_va = sd.direction(tr["forward_return"]), sd.direction(va["forward_return"])
    est = HistGradientBoostingClassifier(random_state=0, learning_rate=0.05, l2_regularization=1.0,
                                         early_stopping=False, **FAST_HGB)
    est.fit(tr[FEATURES].to_numpy(float), np.searchsorted([-1, 1], y_tr))
    proba = est.predict_proba(va[FEATURES].to_numpy(float))
    hold = first.metrics["holdout"]
    assert hold["rows"] == len(va) and hold["train_rows"] == len(tr)
    assert hold["accuracy"] == pytest.approx(accuracy_score(y_va, np.array([-1, 1])[proba.argmax(1)]), abs=1e-12)
    assert hold["log_loss"] == pytest.approx(log_loss(y_va, proba, labels=[-1, 1]), rel=1e-9)
    assert len(first.metrics["cv"]["folds"]) == 3 and "cv" not in second.metrics
    folds = first.metrics["cv"]["folds"]
    assert [f["train_rows"] for f in folds] == sorted(f["train_rows"] for f in folds)  # expanding windows


def test_load_refuses_an_artifact_whose_hash_differs(marts, tmp_path):
    url, _, _ = marts
    with psycopg.connect(url) as conn:
        record = scorer.train(conn, _request("tamper", tmp_path, cv=0))
        registry.load(conn, record.model_id)  # the untouched file loads
        blob = bytearray(Path(record.artifact_path).read_bytes())
        blob[len(blob) // 2] ^= 0x01
        Path(record.artifact_path).write_bytes(bytes(blob))
        with pytest.raises(ArtifactError, match="refusing to load a file that changed since training"):
            registry.load(conn, "tamper")
        with pytest.raises(ArtifactError, match="refusing"):
            scorer.score(conn, "tamper@1")
        with pytest.raises(registry.RegistryError, match="no model 'tamper@7'"):
            registry.get(conn, "tamper@7")
        conn.rollback()


# -- scores and ML signals -----------------------------------------------------------------------------

def test_scores_are_the_models_probabilities_and_rescoring_replaces_them(marts, tmp_path):
    url, ids, _ = marts
    with psycopg.connect(url) as conn:
        record = scorer.train(conn, _request("scored", tmp_path, cv=0))
        start = data.parse_time("2024-03-05 00:00")
        result = scorer.score(conn, "scored", start=start)
        again = scorer.score(conn, record.model_id, start=start)
        got = h.fetch(conn, "select instrument_id, bar_time, class, probability from signals.model_scores"
                            " where model_id = %s order by bar_time, instrument_id, class", (record.model_id,))
        feats = sd.features_oracle(conn, "1m", list(ids.values()), FEATURES)
        conn.rollback()
    feats = feats[feats["open_time"] >= start].reset_index(drop=True)
    assert result.bars == len(feats) and result.rows == 2 * len(feats)
    assert again.replaced == result.rows and len(got) == result.rows
    pipe = MLPipeline().load(record.artifact_path, expected_sha256=record.artifact_sha256)
    want = pipe.predict_proba(feats[FEATURES].to_numpy(float))
    wide = got.pivot_table(index=["bar_time", "instrument_id"], columns="class", values="probability")
    assert list(wide.columns) == [-1, 1]
    assert np.allclose(wide.to_numpy(), want, rtol=0, atol=0)
    assert np.allclose(wide.sum(axis=1), 1.0, atol=1e-12)


def test_dbt_turns_scores_above_the_threshold_into_ml_trading_signals(clone_of_marts, tmp_path):
    url, ids, run_dir = clone_of_marts
    with psycopg.connect(url) as conn:
        record = scorer.train(conn, _request("mlsig", tmp_path, cv=0, signal_threshold=0.55))
        scorer.score(conn, "mlsig")
        conn.commit()
    h.dbt(url, run_dir, "build", "--select", "ml_signals", "trading_signals")
    with psycopg.connect(url) as conn:
        scores = h.fetch(conn, "select instrument_id, bar_time, class, probability from signals.model_scores"
                               " where model_id = %s", (record.model_id,))
        got = h.fetch(conn, "select * from bi.trading_signals where signal_type = 'ml' order by bar_time, instrument_id")
        strategy_rows = conn.execute("select count(*) from bi.trading_signals where signal_type <> 'ml'").fetchone()[0]
        expected_strategy_rows = conn.execute("select count(*) from signals.strategy_signals").fetchone()[0]
    want = scores[scores["class"].isin([1, -1]) & (scores["probability"] > 0.55)]
    want = want.sort_values(["bar_time", "instrument_id"]).reset_index(drop=True)
    assert len(got) == len(want) > 0
    assert (got["signal_source"] == "mlsig").all()
    assert (got["direction"].to_numpy() == np.where(want["class"] == 1, "BUY", "SELL")).all()
    assert np.allclose(got["confidence"], want["probability"], rtol=0, atol=1e-15)
    assert np.allclose(got["strength"], (want["probability"] - 0.55) / 0.45, atol=1e-12)
    assert (got["signal_time"] - got["bar_time"] == pd.Timedelta(minutes=1)).all()
    assert all(p["model_id"] == record.model_id and p["threshold"] == 0.55 for p in got["parameters"])
    assert strategy_rows == expected_strategy_rows


# -- leakage ------------------------------------------------------------------------------------------

def test_changing_data_after_the_training_window_changes_no_earlier_prediction(clone_of_marts, tmp_path):
    """Train with the window ending at T, change every feature of bars after T and every label
    known after T (labels of bars before T whose horizon reaches past T included), train again: the
    same model, the same predictions for every bar up to T. Changing one label known before T does
    change them (the test can fail)."""
    url, ids, _ = clone_of_marts
    with psycopg.connect(url) as conn:
        t_end = conn.execute("select min(open_time) + interval '1200 minutes' from features.candle_features"
                             " where timeframe = '1m'").fetchone()[0]
        req = _request("leak", tmp_path, cv=2, end=t_end, model_type="random_forest",
                       params={"n_estimators": 30, "min_samples_leaf": 10})
        first = scorer.train(conn, req)
        early = sd.features_oracle(conn, "1m", list(ids.values()), FEATURES)
        early = early[early["open_time"] <= t_end]
        X_early = early[FEATURES].to_numpy(float)
        p1 = MLPipeline().load(first.artifact_path, first.artifact_sha256).predict_proba(X_early)

        rng_sql = "random()"  # any change will do: the server's random numbers
        changed_f = conn.execute(sql.SQL(
            "update features.candle_features set ret_1 = {r}, rsi_14 = 100 * {r}, volume_zscore_20 = 5 * {r}"
            " where timeframe = '1m' and open_time > %s").format(r=sql.SQL(rng_sql)), (t_end,)).rowcount
        changed_l = conn.execute(sql.SQL(
            "update features.candle_labels set forward_return = {r} - 0.5, forward_direction = -forward_direction"
            " where timeframe = '1m' and known_at > %s").format(r=sql.SQL(rng_sql)), (t_end,)).rowcount
        straddling = conn.execute("select count(*) from features.candle_labels where timeframe = '1m'"
                                  " and open_time <= %s and known_at > %s", (t_end, t_end)).fetchone()[0]
        second = scorer.train(conn, req)
        p2 = MLPipeline().load(second.artifact_path, second.artifact_sha256).predict_proba(X_early)

        # a label known inside the window does reach the model
        conn.execute("update features.candle_labels set forward_return = -forward_return"
                     " where timeframe = '1m' and horizon_bars = %s and known_at <= %s"
                     " and open_time > %s - interval '600 minutes'", (HORIZON, t_end, t_end))
        third = scorer.train(conn, req)
        p3 = MLPipeline().load(third.artifact_path, third.artifact_sha256).predict_proba(X_early)
        conn.rollback()
    assert changed_f > 1000 and changed_l > 1000 and straddling > 0
    assert second.training_rows == first.training_rows
    assert second.metrics == first.metrics
    assert np.array_equal(p1, p2)
    assert not np.array_equal(p1, p3)


# -- anomaly detection ----------------------------------------------------------------------------------

def test_isolation_forest_flags_the_abnormal_bar_and_matches_scikit_learn(marts):
    url, ids, _ = marts
    feats = list(data.DEFAULT_ANOMALY_FEATURES)
    with psycopg.connect(url) as conn:
        result = anomaly.detect(conn, "1m", contamination=0.01, n_estimators=100, random_state=3)
        got = h.fetch(conn, "select * from bi.bar_anomalies where run_id = %s order by instrument_id, open_time",
                      (result.run_id,))
        oracle = sd.features_oracle(conn, "1m", list(ids.values()), feats)
        rerun = anomaly.detect(conn, "1m", contamination=None, n_estimators=100, random_state=3)
        with pytest.raises(data.DataError, match="contamination must be in"):
            anomaly.detect(conn, "1m", contamination=0.7)
        stored = conn.execute("select count(*), count(distinct run_id) from signals.bar_anomalies").fetchone()
        run = conn.execute("select bars, anomalies, contamination, features from signals.anomaly_runs"
                           " where run_id = %s", (result.run_id,)).fetchone()
        conn.rollback()
    from sklearn.ensemble import IsolationForest

    oracle = oracle.dropna().sort_values(["instrument_id", "open_time"]).reset_index(drop=True)
    assert len(got) == len(oracle) == result.bars and run[0] == result.bars
    for inst, part in oracle.groupby("instrument_id"):
        forest = IsolationForest(n_estimators=100, contamination=0.01, random_state=3).fit(part[feats].to_numpy())
        mine = got[got["instrument_id"] == inst]
        assert np.allclose(mine["anomaly_score"], -forest.score_samples(part[feats].to_numpy()), rtol=1e-12)
        assert (mine["is_anomaly"].to_numpy() == (forest.predict(part[feats].to_numpy()) == -1)).all()
        assert abs(mine["is_anomaly"].mean() - 0.01) < 0.005
    spike = got[(got["instrument_id"] == ids["AAA/USDT"]) & (got["open_time"] == sd.spike_time())]
    assert spike["is_anomaly"].item()
    aaa_scores = got[got["instrument_id"] == ids["AAA/USDT"]]["anomaly_score"]
    assert spike["anomaly_score"].item() > aaa_scores.quantile(0.99)
    assert run[1] == int(got["is_anomaly"].sum()) and run[2] == 0.01 and run[3] == feats
    assert stored == (result.bars, 1)  # the second run replaced the first one's rows
    assert rerun.contamination is None and rerun.anomalies > 0


# -- datasets -------------------------------------------------------------------------------------------

def test_export_gives_the_same_bytes_for_the_same_request_and_training_records_its_hash(marts, tmp_path):
    url, ids, _ = marts
    end = data.parse_time("2024-03-06 00:00")
    req = datasets.DatasetRequest("1m", list(ids.values()), data.parse_time("2024-03-04 06:00"), end, FEATURES,
                                  LabelSpec(HORIZON))
    with psycopg.connect(url) as conn:
        a = datasets.export(conn, req, tmp_path / "a")
        b = datasets.export(conn, req, tmp_path / "b")
        want = sd.labeled_oracle(conn, "1m", list(ids.values()), FEATURES, HORIZON, end=end)
        record = scorer.train(conn, _request("from_snapshot", tmp_path, cv=0, dataset=a.manifest_path))
        conn.rollback()
    want = want[want["open_time"] >= pd.Timestamp("2024-03-04 06:00", tz="UTC")]
    assert a.path.read_bytes() == b.path.read_bytes() and a.path.name == b.path.name
    assert a.manifest_path.read_bytes() == b.manifest_path.read_bytes()
    assert a.sha256 == hashlib.sha256(a.path.read_bytes()).hexdigest()
    manifest = json.loads(a.manifest_path.read_text())
    assert manifest["rows"] == a.rows == len(want)
    assert manifest["sha256"] == a.sha256 and manifest["request"]["end"] == end.isoformat()
    assert "features.candle_labels" in manifest["query"] and "known_at" in manifest["query"]
    frame = pd.read_parquet(a.path)
    assert (frame["open_time"] == pd.DatetimeIndex(want["open_time"])).all()
    assert np.allclose(frame[FEATURES].to_numpy(), want[FEATURES].to_numpy(float), equal_nan=True, rtol=0, atol=0)
    assert record.dataset_sha256 == a.sha256 and record.training_rows == a.rows
    # a snapshot that changed after export is refused
    frame.iloc[:10].to_parquet(a.path)
    with pytest.raises(datasets.DatasetError, match="changed since export"):
        datasets.load_snapshot(a.manifest_path)


def test_export_runs_dvc_add_when_dvc_is_installed(marts, tmp_path, monkeypatch):
    """A stand-in `dvc` on PATH records how it is called and writes the .dvc file as dvc does."""
    url, ids, _ = marts
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "dvc.log"
    (bin_dir / "dvc").write_text(f"#!/bin/sh\necho \"$PWD $@\" >> {log}\necho 'outs: [{{path: '$2'}}]' > \"$2.dvc\"\n")
    (bin_dir / "dvc").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    req = datasets.DatasetRequest("15m", list(ids.values()), None, None, FEATURES[:3], LabelSpec(1))
    with psycopg.connect(url) as conn:
        snap = datasets.export(conn, req, tmp_path / "out")
    assert snap.dvc_file == snap.path.with_name(snap.path.name + ".dvc") and snap.dvc_file.exists()
    assert log.read_text().split() == [str(tmp_path / "out"), "add", snap.path.name]


# -- roles ----------------------------------------------------------------------------------------------

def test_the_trader_role_trains_and_scores_and_the_analyst_reads_bi(marts, tmp_path):
    url, _, _ = marts
    with psycopg.connect(url) as conn:
        conn.execute("set role tsq_trader")
        record = scorer.train(conn, _request("trader_model", tmp_path, cv=0))
        result = scorer.score(conn, record.model_id)
        anomaly.detect(conn, "1m", n_estimators=20)
        conn.execute("set role tsq_analyst")
        seen = conn.execute("select count(*) from bi.model_scores where model_id = %s", (record.model_id,)).fetchone()
        conn.execute("select count(*) from bi.bar_anomalies").fetchone()
        conn.execute("select count(*) from bi.model_performance").fetchone()
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("delete from signals.model_scores")
        conn.rollback()
    assert seen[0] == result.rows > 0


def test_every_new_relation_and_column_has_a_comment(marts):
    url, _, _ = marts
    with psycopg.connect(url) as conn:
        missing = conn.execute("""
            select c.relname || coalesce('.' || a.attname, '')
            from pg_class as c join pg_namespace as n on n.oid = c.relnamespace
            left join pg_attribute as a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
            where n.nspname || '.' || c.relname = any(%s)
              and coalesce(col_description(c.oid, a.attnum), obj_description(c.oid, 'pg_class')) is null
        """, (["signals.model_registry", "signals.model_scores", "signals.anomaly_runs", "signals.bar_anomalies",
               "bi.model_performance", "bi.model_scores", "bi.bar_anomalies"],)).fetchall()
    assert missing == []


# -- the command line -----------------------------------------------------------------------------------

def _cli(url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": url}
    return subprocess.run([sys.executable, "-m", "models_py", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)


def test_cli_train_score_anomaly_export_models_and_their_errors(clone_of_marts, tmp_path):
    url, _, _ = clone_of_marts
    feats = ",".join(FEATURES)
    out = _cli(url, "train", "--name", "cli_rf", "--model", "random_forest", "--timeframe", "1m",
               "--instrument", "testex:AAA/USDT", "--features", feats, "--param", "n_estimators=20",
               "--tune", "min_samples_leaf=5,50", "--cv", "2", "--artifacts", str(tmp_path), "--snapshot", "--snapshot-dir", str(tmp_path / "snap"))
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("model cli_rf@1 (id ") and "tuned {\"min_samples_leaf\":" in out.stdout
    assert "dataset sha256" in out.stdout
    out = _cli(url, "score", "--model", "cli_rf", "--start", "2024-03-05")
    assert out.returncode == 0 and "score rows written (0 replaced)" in out.stdout, out.stderr
    out = _cli(url, "anomaly", "--timeframe", "1m", "--contamination", "auto")
    assert out.returncode == 0 and "flagged (contamination auto)" in out.stdout, out.stderr
    out = _cli(url, "export", "--timeframe", "5m", "--out", str(tmp_path / "snap"), "--horizon", "1")
    assert out.returncode == 0 and "rows ->" in out.stdout and "sha256" in out.stdout, out.stderr
    out = _cli(url, "models")
    assert out.returncode == 0 and "cli_rf@1" in out.stdout
    with psycopg.connect(url) as conn:
        row = conn.execute("select symbol, parameters ->> 'min_samples_leaf', dataset_sha256 is not null"
                           " from signals.model_registry where model_name = 'cli_rf'").fetchone()
    assert row[0] == "AAA/USDT" and row[1] in ("5", "50") and row[2]

    errors = [
        (("train", "--name", "x", "--timeframe", "1m", "--instrument", "testex:NOPE/USDT"), 2, "unknown instrument"),
        (("train", "--name", "x", "--timeframe", "1m", "--features", "ret_1,bogus"), 2, "no numeric column 'bogus'"),
        (("train", "--name", "Bad Name", "--timeframe", "1m"), 2, "model name 'Bad Name'"),
        (("train", "--name", "x", "--param", "oops"), 2, "expected NAME=VALUE"),
        (("score", "--model", "missing"), 2, "no model 'missing'"),
        (("anomaly", "--contamination", "lots"), 2, "a number in (0, 0.5] or auto"),
        (("train", "--name", "x", "--start", "yesterday"), 2, "is not a date or time"),
    ]
    for args, code, text in errors:
        out = _cli(url, *args)
        assert out.returncode == code and text in out.stderr, (args, out.returncode, out.stderr)
        assert "Traceback" not in out.stderr and out.stderr.count("\n") == 1
    artifact = next(tmp_path.glob("cli_rf/v1.skops"))
    artifact.write_bytes(artifact.read_bytes() + b"x")
    out = _cli(url, "score", "--model", "cli_rf@1")
    assert out.returncode == 1 and "refusing to load a file that changed since training" in out.stderr


def test_demo_trains_scores_and_shows_the_ml_signals(clone_of_marts, tmp_path):
    from models_py.demo import run_demo

    url, _, _ = clone_of_marts
    lines = run_demo(url, artifact_dir=tmp_path)
    text = "\n".join(lines)
    with psycopg.connect(url) as conn:
        model_id, bars = conn.execute("select model_id, training_rows from signals.model_registry"
                                      " where model_name = 'demo_hgb_1m'").fetchone()
        scores = conn.execute("select count(*) from signals.model_scores where model_id = %s", (model_id,)).fetchone()[0]
        ml = conn.execute("select count(*) from bi.trading_signals where signal_source = 'demo_hgb_1m'").fetchone()[0]
        above = conn.execute("select count(*) from signals.model_scores where model_id = %s and class in (1, -1)"
                             " and probability > 0.55", (model_id,)).fetchone()[0]
    assert f"trained demo_hgb_1m@1 (hist_gradient_boosting) on {bars} 1m bars of 2 instruments" in text
    assert f"-> {scores} rows in signals.model_scores" in text
    assert ml == above and "ML trading signals (bi.trading_signals" in text
    assert "anomalies (Isolation Forest, contamination 1%)" in text and "flagged, e.g. testex:" in text
