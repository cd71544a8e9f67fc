-- The trading ledger (DESIGN.md §11 "fills are the truth"): strategies, orders with their status
-- state machine, fills, and the positions and round trips derived from the fills. Seed 003's
-- strategies/orders/positions/trades and seed 002's open_positions/trade_history live here.
-- Money and quantities are numeric (exact). Application roles only read these tables: every write
-- goes through the trading.* functions (db/trading/R__orders.sql, R__fills.sql), which keep the
-- derived tables in step and write the audit trail.

-- Section: strategies ---------------------------------------------------------------------------
create table trading.strategies (
    strategy_id integer generated always as identity primary key,
    name text not null unique,
    kind text not null,
    parameters jsonb not null default '{}'::jsonb,
    enabled boolean not null default true,
    timeframe text references market.timeframes (timeframe),
    dbt_strategy text,
    description text not null default '',
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint strategies_parameters_object check (jsonb_typeof(parameters) = 'object')
);

comment on table trading.strategies is
'Strategies that orders and backtests belong to (seed 003 strategies). dbt_strategy links to the '
'strategy declared in dbt_project (the signals mart names it in signal_source). Write with '
'trading.register_strategy().';
comment on column trading.strategies.strategy_id is 'Surrogate key.';
comment on column trading.strategies.name is 'Unique strategy name (the signal_source of its signals).';
comment on column trading.strategies.kind is 'Kind of rule, e.g. ma_cross, rsi_reversion, mtf_trend, model.';
comment on column trading.strategies.parameters is 'Rule parameters (JSON object).';
comment on column trading.strategies.enabled is 'False: submit_order refuses new entries for this strategy.';
comment on column trading.strategies.timeframe is 'Timeframe the strategy trades on, when it has one.';
comment on column trading.strategies.dbt_strategy is 'Name of the strategy declaration in dbt_project, when it comes from there.';
comment on column trading.strategies.description is 'What the strategy does, in one sentence.';
comment on column trading.strategies.created_at is 'When the strategy was registered.';
comment on column trading.strategies.updated_at is 'When the strategy row last changed.';

-- Section: order status state machine -----------------------------------------------------------
create table trading.order_status_transitions (
    from_status text not null,
    to_status text not null,
    primary key (from_status, to_status)
);

comment on table trading.order_status_transitions is
'The legal order status transitions: new → submitted → partially_filled → filled | cancelled | '
'rejected | expired. Every other change of trading.orders.status is refused by a trigger.';
comment on column trading.order_status_transitions.from_status is 'Status before the change.';
comment on column trading.order_status_transitions.to_status is 'Status after the change.';

insert into trading.order_status_transitions (from_status, to_status)
values
    ('new', 'submitted'),
    ('new', 'cancelled'),
    ('new', 'rejected'),
    ('submitted', 'partially_filled'),
    ('submitted', 'filled'),
    ('submitted', 'cancelled'),
    ('submitted', 'rejected'),
    ('submitted', 'expired'),
    ('partially_filled', 'partially_filled'),
    ('partially_filled', 'filled'),
    ('partially_filled', 'cancelled'),
    ('partially_filled', 'expired');

-- Section: orders -------------------------------------------------------------------------------
create table trading.orders (
    order_id bigint generated always as identity primary key,
    client_order_id text not null unique,
    instrument_id integer not null references market.instruments (instrument_id),
    strategy_id integer references trading.strategies (strategy_id),
    side text not null,
    order_type text not null default 'market',
    quantity numeric not null,
    limit_price numeric,
    stop_price numeric,
    stop_loss numeric,
    take_profit numeric,
    validator_score numeric,
    signal_ref text,
    broker_order_id text unique,
    status text not null default 'new',
    status_reason text,
    reduces_position boolean not null default false,
    filled_quantity numeric not null default 0,
    average_fill_price numeric,
    fees numeric not null default 0,
    created_at timestamptz not null default now(),
    submitted_at timestamptz,
    closed_at timestamptz,
    updated_at timestamptz not null default now(),
    created_by text not null default session_user,
    constraint orders_side_valid check (side in ('buy', 'sell')),
    constraint orders_type_valid check (order_type in ('market', 'limit', 'stop')),
    constraint orders_status_valid check (
        status in ('new', 'submitted', 'partially_filled', 'filled', 'cancelled', 'rejected', 'expired')
    ),
    constraint orders_quantity_positive check (quantity > 0),
    constraint orders_limit_price_valid check (
        (order_type = 'limit') = (limit_price is not null) and (limit_price is null or limit_price > 0)
    ),
    constraint orders_stop_price_valid check (
        (order_type = 'stop') = (stop_price is not null) and (stop_price is null or stop_price > 0)
    ),
    constraint orders_stop_loss_positive check (stop_loss > 0),
    constraint orders_take_profit_positive check (take_profit > 0),
    constraint orders_filled_within_quantity check (filled_quantity >= 0 and filled_quantity <= quantity),
    constraint orders_filled_status check ((status = 'filled') = (filled_quantity = quantity))
);

