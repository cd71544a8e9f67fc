-- Daily loss limit: equity against the day's opening balance, the day starting at midnight of a
-- configurable time zone.
begin;
select plan(9);
\ir ../pgtap_fixtures/trading.sql
select risk.set_limit('max_drawdown_pct', null);  -- the kill switch has its own file

-- The trading day, in two zones (2026-03-10 20:00 UTC is already 2026-03-11 05:00 in Tokyo).
select is(risk.day_start('2026-03-10 20:00+00'), '2026-03-10 00:00+00'::timestamptz, 'UTC day starts at 00:00 UTC');
select risk.set_limit('daily_loss_time_zone', 'Asia/Tokyo');
select is(risk.day_start('2026-03-10 20:00+00'), '2026-03-10 15:00+00'::timestamptz, 'a Tokyo day starts at 15:00 UTC');
select throws_ok($$select risk.set_limit('daily_loss_time_zone', 'Mars/Olympus')$$, '22023',
    'risk.set_limit: unknown time zone ''Mars/Olympus''', 'an unknown time zone is refused');

-- Opening balance: the last snapshot before the day started.
select trading.record_portfolio_snapshot(15000, 15000, '2026-03-09 23:00+00');
select trading.record_portfolio_snapshot(20000, 20000, '2026-03-10 14:00+00');
select trading.record_portfolio_snapshot(19000, 19000, '2026-03-10 16:00+00');
select is(risk.day_opening_balance('2026-03-10 20:00+00'), 20000::numeric, 'Tokyo day: 14:00 UTC was the day before');
select risk.set_limit('daily_loss_time_zone', 'UTC');
select is(risk.day_opening_balance('2026-03-10 20:00+00'), 15000::numeric,
    'UTC day: the 23:00 UTC snapshot of the day before');

-- Live: the day opened at 10000, equity is now 9400.
delete from trading.portfolio_snapshots where taken_at < '2026-03-11';
select trading.record_portfolio_snapshot(10000, 10000, risk.day_start(now()) - interval '1 hour');
select pg_temp.open_position(:iid, 'buy', 1, 100) is null as never;
select trading.record_portfolio_snapshot(10000, 9400, now() + interval '1 second');
select is((select reason from risk.check_order(:iid, 'buy', 1)),
    format('daily loss limit: equity 9400 is 6.00 %% below the day''s opening balance 10000 (limit 5.00 %%, day starts %s)',
           risk.day_start(now())),
    'equity 6 % below the opening balance stops entries (floating P/L counts)');
select risk.set_limit('max_daily_loss_pct', '0.10');
select ok((select allowed from risk.check_order(:iid, 'buy', 1)), 'within a 10 % limit it passes');
select risk.set_limit('max_daily_loss_pct', '0.05');
select is((select (allowed, reduces_position) from risk.check_order(:iid, 'sell', 1)), row(true, true),
    'the daily loss limit never stops an exit');
select is((select daily_pnl from risk.metrics()), -600::numeric, 'risk.metrics reports the daily P/L');

select * from finish();
rollback;
