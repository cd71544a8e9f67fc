-- bi views over the trading ledger and the risk state (seed 002 open_positions, trade_history,
-- bot_settings; seed 003 orders, positions, trades, strategies, portfolio, audit_logs).

create or replace view bi.strategies as
select s.strategy_id, s.name, s.kind, s.parameters, s.enabled, s.timeframe, s.dbt_strategy, s.description, s.updated_at
from trading.strategies as s;

comment on view bi.strategies is 'Strategies (seed 003 strategies): name, kind, parameters, enabled.';
comment on column bi.strategies.strategy_id is 'Strategy id.';
comment on column bi.strategies.name is 'Strategy name (signal_source of its signals).';
comment on column bi.strategies.kind is 'Kind of rule.';
comment on column bi.strategies.parameters is 'Rule parameters.';
comment on column bi.strategies.enabled is 'Whether it may open positions.';
comment on column bi.strategies.timeframe is 'Timeframe it trades on.';
comment on column bi.strategies.dbt_strategy is 'Its declaration in dbt_project, if any.';
comment on column bi.strategies.description is 'What it does.';
comment on column bi.strategies.updated_at is 'Last change.';

create or replace view bi.orders as
select
    o.order_id, o.client_order_id, i.exchange, i.symbol, o.instrument_id, s.name as strategy, o.side,
    o.order_type, o.quantity, o.limit_price, o.stop_price, o.stop_loss, o.take_profit,
    o.validator_score, o.signal_ref, o.broker_order_id, o.status, o.status_reason,
    o.reduces_position, o.filled_quantity, o.average_fill_price, o.fees, o.created_at,
    o.submitted_at, o.closed_at
from trading.orders as o
inner join market.instruments as i on o.instrument_id = i.instrument_id
left join trading.strategies as s on o.strategy_id = s.strategy_id;

comment on view bi.orders is 'Orders with symbol and strategy name (seed 003 orders).';
comment on column bi.orders.order_id is 'Order id.';
comment on column bi.orders.client_order_id is 'Our unique client order id.';
comment on column bi.orders.exchange is 'Venue.';
comment on column bi.orders.symbol is 'Canonical symbol.';
comment on column bi.orders.instrument_id is 'Instrument id.';
comment on column bi.orders.strategy is 'Strategy name (NULL: manual).';
comment on column bi.orders.side is 'buy or sell.';
comment on column bi.orders.order_type is 'market, limit or stop.';
comment on column bi.orders.quantity is 'Ordered quantity.';
comment on column bi.orders.limit_price is 'Limit price.';
comment on column bi.orders.stop_price is 'Stop trigger price.';
comment on column bi.orders.stop_loss is 'Attached stop loss.';
comment on column bi.orders.take_profit is 'Attached take profit.';
comment on column bi.orders.validator_score is 'Validator score.';
comment on column bi.orders.signal_ref is 'Signal behind the order.';
comment on column bi.orders.broker_order_id is 'Broker id.';
comment on column bi.orders.status is 'Order status.';
comment on column bi.orders.status_reason is 'Why the status last changed.';
comment on column bi.orders.reduces_position is 'True for an exit (reduces the open position).';
comment on column bi.orders.filled_quantity is 'Filled so far.';
comment on column bi.orders.average_fill_price is 'Average fill price.';
comment on column bi.orders.fees is 'Fees paid.';
comment on column bi.orders.created_at is 'Created (before sending).';
comment on column bi.orders.submitted_at is 'Acknowledged by the broker.';
comment on column bi.orders.closed_at is 'Reached a final status.';

create or replace view bi.fills as
select f.fill_id, f.order_id, o.client_order_id, i.symbol, f.instrument_id, f.side, f.quantity, f.price, f.fee, f.filled_at
from trading.fills as f
inner join trading.orders as o on f.order_id = o.order_id
inner join market.instruments as i on f.instrument_id = i.instrument_id;

comment on view bi.fills is 'Executions (the truth positions and P/L are derived from).';
comment on column bi.fills.fill_id is 'Fill id.';
comment on column bi.fills.order_id is 'Order id.';
comment on column bi.fills.client_order_id is 'Client order id.';
comment on column bi.fills.symbol is 'Canonical symbol.';
comment on column bi.fills.instrument_id is 'Instrument id.';
comment on column bi.fills.side is 'buy or sell.';
comment on column bi.fills.quantity is 'Executed quantity.';
comment on column bi.fills.price is 'Execution price.';
comment on column bi.fills.fee is 'Fee.';
comment on column bi.fills.filled_at is 'Execution time.';