create index orders_instrument_idx on trading.orders (instrument_id, created_at desc);
create index orders_open_idx on trading.orders (status) where status in ('new', 'submitted', 'partially_filled');
create index orders_strategy_idx on trading.orders (strategy_id) where strategy_id is not null;

comment on table trading.orders is
'Orders (seed 003 orders). A row exists only if risk.check_order allowed it: trading.submit_order '
'runs every risk rule first. client_order_id is generated and committed before anything is sent '
'to a broker (exactly once). status follows trading.order_status_transitions.';
comment on column trading.orders.order_id is 'Surrogate key.';
comment on column trading.orders.client_order_id is 'Our unique id, sent to the broker as its client order id.';
comment on column trading.orders.instrument_id is 'Instrument traded.';
comment on column trading.orders.strategy_id is 'Strategy that decided the order (NULL: manual).';
comment on column trading.orders.side is 'buy or sell.';
comment on column trading.orders.order_type is 'market, limit or stop.';
comment on column trading.orders.quantity is 'Ordered quantity (base units or lots, exact).';
comment on column trading.orders.limit_price is 'Limit price (limit orders only).';
comment on column trading.orders.stop_price is 'Trigger price (stop orders only).';
comment on column trading.orders.stop_loss is 'Protective stop-loss price attached to the order.';
comment on column trading.orders.take_profit is 'Take-profit price attached to the order.';
comment on column trading.orders.validator_score is 'Score of the model that validated the signal (0–1).';
comment on column trading.orders.signal_ref is 'Reference of the signal behind the order (e.g. strategy/symbol/timeframe/bar).';
comment on column trading.orders.broker_order_id is 'The broker''s id once submitted.';
comment on column trading.orders.status is 'new, submitted, partially_filled, filled, cancelled, rejected or expired.';
comment on column trading.orders.status_reason is 'Why the status last changed (broker message, cancel reason).';
comment on column trading.orders.reduces_position is 'True when the order only reduces the open position (an exit) at submission.';
comment on column trading.orders.filled_quantity is 'Sum of the fills'' quantities.';
comment on column trading.orders.average_fill_price is 'Quantity-weighted average fill price.';
comment on column trading.orders.fees is 'Sum of the fills'' fees (account currency).';
comment on column trading.orders.created_at is 'When the order row was created (before sending).';
comment on column trading.orders.submitted_at is 'When the broker acknowledged it.';
comment on column trading.orders.closed_at is 'When it reached a final status (filled, cancelled, rejected, expired).';
comment on column trading.orders.updated_at is 'Last change.';
comment on column trading.orders.created_by is 'Login role that submitted it.';

-- Section: fills --------------------------------------------------------------------------------
create table trading.fills (
    fill_id bigint generated always as identity primary key,
    order_id bigint not null references trading.orders (order_id),
    instrument_id integer not null references market.instruments (instrument_id),
    side text not null,
    quantity numeric not null,
    price numeric not null,
    fee numeric not null default 0,
    fee_currency text,
    filled_at timestamptz not null,
    broker_fill_id text,
    recorded_at timestamptz not null default now(),
    constraint fills_side_valid check (side in ('buy', 'sell')),
    constraint fills_quantity_positive check (quantity > 0),
    constraint fills_price_positive check (price > 0),
    constraint fills_fee_non_negative check (fee >= 0),
    constraint fills_broker_fill_once unique (order_id, broker_fill_id)
);

create index fills_instrument_idx on trading.fills (instrument_id, fill_id);
create index fills_order_idx on trading.fills (order_id);

