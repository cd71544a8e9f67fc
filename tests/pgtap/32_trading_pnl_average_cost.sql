-- Positions and round trips from fills, average-cost method, worked by hand:
--   o1 buy 2: fills 1 @ 100 (fee 1) and 1 @ 110 (fee 1)  → long 2 @ 105, realized −2
--   o2 sell 0.5 @ 120 (fee 0.5)                           → long 1.5 @ 105, realized −2 + 7.5 − 0.5 = 5
--   o3 sell 2.5 @ 100 (fee 2.5): closes 1.5 (−7.5, fee 1.5), opens short 1 @ 100 (fee 1)
--        round trip 1 CLOSED: pnl −2 + 7.5 − 0.5 − 7.5 − 1.5 = −4, entry 105, exit (60 + 150) / 2 = 105
--        realized 5 − 7.5 − 2.5 = −5
--   o4 buy 1 @ 90 (fee 0.5): round trip 2 CLOSED pnl −1 + 10 − 0.5 = 8.5; flat; realized 4.5
begin;
select plan(15);

select market.register_instrument('binance', 'BTCUSDT') as iid \gset
insert into market.candles (instrument_id, timeframe, open_time, open, high, low, close, source)
values (:iid, '1m', date_trunc('minute', now()) - interval '1 minute', 100, 101, 99, 100, 'pgtap');
select trading.record_portfolio_snapshot(10000, 10000, now() - interval '1 minute');

select trading.submit_order(:iid, 'buy', 2, p_client_order_id => 'o1');
select trading.set_order_status('o1', 'submitted');
select trading.record_fill('o1', 1, 100, 1);
select trading.record_fill('o1', 1, 110, 1);
select is((select (quantity, average_entry_price, realized_pnl) from trading.positions),
    row(2::numeric, 105::numeric, -2::numeric), 'two partial fills scale in: long 2 @ 105, realized −2 (fees)');
select is((select unrealized_pnl from bi.open_positions), -10::numeric,
    'unrealized P/L at the latest close 100: 2 × (100 − 105)');

select trading.submit_order(:iid, 'sell', 0.5, p_client_order_id => 'o2');
select trading.set_order_status('o2', 'submitted');
select trading.record_fill('o2', 0.5, 120, 0.5);
select is((select (quantity, average_entry_price, realized_pnl) from trading.positions),
    row(1.5::numeric, 105::numeric, 5::numeric), 'scaling out keeps the average: long 1.5 @ 105, realized 5');

select trading.submit_order(:iid, 'sell', 2.5, p_client_order_id => 'o3');
select trading.set_order_status('o3', 'submitted');
select trading.record_fill('o3', 2.5, 100, 2.5);
select is((select (quantity, average_entry_price, realized_pnl) from trading.positions),
    row(-1::numeric, 100::numeric, -5::numeric), 'a flip: short 1 @ 100, realized −5');
select is((select (status, entry_price, exit_price, quantity, pnl, fees) from trading.round_trips order by trade_id limit 1),
    row('CLOSED'::text, 105::numeric, 105::numeric, 2::numeric, -4::numeric, 4::numeric),
    'the first round trip closed: entry 105, exit 105, quantity 2, pnl −4 after 4 of fees');
select is((select round(pnl_percent, 6) from trading.round_trips order by trade_id limit 1), -1.904762::numeric,
    'pnl_percent = −4 / 210 × 100');
select is((select (direction, status, entry_price, pnl) from trading.round_trips order by trade_id offset 1),
    row('short'::text, 'OPEN'::text, 100::numeric, -1::numeric), 'the flip opened a short round trip with its share of the fee');

select trading.submit_order(:iid, 'buy', 1, p_client_order_id => 'o4');
select trading.set_order_status('o4', 'submitted');
select trading.record_fill('o4', 1, 90, 0.5);
select is((select (quantity, average_entry_price, realized_pnl, fees) from trading.positions),
    row(0::numeric, null::numeric, 4.5::numeric, 5.5::numeric), 'flat again: realized 4.5 after 5.5 of fees');
select is((select (status, exit_price, pnl) from trading.round_trips order by trade_id offset 1),
    row('CLOSED'::text, 90::numeric, 8.5::numeric), 'the short round trip closed at 90: pnl 8.5');
select is((select sum(pnl) from trading.round_trips), 4.5::numeric, 'round-trip P/L adds up to the realized P/L');
select is((select count(*)::int from bi.open_positions), 0, 'no open position');
select is((select balance from trading.portfolio_snapshots order by snapshot_id desc limit 1), 10004.5::numeric,
    'each fill''s snapshot carries the balance forward: 10000 + 4.5');
select is((select count(*)::int from trading.portfolio_snapshots where source = 'fill'), 5, 'one computed snapshot per fill');

-- The maintained rows equal a rebuild from the fills.
create temp table before_rebuild as
select direction, status, entry_time, entry_price, exit_time, exit_price, quantity, pnl, fees from trading.round_trips;
select is(trading.rebuild_positions(), 5, 'rebuild replays the 5 fills');
select is(
    (select count(*)::int from (
        (select direction, status, entry_time, entry_price, exit_time, exit_price, quantity, pnl, fees from trading.round_trips
         except all select * from before_rebuild)
        union all
        (select * from before_rebuild
         except all select direction, status, entry_time, entry_price, exit_time, exit_price, quantity, pnl, fees from trading.round_trips)
    ) as d),
    0, 'rebuilt round trips equal the maintained ones');

select * from finish();
rollback;
