-- signals.anomaly_runs / signals.bar_anomalies: Isolation Forest over the candle features (seed
-- 001 DataCleaner), one score and flag per bar, written by `python -m models_py anomaly`
-- (models_py/anomaly.py). A run replaces the rows of its instruments, timeframe and window. The
-- features can join them on (instrument_id, timeframe, open_time); people read bi.bar_anomalies.

create table signals.anomaly_runs (
    run_id bigint generated always as identity primary key,
    timeframe text not null references market.timeframes (timeframe),
    instrument_ids integer[] not null,
    window_start timestamptz not null,
    window_end timestamptz not null,
    features text[] not null,
    contamination double precision,
    parameters jsonb not null default '{}'::jsonb,
    bars bigint not null,
    anomalies bigint not null,
    detected_at timestamptz not null default now(),
    constraint anomaly_runs_window check (window_start <= window_end),
    constraint anomaly_runs_contamination_range check (contamination > 0 and contamination <= 0.5),
    constraint anomaly_runs_counts check (anomalies between 0 and bars)
);

comment on table signals.anomaly_runs is
'Isolation Forest runs over features.candle_features: window, features, contamination, counts.';
comment on column signals.anomaly_runs.run_id is 'Surrogate key; signals.bar_anomalies.run_id.';
comment on column signals.anomaly_runs.timeframe is 'Timeframe of the bars examined.';
comment on column signals.anomaly_runs.instrument_ids is 'Instruments examined (one forest per instrument).';
comment on column signals.anomaly_runs.window_start is 'Open time of the first bar examined.';
comment on column signals.anomaly_runs.window_end is 'Open time of the last bar examined.';
comment on column signals.anomaly_runs.features is 'Feature columns the forest saw.';
comment on column signals.anomaly_runs.contamination is
'Expected share of anomalies, (0, 0.5]; NULL = scikit-learn''s auto (offset -0.5 of the paper''s score).';
comment on column signals.anomaly_runs.parameters is 'Other IsolationForest parameters (n_estimators, random_state, …).';
comment on column signals.anomaly_runs.bars is 'Bars scored.';
comment on column signals.anomaly_runs.anomalies is 'Bars flagged as anomalies.';
comment on column signals.anomaly_runs.detected_at is 'When the run was made.';

create table signals.bar_anomalies (
    instrument_id integer not null references market.instruments (instrument_id),
    timeframe text not null,
    open_time timestamptz not null,
    run_id bigint not null references signals.anomaly_runs (run_id) on delete cascade,
    anomaly_score double precision not null,
    decision double precision not null,
    is_anomaly boolean not null,
    constraint bar_anomalies_pkey primary key (instrument_id, timeframe, open_time)
);

comment on table signals.bar_anomalies is
'Isolation Forest anomaly score and flag per instrument, timeframe and bar (latest run that covered it). '
'Public view: bi.bar_anomalies.';
comment on column signals.bar_anomalies.instrument_id is 'Instrument (market.instruments).';
comment on column signals.bar_anomalies.timeframe is 'Timeframe of the bar.';
comment on column signals.bar_anomalies.open_time is 'Open time of the bar.';
comment on column signals.bar_anomalies.run_id is 'Run that wrote the row (signals.anomaly_runs).';
comment on column signals.bar_anomalies.anomaly_score is
'Anomaly score of the Isolation Forest paper, 0-1: higher is more abnormal (= -score_samples).';
comment on column signals.bar_anomalies.decision is
'scikit-learn decision_function: negative = anomaly at the run''s contamination.';
comment on column signals.bar_anomalies.is_anomaly is 'Flagged as an anomaly (decision < 0).';

create index bar_anomalies_run_idx on signals.bar_anomalies (run_id);

-- A new run replaces the rows of its window: the trader (the scorer's role) may delete them.
grant delete on signals.bar_anomalies to tsq_trader;

insert into ops.data_class_relations (relation, data_class, time_column)
values ('signals.anomaly_runs', 'signals', 'detected_at');
