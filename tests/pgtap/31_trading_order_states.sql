-- Order status state machine: new → submitted → partially_filled → filled | cancelled | rejected | expired.
begin;
select plan(12);

select market.register_instrument('binance', 'BTCUSDT') as iid \gset
insert into market.candles (instrument_id, timeframe, open_time, open, high, low, close, source)
values (:iid, '1m', date_trunc('minute', now()) - interval '1 minute', 100, 101, 99, 100, 'pgtap');
select trading.record_portfolio_snapshot(10000, 10000, now() - interval '1 minute');

select trading.submit_order(:iid, 'buy', 2, p_client_order_id => 'a');
select is((select status from trading.orders where client_order_id = 'a'), 'new', 'a submitted order starts as new');
select throws_ok($$select trading.record_fill('a', 1, 100)$$, '55000',
    'trading.record_fill: order a is new, only submitted or partially filled orders take fills', 'a new order takes no fill');
select trading.set_order_status('a', 'submitted', null, 'B-a');
select trading.record_fill('a', 0.5, 100);
select is((select status from trading.orders where client_order_id = 'a'), 'partially_filled', 'a partial fill: partially_filled');
select trading.record_fill('a', 0.5, 101);
select is((select (status, filled_quantity, average_fill_price) from trading.orders where client_order_id = 'a'),
    row('partially_filled'::text, 1.0::numeric, 100.5::numeric), 'a second partial fill: still partial, average price 100.5');
select throws_ok($$select trading.record_fill('a', 1.5, 100)$$, '22023',
    'trading.record_fill: fill of 1.5 would overfill order a (1.0 of 2 filled)', 'an overfill is refused');
select trading.record_fill('a', 1, 102);
select is((select status from trading.orders where client_order_id = 'a'), 'filled', 'the last fill: filled');
select throws_ok($$select trading.set_order_status('a', 'cancelled')$$, '55000',
    'trading.orders: illegal status transition filled -> cancelled for order a', 'a filled order cannot be cancelled');
select throws_ok($$update trading.orders set status = 'submitted' where client_order_id = 'a'$$, '55000',
    'trading.orders: illegal status transition filled -> submitted for order a', 'even a direct update by the owner is refused');
select throws_ok($$update trading.orders set quantity = 5 where client_order_id = 'a'$$, '55000', null,
    'what was ordered cannot change');

select trading.submit_order(:iid, 'buy', 1, p_client_order_id => 'b');
select trading.set_order_status('b', 'cancelled', 'changed my mind');
select is((select (status, status_reason) from trading.orders where client_order_id = 'b'),
    row('cancelled'::text, 'changed my mind'::text), 'new -> cancelled with a reason');
select is((select status from trading.round_trips where entry_order_id = (select order_id from trading.orders where client_order_id = 'b')),
    'CANCELLED', 'an entry cancelled without a fill is a CANCELLED round trip');
select throws_ok($$select trading.set_order_status('b', 'submitted')$$, '55000',
    'trading.orders: illegal status transition cancelled -> submitted for order b', 'cancelled is final');

select * from finish();
rollback;