comment on table trading.fills is
'Executions, the truth of the ledger: positions, round trips, P/L and computed equity are derived '
'from these rows. Written by trading.record_fill(); never updated or deleted.';
comment on column trading.fills.fill_id is 'Surrogate key; also the order in which fills are applied.';
comment on column trading.fills.order_id is 'Order filled.';
comment on column trading.fills.instrument_id is 'Instrument (copied from the order).';
comment on column trading.fills.side is 'buy or sell (copied from the order).';
comment on column trading.fills.quantity is 'Executed quantity.';
comment on column trading.fills.price is 'Execution price.';
comment on column trading.fills.fee is 'Fee paid for this execution, account currency.';
comment on column trading.fills.fee_currency is 'Currency the broker charged the fee in, when reported.';
comment on column trading.fills.filled_at is 'Execution time at the broker (UTC).';
comment on column trading.fills.broker_fill_id is 'Broker''s execution id (recording the same one twice is refused).';
comment on column trading.fills.recorded_at is 'When the fill was recorded here.';

-- Section: positions and round trips (derived) ---------------------------------------------------
create table trading.positions (
    instrument_id integer primary key references market.instruments (instrument_id),
    quantity numeric not null default 0,
    average_entry_price numeric,
    realized_pnl numeric not null default 0,
    fees numeric not null default 0,
    open_trade_id bigint,
    last_fill_id bigint,
    updated_at timestamptz not null default now(),
    constraint positions_average_price check ((quantity = 0) = (average_entry_price is null))
);

comment on table trading.positions is
'Net position per instrument, derived from trading.fills by the average-cost method (see '
'docs/trading-and-risk.md): maintained by trading.record_fill, recomputable with '
'trading.rebuild_positions(). Seed 002 open_positions is bi.open_positions (with unrealized P/L).';
comment on column trading.positions.instrument_id is 'Instrument.';
comment on column trading.positions.quantity is 'Signed net quantity: positive long, negative short, 0 flat.';
comment on column trading.positions.average_entry_price is 'Average cost of the open quantity (NULL when flat).';
comment on column trading.positions.realized_pnl is 'Realized P/L since the first fill, net of every fee paid.';
comment on column trading.positions.fees is 'Fees paid since the first fill.';
comment on column trading.positions.open_trade_id is 'The OPEN round trip (trading.round_trips) while not flat.';
comment on column trading.positions.last_fill_id is 'Last fill applied.';
comment on column trading.positions.updated_at is 'Time of the last fill applied (its filled_at).';

create table trading.round_trips (
    trade_id bigint generated always as identity primary key,
    instrument_id integer not null references market.instruments (instrument_id),
    strategy_id integer references trading.strategies (strategy_id),
    direction text not null,
    status text not null default 'OPEN',
    entry_time timestamptz,
    entry_price numeric,
    exit_time timestamptz,
    exit_price numeric,
    quantity numeric not null default 0,
    exit_quantity numeric not null default 0,
    entry_notional numeric not null default 0,
    exit_notional numeric not null default 0,
    pnl numeric not null default 0,
    pnl_percent numeric,
    fees numeric not null default 0,
    stop_loss numeric,
    take_profit numeric,
    validator_score numeric,
    entry_order_id bigint references trading.orders (order_id),
    exit_order_id bigint references trading.orders (order_id),
    updated_at timestamptz not null default now(),
    constraint round_trips_direction_valid check (direction in ('long', 'short')),
    constraint round_trips_status_valid check (status in ('OPEN', 'CLOSED', 'CANCELLED'))
);

create index round_trips_instrument_idx on trading.round_trips (instrument_id, trade_id);
create index round_trips_open_idx on trading.round_trips (instrument_id) where status = 'OPEN';