create or replace view bi.open_positions as
select
    p.instrument_id,
    i.exchange,
    i.symbol,
    case when p.quantity > 0 then 'long' else 'short' end as side,
    p.quantity,
    p.average_entry_price,
    lc.price as last_close,
    lc.price_time as last_close_time,
    p.quantity * (lc.price::numeric - p.average_entry_price) * coalesce(sp.contract_size, 1) as unrealized_pnl,
    p.realized_pnl,
    t.stop_loss,
    t.take_profit,
    t.entry_time as opened_at,
    p.updated_at as last_update
from trading.positions as p
inner join market.instruments as i on p.instrument_id = i.instrument_id
left join market.instrument_trading_specs as sp on p.instrument_id = sp.instrument_id
left join trading.round_trips as t on p.open_trade_id = t.trade_id
cross join lateral market.latest_close(p.instrument_id) as lc
where p.quantity <> 0;

comment on view bi.open_positions is
'Open positions (seed 002 open_positions), derived from fills: quantity, average entry, '
'unrealized P/L at the latest candle close, realized P/L, last update.';
comment on column bi.open_positions.instrument_id is 'Instrument id.';
comment on column bi.open_positions.exchange is 'Venue.';
comment on column bi.open_positions.symbol is 'Canonical symbol.';
comment on column bi.open_positions.side is 'long or short.';
comment on column bi.open_positions.quantity is 'Signed net quantity.';
comment on column bi.open_positions.average_entry_price is 'Average cost of the open quantity.';
comment on column bi.open_positions.last_close is 'Latest 1m close (the mark price).';
comment on column bi.open_positions.last_close_time is 'When that close was printed.';
comment on column bi.open_positions.unrealized_pnl is 'quantity × (last close − average entry) × contract size; NULL without a candle.';
comment on column bi.open_positions.realized_pnl is 'Realized P/L of the instrument since the first fill, net of fees.';
comment on column bi.open_positions.stop_loss is 'Stop loss of the opening order.';
comment on column bi.open_positions.take_profit is 'Take profit of the opening order.';
comment on column bi.open_positions.opened_at is 'First fill of the open round trip.';
comment on column bi.open_positions.last_update is 'Time of the last fill applied.';

create or replace view bi.trade_history as
select
    t.trade_id, i.exchange, i.symbol, t.instrument_id, s.name as strategy, t.direction, t.status,
    t.entry_time, t.entry_price, t.exit_time, t.exit_price, t.quantity, t.pnl, t.pnl_percent,
    t.fees, t.stop_loss, t.take_profit, t.validator_score
from trading.round_trips as t
inner join market.instruments as i on t.instrument_id = i.instrument_id
left join trading.strategies as s on t.strategy_id = s.strategy_id;

comment on view bi.trade_history is
'Round-trip trades (seed 002 trade_history): entry/exit price and time, quantity, pnl, '
'pnl_percent, stop loss, take profit, validator score, status OPEN/CLOSED/CANCELLED.';
comment on column bi.trade_history.trade_id is 'Round-trip id.';
comment on column bi.trade_history.exchange is 'Venue.';
comment on column bi.trade_history.symbol is 'Canonical symbol.';
comment on column bi.trade_history.instrument_id is 'Instrument id.';
comment on column bi.trade_history.strategy is 'Strategy of the opening order.';
comment on column bi.trade_history.direction is 'long or short.';
comment on column bi.trade_history.status is 'OPEN, CLOSED or CANCELLED.';
comment on column bi.trade_history.entry_time is 'First opening fill.';
comment on column bi.trade_history.entry_price is 'Average opening price.';
comment on column bi.trade_history.exit_time is 'Fill that made the position flat.';
comment on column bi.trade_history.exit_price is 'Average closing price.';
comment on column bi.trade_history.quantity is 'Quantity opened.';
comment on column bi.trade_history.pnl is 'Realized P/L net of fees.';
comment on column bi.trade_history.pnl_percent is 'pnl / entry notional × 100.';
comment on column bi.trade_history.fees is 'Fees of the round trip.';
comment on column bi.trade_history.stop_loss is 'Stop loss.';
comment on column bi.trade_history.take_profit is 'Take profit.';
comment on column bi.trade_history.validator_score is 'Validator score.';

create or replace view bi.portfolio as
select s.snapshot_id, s.taken_at, s.balance, s.equity, s.margin_used, s.source
from trading.portfolio_snapshots as s;

comment on view bi.portfolio is 'Portfolio snapshots (seed 003 portfolio): balance and equity over time.';
comment on column bi.portfolio.snapshot_id is 'Snapshot id.';
comment on column bi.portfolio.taken_at is 'When the values were valid.';
comment on column bi.portfolio.balance is 'Cash balance.';
comment on column bi.portfolio.equity is 'Balance plus floating P/L.';
comment on column bi.portfolio.margin_used is 'Margin in use.';
comment on column bi.portfolio.source is 'broker, fill or manual.';

