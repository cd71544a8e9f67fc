-- ops.loader_runs and ops.watermarks: run records and incremental state of every loader job
-- (written by loaders/core/runs.py).

create table ops.loader_runs (
    run_id bigint generated always as identity primary key,
    job text not null,
    source text not null,
    dataset text,
    status text not null default 'running',
    started_at timestamptz not null default clock_timestamp(),
    finished_at timestamptz,
    rows_in bigint not null default 0,
    rows_loaded bigint not null default 0,
    rows_quarantined bigint not null default 0,
    rows_duplicate bigint not null default 0,
    rows_skipped bigint not null default 0,
    batches bigint not null default 0,
    error text,
    args jsonb,
    host text,
    pid integer,
    constraint loader_runs_status_valid check (status in ('running', 'succeeded', 'failed', 'abandoned')),
    constraint loader_runs_counts_add_up check (
        status <> 'succeeded' or rows_in = rows_loaded + rows_quarantined + rows_duplicate
    )
);

create index loader_runs_job_idx on ops.loader_runs (job, started_at desc);

comment on table ops.loader_runs is
'One row per loader run: what ran, how long, how many rows and the outcome. A succeeded run '
'satisfies rows_in = rows_loaded + rows_quarantined + rows_duplicate. A run killed before it '
'finished stays running until the next run of the job marks it abandoned.';
comment on column ops.loader_runs.run_id is 'Surrogate key; market.quarantine.run_id points here.';
comment on column ops.loader_runs.job is 'Job name (the lock and the watermarks are per job).';
comment on column ops.loader_runs.source is 'Data source, e.g. binance_capture, synthetic.';
comment on column ops.loader_runs.dataset is 'trades, quotes, candles, or several separated by commas.';
comment on column ops.loader_runs.status is 'running, succeeded, failed or abandoned.';
comment on column ops.loader_runs.started_at is 'Start of the run.';
comment on column ops.loader_runs.finished_at is 'End of the run (NULL while running).';
comment on column ops.loader_runs.rows_in is 'Input records of the handled datasets.';
comment on column ops.loader_runs.rows_loaded is 'Rows written.';
comment on column ops.loader_runs.rows_quarantined is 'Rows sent to market.quarantine.';
comment on column ops.loader_runs.rows_duplicate is 'Rows already stored (or repeated within the input) with identical values.';
comment on column ops.loader_runs.rows_skipped is 'Records of streams the job does not handle (e.g. depth updates); not part of rows_in.';
comment on column ops.loader_runs.batches is 'Committed batches.';
comment on column ops.loader_runs.error is 'Error message of a failed run.';
comment on column ops.loader_runs.args is 'Run arguments (never secrets).';
comment on column ops.loader_runs.host is 'Host the run executed on.';
comment on column ops.loader_runs.pid is 'Process id of the run.';

create table ops.watermarks (
    job text not null,
    source text not null,
    instrument_id integer not null,
    dataset text not null,
    timeframe text not null default '',
    high_water timestamptz not null,
    last_id bigint,
    run_id bigint references ops.loader_runs (run_id),
    updated_at timestamptz not null default now(),
    primary key (job, source, instrument_id, dataset, timeframe)
);

comment on table ops.watermarks is
'Incremental state per (job, source, instrument, dataset, timeframe): the newest record time (and '
'id) committed. A run continues from it; it only moves forward, in the same transaction as the '
'batch that carried the data.';
comment on column ops.watermarks.job is 'Loader job.';
comment on column ops.watermarks.source is 'Data source.';
comment on column ops.watermarks.instrument_id is 'Instrument (market.instruments).';
comment on column ops.watermarks.dataset is 'trades, quotes or candles.';
comment on column ops.watermarks.timeframe is 'Candle timeframe, empty string for trades and quotes.';
comment on column ops.watermarks.high_water is 'Newest record time committed.';
comment on column ops.watermarks.last_id is 'Newest record id committed (trade id, update id), when the source has one.';
comment on column ops.watermarks.run_id is 'Run that last moved the watermark.';
comment on column ops.watermarks.updated_at is 'When the watermark last moved.';

grant select, insert, update on ops.loader_runs, ops.watermarks to tsq_loader;
grant select on ops.loader_runs, ops.watermarks to tsq_analyst;
