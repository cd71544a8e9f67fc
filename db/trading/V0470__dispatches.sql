-- trading.dispatches: the dispatcher's decision about each trading signal (models_py/dispatcher.py,
-- docs/scorer-and-dispatch.md). One row per signal and mode (live or dry run): refused (no order),
-- dry_run (what would have been sent), or the order it created and where sending it stands. The
-- row is committed together with the order (trading.submit_order) before any network call; its
-- deadline bounds how long the request can still be executed by the broker, which is what lets a
-- restarted dispatcher decide, from the broker's order history, whether an unacknowledged order
-- exists there (exactly once). Written only through the functions in R__dispatches.sql.

create table trading.dispatches (
    dispatch_id bigint generated always as identity primary key,
    signal_source text not null,
    instrument_id integer not null references market.instruments (instrument_id),
    timeframe text not null,
    bar_time timestamptz not null,
    signal_time timestamptz not null,
    direction text not null,
    signal_ref text not null,
    broker text not null,
    dry_run boolean not null default false,
    status text not null,
    reason text,
    client_order_id text unique references trading.orders (client_order_id),
    request jsonb not null default '{}'::jsonb,
    response jsonb,
    attempts integer not null default 0,
    deadline timestamptz,
    run_id bigint references ops.loader_runs (run_id),
    created_at timestamptz not null default clock_timestamp(),
    updated_at timestamptz not null default clock_timestamp(),
    constraint dispatches_one_per_signal unique (signal_source, instrument_id, timeframe, bar_time, dry_run),
    constraint dispatches_direction_valid check (direction in ('BUY', 'SELL')),
    constraint dispatches_broker_valid check (broker in ('paper', 'mt5')),
    constraint dispatches_status_valid check (
        status in ('refused', 'dry_run', 'sending', 'pending', 'acknowledged', 'rejected', 'failed')
    ),
    constraint dispatches_order_when_sent check (
        (status in ('sending', 'pending', 'acknowledged', 'rejected', 'failed')) = (client_order_id is not null)
    ),
    constraint dispatches_dry_run_sends_nothing check (not dry_run or status in ('refused', 'dry_run')),
    constraint dispatches_attempts_non_negative check (attempts >= 0),
    constraint dispatches_request_object check (jsonb_typeof(request) = 'object')
);

create index dispatches_unresolved_idx on trading.dispatches (broker, dispatch_id)
where status in ('sending', 'pending');
create index dispatches_signal_time_idx on trading.dispatches (signal_time desc);

comment on table trading.dispatches is
'What the dispatcher decided for each trading signal (one row per signal, live and dry run '
'apart): refused (no order, reason says why), dry_run (request = what would have been sent), or '
'the order it created (client_order_id, committed before any network call) and how sending it '
'stands: sending (the request may be in flight until deadline), pending (known not executed, to '
'be sent again), acknowledged (the broker has it), rejected (the broker refused it), failed (given '
'up). Read bi.dispatches; written by trading.record_dispatch / trading.update_dispatch.';
comment on column trading.dispatches.dispatch_id is 'Surrogate key, in decision order.';
comment on column trading.dispatches.signal_source is 'Strategy (signal_source of the signal).';
comment on column trading.dispatches.instrument_id is 'Instrument of the signal.';
comment on column trading.dispatches.timeframe is 'Timeframe of the signal''s bar.';
comment on column trading.dispatches.bar_time is 'Open time of the bar the signal fired on.';
comment on column trading.dispatches.signal_time is 'Close of that bar: when the signal could first be acted on.';
comment on column trading.dispatches.direction is 'BUY or SELL.';
comment on column trading.dispatches.signal_ref is 'strategy/exchange:symbol/timeframe/bar time (also trading.orders.signal_ref).';
comment on column trading.dispatches.broker is 'paper or mt5.';
comment on column trading.dispatches.dry_run is 'True: DRY_RUN decision, nothing was created or sent.';
comment on column trading.dispatches.status is 'refused, dry_run, sending, pending, acknowledged, rejected or failed.';
comment on column trading.dispatches.reason is 'Why: the risk refusal, the sizing problem, the broker''s answer or error.';
comment on column trading.dispatches.client_order_id is 'The order created for the signal (NULL when none).';
comment on column trading.dispatches.request is 'The order request sent (or that would be sent) and the sizing inputs (equity, entry, stop).';
comment on column trading.dispatches.response is 'The broker''s last answer (structured result, no secrets).';
comment on column trading.dispatches.attempts is 'Send attempts committed so far (a new one only after the broker''s history proved the last did not execute).';
comment on column trading.dispatches.deadline is 'The request in flight is void after this time (the bridge refuses to execute it later).';
comment on column trading.dispatches.run_id is 'Dispatcher run (ops.loader_runs) that made the decision.';
comment on column trading.dispatches.created_at is 'When the decision was committed.';
comment on column trading.dispatches.updated_at is 'Last change.';

-- The dispatcher keeps its run records and lock with the loaders' (loaders/core/runs.py).
grant select, insert, update on ops.loader_runs to tsq_trader;