comment on table trading.round_trips is
'Round-trip trades (seed 002 trade_history, seed 003 trades), derived from fills: one opens when '
'a position leaves flat, closes when it is flat again (a flip closes one and opens the next). '
'CANCELLED: an entry order that ended cancelled or expired without any fill.';
comment on column trading.round_trips.trade_id is 'Surrogate key.';
comment on column trading.round_trips.instrument_id is 'Instrument.';
comment on column trading.round_trips.strategy_id is 'Strategy of the opening order.';
comment on column trading.round_trips.direction is 'long or short.';
comment on column trading.round_trips.status is 'OPEN, CLOSED or CANCELLED.';
comment on column trading.round_trips.entry_time is 'Time of the first opening fill.';
comment on column trading.round_trips.entry_price is 'Quantity-weighted average price of the opening fills.';
comment on column trading.round_trips.exit_time is 'Time of the fill that made the position flat.';
comment on column trading.round_trips.exit_price is 'Quantity-weighted average price of the closing fills.';
comment on column trading.round_trips.quantity is 'Total quantity opened (scaling in adds to it).';
comment on column trading.round_trips.exit_quantity is 'Total quantity closed so far.';
comment on column trading.round_trips.entry_notional is 'Sum of quantity × price of the opening fills.';
comment on column trading.round_trips.exit_notional is 'Sum of quantity × price of the closing fills.';
comment on column trading.round_trips.pnl is 'Realized P/L of the round trip, net of its fees (average cost).';
comment on column trading.round_trips.pnl_percent is 'pnl / entry_notional × 100.';
comment on column trading.round_trips.fees is 'Fees of the round trip''s fills (a flip fill''s fee is split pro rata).';
comment on column trading.round_trips.stop_loss is 'Stop loss of the opening order.';
comment on column trading.round_trips.take_profit is 'Take profit of the opening order.';
comment on column trading.round_trips.validator_score is 'Validator score of the opening order.';
comment on column trading.round_trips.entry_order_id is 'Opening order.';
comment on column trading.round_trips.exit_order_id is 'Order whose fill closed the round trip.';
comment on column trading.round_trips.updated_at is 'Time of the last fill applied.';

-- Section: portfolio snapshots -------------------------------------------------------------------
create table trading.portfolio_snapshots (
    snapshot_id bigint generated always as identity primary key,
    taken_at timestamptz not null default now(),
    balance numeric not null,
    equity numeric not null,
    margin_used numeric,
    source text not null default 'broker',
    details jsonb not null default '{}'::jsonb,
    constraint portfolio_snapshots_source_valid check (source in ('broker', 'fill', 'manual'))
);

create index portfolio_snapshots_taken_at_idx on trading.portfolio_snapshots (taken_at desc, snapshot_id desc);

comment on table trading.portfolio_snapshots is
'Account balance and equity over time (seed 003 portfolio): broker account snapshots and the '
'snapshot trading.record_fill computes after each fill. Risk reads equity, the day''s opening '
'balance and the equity peak from here. Write with trading.record_portfolio_snapshot().';
comment on column trading.portfolio_snapshots.snapshot_id is 'Surrogate key.';
comment on column trading.portfolio_snapshots.taken_at is 'When the balance and equity were valid (UTC).';
comment on column trading.portfolio_snapshots.balance is 'Cash balance (realized), account currency.';
comment on column trading.portfolio_snapshots.equity is 'Balance plus floating P/L (fees and swaps included).';
comment on column trading.portfolio_snapshots.margin_used is 'Margin in use, when the broker reports it.';
comment on column trading.portfolio_snapshots.source is 'broker (account query), fill (computed after a fill) or manual.';
comment on column trading.portfolio_snapshots.details is 'Anything else the source reported.';

-- Section: audit trail ----------------------------------------------------------------------------
create table trading.audit_log (
    audit_id bigint generated always as identity primary key,
    occurred_at timestamptz not null default clock_timestamp(),
    actor text not null,
    db_role text not null,
    table_name text not null,
    operation text not null,
    row_key text,
    old_row jsonb,
    new_row jsonb,
    transaction_id bigint not null default txid_current(),
    constraint audit_log_operation_valid check (operation in ('INSERT', 'UPDATE', 'DELETE'))
);

create index audit_log_table_idx on trading.audit_log (table_name, occurred_at desc);

comment on table trading.audit_log is
'Append-only audit trail (seed 003 audit_logs): every change to orders, fills, strategies, risk '
'limits and the trading state, with who, when and the old and new row. No role can update or '
'delete it (trigger), application roles only read it.';
comment on column trading.audit_log.audit_id is 'Surrogate key, in order of writing.';
comment on column trading.audit_log.occurred_at is 'Wall-clock time of the change.';
comment on column trading.audit_log.actor is 'Who: the login role, plus the tsquant.actor setting when a person set it.';
comment on column trading.audit_log.db_role is 'Role the change ran as (tsq_owner inside the ledger functions).';
comment on column trading.audit_log.table_name is 'Schema-qualified table changed.';
comment on column trading.audit_log.operation is 'INSERT, UPDATE or DELETE.';
comment on column trading.audit_log.row_key is 'Primary key of the changed row, as text.';
comment on column trading.audit_log.old_row is 'Row before the change (NULL for INSERT).';
comment on column trading.audit_log.new_row is 'Row after the change (NULL for DELETE).';
comment on column trading.audit_log.transaction_id is 'Transaction that made the change.';
