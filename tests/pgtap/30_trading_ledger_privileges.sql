-- The trading ledger is written only through functions; the audit trail is append-only.
begin;
select plan(16);

-- Fixture: one instrument with a fresh candle, an equity snapshot, generous limits.
select market.register_instrument('binance', 'BTCUSDT') as iid \gset
insert into market.candles (instrument_id, timeframe, open_time, open, high, low, close, source)
values (:iid, '1m', date_trunc('minute', now()) - interval '1 minute', 100, 101, 99, 100, 'pgtap');
select trading.record_portfolio_snapshot(10000, 10000, now() - interval '1 minute');

select is(
    (select array_agg(format('%s %s', r, c.oid::regclass) order by 1)
     from pg_class as c join pg_namespace as n on n.oid = c.relnamespace,
          unnest(array['tsq_loader', 'tsq_analyst', 'tsq_trader']) as r
     where n.nspname in ('trading', 'risk') and c.relkind in ('r', 'p', 'v')
       and has_table_privilege(r, c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE')),
    null,
    'no application role may INSERT, UPDATE, DELETE or TRUNCATE any trading or risk table'
);

set local role tsq_trader;
select throws_ok(
    format($$insert into trading.orders (client_order_id, instrument_id, side, quantity) values ('x', %s, 'buy', 1)$$, :iid),
    '42501', null, 'tsq_trader cannot insert an order directly (risk checks would be skipped)');
select throws_ok($$update trading.positions set quantity = 5$$, '42501', null, 'tsq_trader cannot edit positions');
select throws_ok($$insert into trading.fills (order_id, instrument_id, side, quantity, price, filled_at) values (1, 1, 'buy', 1, 1, now())$$,
    '42501', null, 'tsq_trader cannot insert fills directly');
select throws_ok($$update risk.limits set max_drawdown_pct = 1$$, '42501', null, 'tsq_trader cannot change risk limits');
select throws_ok($$update risk.trading_state set state = 'ACTIVE'$$, '42501', null, 'tsq_trader cannot change the trading state');
select throws_ok($$select risk.set_limit('max_drawdown_pct', '1')$$, '42501', null, 'tsq_trader cannot call risk.set_limit');
select throws_ok($$select risk.reset_trading_state('me')$$, '42501', null, 'tsq_trader cannot reset the kill switch');
select lives_ok(
    format($$select trading.submit_order(%s, 'buy', 1, p_client_order_id => 'pgtap-1')$$, :iid),
    'tsq_trader submits an order through trading.submit_order');
select lives_ok($$select trading.set_order_status('pgtap-1', 'submitted', null, 'B-1')$$, 'tsq_trader marks it submitted');
select lives_ok($$select trading.record_fill('pgtap-1', 1, 100, 0.1)$$, 'tsq_trader records its fill');
select throws_ok($$delete from trading.audit_log$$, '42501', null, 'tsq_trader cannot delete audit rows');
reset role;

select is(
    (select array_agg(operation || ' ' || table_name order by audit_id) from trading.audit_log
     where table_name in ('trading.orders', 'trading.fills')),
    array['INSERT trading.orders', 'UPDATE trading.orders', 'INSERT trading.fills', 'UPDATE trading.orders'],
    'every change to orders and fills is in the audit trail, in order'
);
select is(
    (select new_row ->> 'status' from trading.audit_log where table_name = 'trading.orders' order by audit_id desc limit 1),
    'filled', 'the audit row holds the new row');

-- Even the owner cannot rewrite history.
set local role tsq_owner;
select throws_ok($$update trading.audit_log set actor = 'nobody'$$, '42501',
    'trading.audit_log is append-only: UPDATE is not allowed', 'the owner cannot update the audit trail');
select throws_ok($$truncate trading.audit_log$$, '42501',
    'trading.audit_log is append-only: TRUNCATE is not allowed', 'nor truncate it');
reset role;

select * from finish();
rollback;
