-- ops basics (seeds 000 and 002): events, system logs, settings, test results.

-- Section: events (seed 000 evenementset) ---------------------------------------------------
create table ops.events (
    event_id bigint generated always as identity primary key,
    occurred_at timestamptz not null default now(),
    source text not null,
    event_type text not null,
    severity text not null default 'info'
    check (severity in ('debug', 'info', 'warning', 'error', 'critical')),
    message text not null,
    details jsonb not null default '{}'::jsonb
);
create index events_occurred_at_idx on ops.events (occurred_at desc);
create index events_source_type_idx on ops.events (source, event_type, occurred_at desc);

comment on table ops.events is
'Business and pipeline events (a load finished, a kill switch tripped, a model was promoted).';
comment on column ops.events.occurred_at is 'When the event happened (UTC).';
comment on column ops.events.source is 'Component that raised it, e.g. loader:binance, scorer.';
comment on column ops.events.event_type is 'Machine-readable kind, e.g. load_finished.';
comment on column ops.events.severity is 'debug, info, warning, error or critical.';
comment on column ops.events.message is 'One human-readable sentence.';
comment on column ops.events.details is 'Structured details (never secrets).';

-- Section: system logs (seed 002 system_logs) -------------------------------------------------
create table ops.system_logs (
    log_id bigint generated always as identity primary key,
    logged_at timestamptz not null default now(),
    level text not null check (level in ('DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL')),
    component text not null,
    message text not null,
    details jsonb not null default '{}'::jsonb
);
create index system_logs_logged_at_idx on ops.system_logs (logged_at desc);
create index system_logs_level_idx on ops.system_logs (level, logged_at desc)
where level in ('ERROR', 'CRITICAL');

comment on table ops.system_logs is
'Application log lines worth keeping in the database (retention: 3 months by default).';
comment on column ops.system_logs.level is 'Python logging level name.';
comment on column ops.system_logs.component is 'Logger or module name.';
comment on column ops.system_logs.message is 'The log message (secrets are never logged).';

-- Section: settings (seed 002 bot_settings) ---------------------------------------------------
create table ops.settings (
    name text primary key check (name ~ '^[a-z][a-z0-9_.]*$'),
    value_type text not null
    check (
        value_type in ('text', 'integer', 'numeric', 'boolean', 'interval', 'timestamptz', 'json')
    ),
    value text not null,
    description text not null,
    updated_at timestamptz not null default now(),
    updated_by text not null default current_user
);

comment on table ops.settings is
'Typed runtime settings (seed 002 bot_settings). Change them with ops.set_setting(); read with ops.setting().';
comment on column ops.settings.name is 'Dotted lower-case name, e.g. risk.max_daily_loss_pct.';
comment on column ops.settings.value_type is 'Type the value must parse as: text, integer, numeric, boolean, interval, timestamptz or json.';
comment on column ops.settings.value is 'The value as text; it always parses as value_type.';
comment on column ops.settings.description is 'What the setting controls and its unit.';
comment on column ops.settings.updated_at is 'Last change (UTC).';
comment on column ops.settings.updated_by is 'Database role that made the last change.';

-- Section: test results (seed 000 testresult.resultats_tests) ----------------------------------
create table ops.test_results (
    test_result_id bigint generated always as identity primary key,
    run_id text not null,
    test_name text not null,
    status text not null
    check (status in ('passed', 'failed', 'error', 'skipped', 'xfailed', 'xpassed')),
    details text,
    duration_s double precision,
    database_mode text,
    recorded_at timestamptz not null default now()
);
create index test_results_run_idx on ops.test_results (run_id);
create index test_results_recorded_at_idx on ops.test_results (recorded_at desc);

comment on table ops.test_results is
'Results of test runs recorded on request (make test RECORD_TESTS=1 / pytest --record-results).';
comment on column ops.test_results.run_id is 'Identifies one test session (timestamp + host + pid).';
comment on column ops.test_results.test_name is 'pytest node id.';
comment on column ops.test_results.status is 'passed, failed, error, skipped, xfailed or xpassed.';
comment on column ops.test_results.details is 'Failure text or skip reason.';
comment on column ops.test_results.duration_s is 'Duration of the test call in seconds.';
comment on column ops.test_results.database_mode is 'postgresql or timescaledb: the mode the suite ran in.';

-- Section: grants ------------------------------------------------------------------------------
grant select on ops.events, ops.system_logs, ops.settings, ops.test_results
to tsq_analyst, tsq_trader;
grant select, insert on ops.events, ops.system_logs to tsq_loader, tsq_trader;
grant select on ops.settings to tsq_loader;
grant select, insert on ops.test_results to tsq_loader;
