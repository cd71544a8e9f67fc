-- signals.model_registry: every trained model (seed 002 model_performance: name, version, symbol,
-- parameters, metrics, timestamp), with what it was trained on and where its artifact is. Written
-- by `python -m models_py train` (models_py/registry.py); the artifact's sha256 is checked before
-- a model is loaded, so an edited or swapped file is refused. bi.model_performance shows it in the
-- seed's shape.

create table signals.model_registry (
    model_id bigint generated always as identity primary key,
    model_name text not null,
    version integer not null,
    model_type text not null,
    symbol text,
    instrument_ids integer[] not null,
    timeframe text not null references market.timeframes (timeframe),
    parameters jsonb not null default '{}'::jsonb,
    metrics jsonb not null default '{}'::jsonb,
    trained_at timestamptz not null default now(),
    data_start timestamptz not null,
    data_end timestamptz not null,
    training_rows bigint not null,
    features text[] not null,
    label jsonb not null,
    classes integer[] not null,
    signal_threshold double precision,
    artifact_path text not null,
    artifact_format text not null,
    artifact_sha256 text not null,
    dataset_sha256 text,
    library_versions jsonb not null default '{}'::jsonb,
    constraint model_registry_version_once unique (model_name, version),
    constraint model_registry_version_positive check (version > 0),
    constraint model_registry_name_form check (model_name ~ '^[a-z0-9][a-z0-9_.-]{0,62}$'),
    constraint model_registry_window check (data_start <= data_end),
    constraint model_registry_features_given check (cardinality(features) > 0),
    constraint model_registry_classes_given check (cardinality(classes) > 1),
    constraint model_registry_threshold_unit check (signal_threshold > 0 and signal_threshold < 1),
    constraint model_registry_format_known check (artifact_format in ('skops', 'pickle', 'torch')),
    constraint model_registry_sha256_form check (artifact_sha256 ~ '^[0-9a-f]{64}$'),
    constraint model_registry_dataset_sha256_form check (dataset_sha256 ~ '^[0-9a-f]{64}$'),
    constraint model_registry_json_objects check (
        jsonb_typeof(parameters) = 'object' and jsonb_typeof(metrics) = 'object'
        and jsonb_typeof(label) = 'object' and jsonb_typeof(library_versions) = 'object'
    )
);

comment on table signals.model_registry is
'Model registry (seed 002 model_performance): one row per trained model version with its '
'parameters, validation metrics, training data window, feature list, label definition and '
'artifact (path + sha256; loading refuses a file whose hash differs). Written by '
'python -m models_py train. Public view: bi.model_performance.';
comment on column signals.model_registry.model_id is 'Surrogate key; signals.model_scores.model_id.';
comment on column signals.model_registry.model_name is
'Model name (lower case, e.g. rf_btc_1h): becomes signal_source of the ML trading signals.';
comment on column signals.model_registry.version is 'Version of the model name, 1, 2, … in training order.';
comment on column signals.model_registry.model_type is
'Estimator: random_forest, hist_gradient_boosting, xgboost, mlp (scikit-learn) or lstm, cnn1d, transformer (PyTorch).';
comment on column signals.model_registry.symbol is 'Symbol trained on when exactly one (seed: NULL = several / global).';
comment on column signals.model_registry.instrument_ids is 'Instruments (market.instruments) whose bars were trained on.';
comment on column signals.model_registry.timeframe is 'Timeframe of the bars trained on and scored.';
comment on column signals.model_registry.parameters is 'Estimator parameters (after tuning, the chosen ones).';
comment on column signals.model_registry.metrics is
'Validation metrics: time-ordered hold-out (accuracy, balanced accuracy, log loss, ROC AUC) and walk-forward CV per fold.';
comment on column signals.model_registry.trained_at is 'When the model was trained (seed: timestamp).';
comment on column signals.model_registry.data_start is 'Open time of the first bar trained on.';
comment on column signals.model_registry.data_end is
'End of the training window: every feature and every label used was known at or before it.';
comment on column signals.model_registry.training_rows is 'Bars trained on (training + hold-out).';
comment on column signals.model_registry.features is 'Feature columns of features.candle_features, in model input order.';
comment on column signals.model_registry.label is
'Label definition, e.g. {"source": "features.candle_labels", "kind": "direction", "horizon_bars": 5, "min_abs_return": 0}.';
comment on column signals.model_registry.classes is 'Classes the model predicts (1 up, -1 down, 0 flat).';
comment on column signals.model_registry.signal_threshold is
'Probability above which a score of class 1 / -1 becomes a BUY / SELL signal (NULL: dbt var ml_signal_threshold).';
comment on column signals.model_registry.artifact_path is 'Where the saved model file is.';
comment on column signals.model_registry.artifact_format is
'skops (safe: no code runs on load), pickle (trusted files only: XGBoost, ...) or torch (state dict).';
comment on column signals.model_registry.artifact_sha256 is 'sha256 of the artifact file; load refuses a file with another hash.';
comment on column signals.model_registry.dataset_sha256 is
'sha256 of the dataset snapshot (python -m models_py export) the model was trained from, when trained from one.';
comment on column signals.model_registry.library_versions is
'Versions of python, scikit-learn, numpy, … at training time (artifacts are not portable across versions).';

create index model_registry_name_idx on signals.model_registry (model_name, version desc);
