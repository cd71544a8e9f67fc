-- Risk limits, the trading state (ACTIVE / REDUCING / HALTED with the drawdown latch) and the
-- order-rate window. One row each (a singleton keyed by `id = true`), changed only through the
-- risk.* functions (db/risk/R__state.sql); every change is audited in trading.audit_log.
-- A NULL limit is a rule switched off.

create table risk.limits (
    id boolean primary key default true,
    max_position_quantity numeric,
    max_instrument_exposure numeric,
    max_total_exposure numeric,
    max_daily_loss_pct numeric default 0.05,
    max_drawdown_pct numeric default 0.20,
    max_orders_per_window integer default 100,
    order_rate_window interval not null default interval '1 second',
    max_price_age interval default interval '5 minutes',
    max_snapshot_age interval default interval '1 day',
    daily_loss_time_zone text not null default 'UTC',
    updated_at timestamptz not null default now(),
    updated_by text not null default session_user,
    constraint limits_singleton check (id),
    constraint limits_position_quantity_positive check (max_position_quantity > 0),
    constraint limits_instrument_exposure_positive check (max_instrument_exposure > 0),
    constraint limits_total_exposure_positive check (max_total_exposure > 0),
    constraint limits_daily_loss_fraction check (max_daily_loss_pct > 0 and max_daily_loss_pct <= 1),
    constraint limits_drawdown_fraction check (max_drawdown_pct > 0 and max_drawdown_pct <= 1),
    constraint limits_order_rate_positive check (max_orders_per_window > 0),
    constraint limits_order_rate_window_positive check (order_rate_window > interval '0'),
    constraint limits_price_age_positive check (max_price_age > interval '0'),
    constraint limits_snapshot_age_positive check (max_snapshot_age > interval '0')
);

insert into risk.limits (id) values (true);

comment on table risk.limits is
'The risk limits risk.check_order enforces before an order exists (one row; NULL = rule off). '
'Change with risk.set_limit(name, value) (audited). Limits stop entries, never exits.';
comment on column risk.limits.id is 'Always true: the table has one row.';
comment on column risk.limits.max_position_quantity is 'Largest absolute net position per instrument after an order (quantity).';
comment on column risk.limits.max_instrument_exposure is 'Largest notional per instrument after an order: |quantity| × price × contract size.';
comment on column risk.limits.max_total_exposure is 'Largest notional over all instruments after an order.';
comment on column risk.limits.max_daily_loss_pct is 'Daily loss limit: entries stop when equity is this fraction below the day''s opening balance.';
comment on column risk.limits.max_drawdown_pct is 'Kill switch: when equity falls this fraction below its peak, trading latches HALTED.';
comment on column risk.limits.max_orders_per_window is 'Order rate limit: at most this many orders per order_rate_window.';
comment on column risk.limits.order_rate_window is 'Length of the order-rate window (fixed windows).';
comment on column risk.limits.max_price_age is 'A price older than this (latest candle close) is unknown: entries fail closed.';
comment on column risk.limits.max_snapshot_age is 'An equity snapshot older than this is unknown: entries fail closed.';
comment on column risk.limits.daily_loss_time_zone is 'Time zone whose midnight starts the trading day for the daily loss limit (e.g. UTC, Europe/Athens for an MT5 server).';
comment on column risk.limits.updated_at is 'Last change.';
comment on column risk.limits.updated_by is 'Login role of the last change.';

create table risk.instrument_limits (
    instrument_id integer primary key references market.instruments (instrument_id) on delete cascade,
    max_position_quantity numeric,
    max_instrument_exposure numeric,
    updated_at timestamptz not null default now(),
    constraint instrument_limits_quantity_positive check (max_position_quantity > 0),
    constraint instrument_limits_exposure_positive check (max_instrument_exposure > 0)
);

comment on table risk.instrument_limits is
'Per-instrument overrides of the position limits (NULL = the global limit in risk.limits). '
'Change with risk.set_instrument_limit() (audited).';
comment on column risk.instrument_limits.instrument_id is 'Instrument.';
comment on column risk.instrument_limits.max_position_quantity is 'Largest absolute net position for this instrument.';
comment on column risk.instrument_limits.max_instrument_exposure is 'Largest notional for this instrument.';
comment on column risk.instrument_limits.updated_at is 'Last change.';

create table risk.trading_state (
    id boolean primary key default true,
    state text not null default 'ACTIVE',
    reason text not null default 'initial state',
    changed_at timestamptz not null default now(),
    changed_by text not null default session_user,
    peak_equity numeric,
    peak_at timestamptz,
    constraint trading_state_singleton check (id),
    constraint trading_state_valid check (state in ('ACTIVE', 'REDUCING', 'HALTED'))
);

insert into risk.trading_state (id) values (true);

comment on table risk.trading_state is
'Trading state (nautilus_trader''s): ACTIVE, REDUCING (only orders that reduce a position) or '
'HALTED (latched by the drawdown kill switch or set by a person; only exits pass until a person '
'calls risk.reset_trading_state). Holds the equity peak the kill switch trails. Audited.';
comment on column risk.trading_state.id is 'Always true: the table has one row.';
comment on column risk.trading_state.state is 'ACTIVE, REDUCING or HALTED.';
comment on column risk.trading_state.reason is 'Why the state last changed.';
comment on column risk.trading_state.changed_at is 'When the state last changed.';
comment on column risk.trading_state.changed_by is 'Who changed it (login role, plus tsquant.actor when set).';
comment on column risk.trading_state.peak_equity is 'Highest equity since the last reset (the drawdown reference).';
comment on column risk.trading_state.peak_at is 'When that peak was recorded.';

create table risk.order_rate (
    id boolean primary key default true,
    window_start timestamptz not null default '-infinity',
    order_count integer not null default 0,
    constraint order_rate_singleton check (id)
);

insert into risk.order_rate (id) values (true);

comment on table risk.order_rate is
'Order-rate counter of the current fixed window (risk.limits.order_rate_window). Updated by '
'trading.submit_order, which also locks this row so concurrent submissions are checked one at a time.';
comment on column risk.order_rate.id is 'Always true: the table has one row.';
comment on column risk.order_rate.window_start is 'Start of the current window.';
comment on column risk.order_rate.order_count is 'Orders submitted in the current window.';
