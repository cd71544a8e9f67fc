-- REDUCING: only orders that reduce an open position; set and left by a person, audited.
begin;
select plan(8);
\ir ../pgtap_fixtures/trading.sql
select pg_temp.open_position(:iid, 'buy', 3, 100) is null as never;

select risk.set_trading_state('REDUCING', 'winding down before the release');
select alike((select reason from risk.check_order(:iid, 'buy', 1)), 'trading is REDUCING (winding down before the release)%',
    'a new entry is refused');
select alike((select reason from risk.check_order(:iid2, 'sell', 1)), 'trading is REDUCING%',
    'opening a short elsewhere is refused');
select is((select (allowed, reduces_position) from risk.check_order(:iid, 'sell', 2)), row(true, true),
    'a partial exit passes');
select is((select (allowed, reduces_position) from risk.check_order(:iid, 'sell', 3)), row(true, true),
    'closing the whole position passes');
select is((select (allowed, reduces_position) from risk.check_order(:iid, 'sell', 4)), row(false, false),
    'a flip beyond the position is an entry: refused');
select lives_ok(format($$select trading.submit_order(%s, 'sell', 3)$$, :iid), 'submit_order accepts the exit');
select is((select reduces_position from trading.orders order by order_id desc limit 1), true,
    'the order is recorded as reducing the position');
select risk.set_trading_state('ACTIVE', 'release done');
select ok((select allowed from risk.check_order(:iid, 'buy', 1)), 'back to ACTIVE: entries pass');

select * from finish();
rollback;
