-- Unknown state fails closed: no or stale equity snapshot, no or stale price (of the instrument
-- ordered, and of the held ones the total exposure adds up).
begin;
select plan(10);
\ir ../pgtap_fixtures/trading.sql
select pg_temp.open_position(:iid, 'buy', 1, 100) is null as never;

delete from trading.portfolio_snapshots;
select is((select (allowed, reason) from risk.check_order(:iid, 'buy', 1)),
    row(false, 'no equity snapshot: record one with trading.record_portfolio_snapshot'::text), 'no snapshot: refused');
select ok((select allowed from risk.check_order(:iid, 'sell', 1)), 'an exit still passes');
select throws_ok(format($$select trading.submit_order(%s, 'buy', 1)$$, :iid), 'TQR01', null, 'submit_order refuses too');
select trading.record_portfolio_snapshot(10000, 10000, now() - interval '2 days');
select alike((select reason from risk.check_order(:iid, 'buy', 1)), 'stale equity: the latest snapshot (%) is older than 1 day',
    'a snapshot older than max_snapshot_age: refused');
select trading.record_portfolio_snapshot(10000, 10000, now());

select market.register_instrument('binance', 'SOLUSDT') as sol \gset
select is((select reason from risk.check_order(:sol, 'buy', 1)),
    format('no price for instrument %s (no candle): cannot check the order', :sol), 'no candle: refused');
insert into market.candles (instrument_id, timeframe, open_time, open, high, low, close, source)
values (:sol, '1m', date_trunc('minute', now()) - interval '1 hour', 20, 20, 20, 20, 'pgtap');
select alike((select reason from risk.check_order(:sol, 'buy', 1)), 'stale price for instrument %',
    'a close older than max_price_age: refused');
select ok((select allowed from risk.check_order(:sol, 'buy', 1, 20)), 'a limit price is a known price');
select risk.set_limit('max_total_exposure', '100000');
delete from market.candles where instrument_id = :iid;
insert into market.candles (instrument_id, timeframe, open_time, open, high, low, close, source)
values (:iid, '1m', date_trunc('minute', now()) - interval '1 hour', 100, 100, 100, 100, 'pgtap');
select alike((select reason from risk.check_order(:iid2, 'buy', 1)),
    format('stale price for held instrument(s) %s: total exposure unknown (%%)', :iid),
    'a held instrument whose last close is older than max_price_age makes the total exposure unknown: refused');
delete from market.candles where instrument_id = :iid;
select alike((select reason from risk.check_order(:iid2, 'buy', 1)), 'no price for held instrument(s) %: total exposure unknown',
    'a held instrument without a price makes the total exposure unknown: refused');
select is((select count(*)::int from trading.portfolio_snapshots), 2, 'checking wrote nothing');

select * from finish();
rollback;
