-- Max drawdown kill switch: trails the equity peak, latches HALTED, only a person resets it (audited).
begin;
select plan(14);
\ir ../pgtap_fixtures/trading.sql
select risk.set_limit('max_drawdown_pct', '0.10');
select risk.set_limit('max_daily_loss_pct', null);  -- the daily limit has its own file
select pg_temp.open_position(:iid, 'buy', 2, 100) is null as never;

select trading.record_portfolio_snapshot(11000, 11000, now() + interval '1 second');
select is((select peak_balance from risk.metrics()), 11000::numeric, 'the peak trails the equity up');
select trading.record_portfolio_snapshot(9950, 9950, now() + interval '2 seconds');
select is((select (trading_state, round(drawdown, 6)) from risk.metrics()), row('ACTIVE'::text, -0.095455::numeric),
    '9.5 % below the peak: still ACTIVE');
select ok((select allowed from risk.check_order(:iid, 'buy', 1)), 'entries still pass');
select trading.record_portfolio_snapshot(9899, 9899, now() + interval '3 seconds');
select is((select state from risk.trading_state), 'HALTED', '10.01 % below the peak: HALTED');
select is((select reason from risk.trading_state),
    'kill switch: equity 9899 is 10.01 % below the peak 11000 (limit 10.00 %)', 'with the reason');
select is((select count(*)::int from ops.events where event_type = 'kill_switch_tripped' and severity = 'critical'), 1,
    'a critical event is raised');
select alike((select reason from risk.check_order(:iid, 'buy', 1)), 'trading is HALTED%', 'entries are refused');
select is((select (allowed, reduces_position) from risk.check_order(:iid, 'sell', 1)), row(true, true),
    'exits still pass (limits stop entries, never exits)');

select trading.record_portfolio_snapshot(12000, 12000, now() + interval '4 seconds');
select is((select state from risk.trading_state), 'HALTED', 'equity recovering does not unlatch it');
select throws_ok($$select risk.set_trading_state('ACTIVE', 'looks fine')$$, '55000', null,
    'set_trading_state cannot leave HALTED');
select throws_ok($$select risk.reset_trading_state('  ')$$, '22023', 'risk.reset_trading_state: give a reason',
    'a reset needs a reason');
set local tsquant.actor = 'alice';
select risk.reset_trading_state('drawdown reviewed');
select is((select (state, reason, peak_equity) from risk.trading_state),
    row('ACTIVE'::text, 'reset: drawdown reviewed'::text, 12000::numeric),
    'a person''s reset: ACTIVE, the peak restarts at the current equity');
select is((select new_row ->> 'state' from trading.audit_log
           where table_name = 'risk.trading_state' and actor like '%(alice)' order by audit_id desc limit 1),
    'ACTIVE', 'the reset is audited with who did it');
select ok((select allowed from risk.check_order(:iid, 'buy', 1)), 'entries pass again');

select * from finish();
rollback;
