-- Max order rate: at most max_orders_per_window orders per window; exits are never stopped.
begin;
select plan(5);
\ir ../pgtap_fixtures/trading.sql
select risk.set_limit('max_orders_per_window', '3');
select risk.set_limit('order_rate_window', '1 hour');

select lives_ok(format($$select trading.submit_order(%s, 'buy', 1) from generate_series(1, 2)$$, :iid), 'two orders');
select pg_temp.open_position(:iid, 'buy', 1, 100) is null as never;
select alike((select reason from risk.check_order(:iid, 'buy', 1)), 'max order rate: 3 orders in the current 01:00:00 window',
    'the fourth entry in the window is refused');
select throws_ok(format($$select trading.submit_order(%s, 'buy', 1)$$, :iid), 'TQR01',
    'trading.submit_order: refused by risk: max order rate: 3 orders in the current 01:00:00 window', 'by submit_order too');
select lives_ok(format($$select trading.submit_order(%s, 'sell', 1)$$, :iid), 'an exit passes');
update risk.order_rate set window_start = now() - interval '2 hours';
select ok((select allowed from risk.check_order(:iid, 'buy', 1)), 'a new window starts the count again');

select * from finish();
rollback;
