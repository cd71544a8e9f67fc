-- bi.dispatches: what the dispatcher did with each trading signal, with the order it created.

create or replace view bi.dispatches as
select
    d.dispatch_id,
    d.signal_ref,
    d.signal_source as strategy,
    i.exchange,
    i.symbol,
    d.instrument_id,
    d.timeframe,
    d.bar_time,
    d.signal_time,
    d.direction,
    d.broker,
    d.dry_run,
    d.status,
    d.reason,
    d.client_order_id,
    o.broker_order_id,
    o.status as order_status,
    o.side,
    o.order_type,
    o.quantity,
    o.filled_quantity,
    o.average_fill_price,
    d.request,
    d.attempts,
    d.created_at,
    d.updated_at
from trading.dispatches as d
inner join market.instruments as i on d.instrument_id = i.instrument_id
left join trading.orders as o on d.client_order_id = o.client_order_id;

comment on view bi.dispatches is
'Dispatcher decisions, one per trading signal and mode (live / dry run): refused with the reason, '
'dry_run with the request that would have been sent, or the order created and its state.';
comment on column bi.dispatches.dispatch_id is 'Decision id.';
comment on column bi.dispatches.signal_ref is 'strategy/exchange:symbol/timeframe/bar time.';
comment on column bi.dispatches.strategy is 'Strategy (signal_source).';
comment on column bi.dispatches.exchange is 'Venue of the instrument.';
comment on column bi.dispatches.symbol is 'Canonical symbol.';
comment on column bi.dispatches.instrument_id is 'Instrument id.';
comment on column bi.dispatches.timeframe is 'Timeframe of the signal.';
comment on column bi.dispatches.bar_time is 'Open time of the signal''s bar.';
comment on column bi.dispatches.signal_time is 'When the signal could first be acted on.';
comment on column bi.dispatches.direction is 'BUY or SELL.';
comment on column bi.dispatches.broker is 'paper or mt5.';
comment on column bi.dispatches.dry_run is 'True for a DRY_RUN decision (nothing created or sent).';
comment on column bi.dispatches.status is 'refused, dry_run, sending, pending, acknowledged, rejected or failed.';
comment on column bi.dispatches.reason is 'Why (risk refusal, sizing, broker answer).';
comment on column bi.dispatches.client_order_id is 'Order created for the signal.';
comment on column bi.dispatches.broker_order_id is 'Broker''s id of that order.';
comment on column bi.dispatches.order_status is 'Status of the order (trading.orders.status).';
comment on column bi.dispatches.side is 'buy or sell.';
comment on column bi.dispatches.order_type is 'market or limit.';
comment on column bi.dispatches.quantity is 'Ordered quantity.';
comment on column bi.dispatches.filled_quantity is 'Filled so far.';
comment on column bi.dispatches.average_fill_price is 'Average fill price.';
comment on column bi.dispatches.request is 'Request sent (or that would be sent) with the sizing inputs.';
comment on column bi.dispatches.attempts is 'Send attempts.';
comment on column bi.dispatches.created_at is 'When the decision was committed.';
comment on column bi.dispatches.updated_at is 'Last change.';
