-- bi views over the scorer's tables (db/signals/V0350-V0352): the model registry in the shape of
-- seed 002 model_performance, the scores with their symbols, and the Isolation Forest anomaly
-- flags per bar.

create or replace view bi.model_performance as
select
    r.model_id as id,
    r.model_name,
    r.symbol,
    r.parameters,
    r.metrics,
    r.trained_at as timestamp,
    r.version::text as version,
    r.model_type,
    r.timeframe,
    r.data_start,
    r.data_end,
    r.training_rows,
    r.features,
    r.label,
    r.artifact_path,
    r.artifact_sha256,
    r.dataset_sha256
from signals.model_registry as r;

comment on view bi.model_performance is
'Trained models and their validation metrics in the shape of seed 002 model_performance, plus the '
'training window, features, label and artifact (signals.model_registry).';
comment on column bi.model_performance.id is 'Model id (signals.model_registry.model_id).';
comment on column bi.model_performance.model_name is 'Model name (signal_source of its ML signals).';
comment on column bi.model_performance.symbol is 'Symbol trained on (NULL: several / global).';
comment on column bi.model_performance.parameters is 'Estimator parameters.';
comment on column bi.model_performance.metrics is 'Validation metrics (time-ordered hold-out and walk-forward CV).';
comment on column bi.model_performance.timestamp is 'When the model was trained.';
comment on column bi.model_performance.version is 'Version of the model name (1, 2, …).';
comment on column bi.model_performance.model_type is 'Estimator kind (random_forest, hist_gradient_boosting, …).';
comment on column bi.model_performance.timeframe is 'Timeframe trained on.';
comment on column bi.model_performance.data_start is 'First bar trained on.';
comment on column bi.model_performance.data_end is 'End of the training window (every feature and label known by then).';
comment on column bi.model_performance.training_rows is 'Bars trained on.';
comment on column bi.model_performance.features is 'Feature columns, in input order.';
comment on column bi.model_performance.label is 'Label definition.';
comment on column bi.model_performance.artifact_path is 'Saved model file.';
comment on column bi.model_performance.artifact_sha256 is 'sha256 of the model file.';
comment on column bi.model_performance.dataset_sha256 is 'sha256 of the dataset snapshot trained from, if any.';

create or replace view bi.model_scores as
select
    r.model_name,
    r.version,
    s.model_id,
    i.exchange,
    i.symbol,
    s.instrument_id,
    s.timeframe,
    s.bar_time,
    s.class,
    s.probability,
    s.scored_at
from signals.model_scores as s
inner join signals.model_registry as r on s.model_id = r.model_id
inner join market.instruments as i on s.instrument_id = i.instrument_id;

comment on view bi.model_scores is 'Class probabilities per model and bar (signals.model_scores) with model name and symbol.';
comment on column bi.model_scores.model_name is 'Model name.';
comment on column bi.model_scores.version is 'Model version.';
comment on column bi.model_scores.model_id is 'Model id.';
comment on column bi.model_scores.exchange is 'Exchange.';
comment on column bi.model_scores.symbol is 'Canonical symbol.';
comment on column bi.model_scores.instrument_id is 'Instrument id.';
comment on column bi.model_scores.timeframe is 'Timeframe of the bar.';
comment on column bi.model_scores.bar_time is 'Open time of the scored bar.';
comment on column bi.model_scores.class is 'Class: 1 up, -1 down, 0 flat.';
comment on column bi.model_scores.probability is 'Probability of the class, 0-1.';
comment on column bi.model_scores.scored_at is 'When the score was written.';

create or replace view bi.bar_anomalies as
select
    i.exchange,
    i.symbol,
    a.instrument_id,
    a.timeframe,
    a.open_time,
    a.anomaly_score,
    a.decision,
    a.is_anomaly,
    r.contamination,
    a.run_id,
    r.detected_at
from signals.bar_anomalies as a
inner join signals.anomaly_runs as r on a.run_id = r.run_id
inner join market.instruments as i on a.instrument_id = i.instrument_id;

comment on view bi.bar_anomalies is
'Isolation Forest anomaly score and flag per bar over the candle features (seed 001 DataCleaner); '
'filter is_anomaly to list the unusual bars.';
comment on column bi.bar_anomalies.exchange is 'Exchange.';
comment on column bi.bar_anomalies.symbol is 'Canonical symbol.';
comment on column bi.bar_anomalies.instrument_id is 'Instrument id.';
comment on column bi.bar_anomalies.timeframe is 'Timeframe of the bar.';
comment on column bi.bar_anomalies.open_time is 'Open time of the bar.';
comment on column bi.bar_anomalies.anomaly_score is 'Anomaly score 0-1 (Isolation Forest paper): higher is more abnormal.';
comment on column bi.bar_anomalies.decision is 'Score relative to the run''s threshold: negative = anomaly.';
comment on column bi.bar_anomalies.is_anomaly is 'Flagged as an anomaly.';
comment on column bi.bar_anomalies.contamination is 'Contamination of the run (NULL: auto).';
comment on column bi.bar_anomalies.run_id is 'Run that scored the bar (signals.anomaly_runs).';
comment on column bi.bar_anomalies.detected_at is 'When the run was made.';
