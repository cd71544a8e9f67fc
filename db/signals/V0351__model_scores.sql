-- signals.model_scores: class probabilities of a registered model per instrument, timeframe and
-- bar, COPYed back by `python -m models_py score` (models_py/scorer.py). One row per class, so
-- the whole distribution is kept; the dbt model signals.ml_signals turns probabilities of class
-- 1 / -1 above the model's threshold into BUY / SELL trading signals. Re-scoring a window
-- replaces its rows (delete + COPY in one transaction).

create table signals.model_scores (
    model_id bigint not null references signals.model_registry (model_id) on delete cascade,
    instrument_id integer not null references market.instruments (instrument_id),
    timeframe text not null,
    bar_time timestamptz not null,
    class integer not null,
    probability double precision not null,
    scored_at timestamptz not null default now(),
    constraint model_scores_pkey primary key (model_id, instrument_id, timeframe, bar_time, class),
    constraint model_scores_probability_unit check (probability between 0 and 1)
);

comment on table signals.model_scores is
'Class probabilities of a registered model (signals.model_registry) per instrument, timeframe and '
'closed bar, one row per class. Written by python -m models_py score with COPY; the dbt model '
'signals.ml_signals turns them into trading signals (signal_type ml).';
comment on column signals.model_scores.model_id is 'Model (signals.model_registry).';
comment on column signals.model_scores.instrument_id is 'Instrument (market.instruments).';
comment on column signals.model_scores.timeframe is 'Timeframe of the bar.';
comment on column signals.model_scores.bar_time is 'Open time of the scored bar (its features are known at its close).';
comment on column signals.model_scores.class is 'Predicted class: 1 up, -1 down, 0 flat (signals.model_registry.label).';
comment on column signals.model_scores.probability is 'Probability the model gives the class at that bar, 0-1.';
comment on column signals.model_scores.scored_at is 'When the row was written.';

create index model_scores_bar_idx on signals.model_scores (instrument_id, timeframe, bar_time);

-- Re-scoring a window replaces its rows: the trader (the scorer's role) may delete them.
grant delete on signals.model_scores to tsq_trader;

insert into ops.data_class_relations (relation, data_class, time_column)
values ('signals.model_scores', 'signals', 'scored_at');
