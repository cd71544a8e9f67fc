-- risk.position_size: MetaTrader-style sizing, worked by hand (REFERENCE.md §3).
begin;
select plan(11);

-- EURUSD, 1 lot = 100000, tick 0.00001 worth 1 per lot; 1 % of 10000 = 100 of risk money.
-- Stop 50 pips away: 0.0050 / 0.00001 = 500 ticks × 1 = 500 per lot → 100 / 500 = 0.20 lots.
select is(risk.position_size(10000, 0.01, 1.1000, 1.0950, 0.00001, 1, 0.01, 0.01, 100), 0.20::numeric,
    '1 % of 10000 with a 50-pip stop: 0.20 lots exactly (no off-by-one below an exact multiple)');
select is(risk.position_size(10000, 0.01, 1.1000, 1.0950, 0.00001, 1, 0.01, 0.01, 100, 7), 0.19::numeric,
    'a commission of 7 per lot: 100 / 507 = 0.197 → floored to 0.19');
select is(risk.position_size(10000, 0.01, 1.0950, 1.1000, 0.00001, 1, 0.01, 0.01, 100), 0.20::numeric,
    'a short (stop above entry) sizes on the same distance');
select is(risk.position_size(1000, 0.01, 1.1000, 1.0950, 0.00001, 1, 0.01, 0.05, 100), 0::numeric,
    '0.02 lots is below the minimum 0.05: no trade (never rounded up)');
select is(risk.position_size(10000000, 0.01, 1.1000, 1.0950, 0.00001, 1, 0.01, 0.01, 100), 100::numeric,
    '200 lots is clamped to the maximum 100');
-- BTC/USDT spot: tick 0.01 worth 0.01 per 1 BTC; 2 % of 10000 = 200; stop 2000 away → 2000 per BTC.
select is(risk.position_size(10000, 0.02, 60000, 58000, 0.01, 0.01, 0.00001, 0.00001, 9000), 0.1::numeric,
    'crypto: 200 / 2000 = 0.1 BTC');
select is(risk.position_size(-5, 0.01, 1.1, 1.09, 0.00001, 1, 0.01, 0.01, 100), 0::numeric, 'no equity: no trade');
select throws_ok($$select risk.position_size(10000, 0, 1.1, 1.09, 0.00001, 1, 0.01, 0.01, 100)$$, '22023',
    'risk.position_size: risk_per_trade is a fraction of equity in (0, 1] (got 0)', 'a zero risk is refused');
select throws_ok($$select risk.position_size(10000, 0.01, 1.1, 1.1, 0.00001, 1, 0.01, 0.01, 100)$$, '22023',
    'risk.position_size: the stop loss equals the entry and there is no commission: nothing bounds the loss',
    'a stop at the entry is refused');

-- The overload reads the instrument's trading specs.
select market.register_instrument('mt5', 'EURUSD') as eurusd \gset
select market.set_instrument_specs(:eurusd, 0.00001, 1, 100000, 0.01, 0.01, 100, 7);
select is(risk.position_size(:eurusd, 10000, 0.01, 1.1000, 1.0950), 0.19::numeric,
    'position_size(instrument_id, …) uses its tick size/value, volume limits and commission');
select market.register_instrument('binance', 'BTCUSDT', p_tick_size => 0.01, p_lot_step => 0.00001) as btc \gset
select is(risk.position_size(:btc, 10000, 0.02, 60000, 58000), 0.1::numeric,
    'without specs it falls back to market.instruments tick size and lot step (tick value = tick size)');

select * from finish();
rollback;