create or replace view bi.audit_logs as
select a.audit_id, a.occurred_at, a.actor, a.table_name, a.operation, a.row_key, a.old_row, a.new_row
from trading.audit_log as a;

comment on view bi.audit_logs is 'The append-only audit trail (seed 003 audit_logs).';
comment on column bi.audit_logs.audit_id is 'Audit id.';
comment on column bi.audit_logs.occurred_at is 'When.';
comment on column bi.audit_logs.actor is 'Who.';
comment on column bi.audit_logs.table_name is 'Table changed.';
comment on column bi.audit_logs.operation is 'INSERT, UPDATE or DELETE.';
comment on column bi.audit_logs.row_key is 'Key of the row.';
comment on column bi.audit_logs.old_row is 'Row before.';
comment on column bi.audit_logs.new_row is 'Row after.';

-- risk.metrics() is security invoker over trading tables analysts cannot read: bi.risk_state
-- reads it through this definer function, so analysts and BI logins see the state, not the ledger.
create or replace function bi._risk_metrics()
returns table (
    drawdown numeric,
    daily_pnl numeric,
    peak_balance numeric,
    last_balance numeric,
    equity numeric,
    day_opening_balance numeric,
    day_start timestamptz,
    trading_state text,
    state_reason text,
    snapshot_at timestamptz
)
language sql
stable
security definer
set search_path = ''
begin atomic
    select
        m.drawdown, m.daily_pnl, m.peak_balance, m.last_balance, m.equity, m.day_opening_balance,
        m.day_start, m.trading_state, m.state_reason, m.snapshot_at
    from risk.metrics() as m;
end;

comment on function bi._risk_metrics() is 'Private: risk.metrics() for bi.risk_state (definer rights).';

create or replace view bi.risk_state as
select
    m.trading_state, m.state_reason, m.equity, m.last_balance, m.peak_balance, m.drawdown, m.daily_pnl,
    m.day_opening_balance, m.day_start, m.snapshot_at, l.max_position_quantity,
    l.max_instrument_exposure, l.max_total_exposure, l.max_daily_loss_pct, l.max_drawdown_pct,
    l.max_orders_per_window, l.order_rate_window, l.daily_loss_time_zone
from bi._risk_metrics() as m
cross join risk.limits as l;

comment on view bi.risk_state is 'The risk state and limits in one row: trading state, equity, drawdown, daily P/L.';
comment on column bi.risk_state.trading_state is 'ACTIVE, REDUCING or HALTED.';
comment on column bi.risk_state.state_reason is 'Why the state last changed.';
comment on column bi.risk_state.equity is 'Latest equity.';
comment on column bi.risk_state.last_balance is 'Latest balance.';
comment on column bi.risk_state.peak_balance is 'Equity peak the kill switch trails.';
comment on column bi.risk_state.drawdown is 'Drawdown from the peak (negative fraction).';
comment on column bi.risk_state.daily_pnl is 'Equity minus the day''s opening balance.';
comment on column bi.risk_state.day_opening_balance is 'Balance the day opened with.';
comment on column bi.risk_state.day_start is 'Start of the trading day.';
comment on column bi.risk_state.snapshot_at is 'Time of the latest snapshot.';
comment on column bi.risk_state.max_position_quantity is 'Limit: max position size.';
comment on column bi.risk_state.max_instrument_exposure is 'Limit: max exposure per instrument.';
comment on column bi.risk_state.max_total_exposure is 'Limit: max total exposure.';
comment on column bi.risk_state.max_daily_loss_pct is 'Limit: daily loss fraction.';
comment on column bi.risk_state.max_drawdown_pct is 'Limit: drawdown fraction of the kill switch.';
comment on column bi.risk_state.max_orders_per_window is 'Limit: orders per window.';
comment on column bi.risk_state.order_rate_window is 'Order-rate window.';
comment on column bi.risk_state.daily_loss_time_zone is 'Time zone of the trading day.';

create or replace view bi.bot_settings as
select s.name, s.value_type, s.value, s.description, s.updated_at, s.updated_by
from ops.settings as s;

comment on view bi.bot_settings is 'Runtime settings (seed 002 bot_settings = ops.settings).';
comment on column bi.bot_settings.name is 'Setting name.';
comment on column bi.bot_settings.value_type is 'Type of the value.';
comment on column bi.bot_settings.value is 'Value as text.';
comment on column bi.bot_settings.description is 'What it controls.';
comment on column bi.bot_settings.updated_at is 'Last change.';
comment on column bi.bot_settings.updated_by is 'Who changed it.';
