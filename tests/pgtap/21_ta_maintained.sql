-- Maintained indicators: a hand-checked SMA(3) and OBV kept up to date by ta.refresh_indicators().
begin;
select plan(8);

select market.register_instrument('pgtapex', 'MNTUSDT', p_candle_source => 'native') as iid \gset
select ta.maintain(:iid, '1m', 'sma', '{"timeperiod": 3}') as sma_id \gset
select ta.maintain(:iid, '1m', 'obv') as obv_id \gset

select is((select name from ta.maintained_indicators where indicator_id = :sma_id), 'sma_3', 'readable name with the parameter');
select is((select params from ta.maintained_indicators where indicator_id = :obv_id), '{}'::jsonb, 'obv has no parameters');

-- closes 1..5, volumes 10..50, every bar closed (the last one closed a minute ago)
insert into market.candles (instrument_id, timeframe, open_time, open, high, low, close, volume, source)
select :iid, '1m', date_trunc('minute', now()) - (7 - g) * interval '1 minute', g, g + 1, g - 0.5, g, 10 * g, 'pgtap'
from generate_series(1, 5) as g;

select is((select sum(new_bars)::integer from ta.refresh_indicators(:iid)), 10, '5 bars consumed by each configuration');
select results_eq(
    format('select value1 from ta.indicator_values where indicator_id = %s order by open_time', :sma_id),
    $$values (2::float8), (3), (4)$$,
    'SMA(3) of 1..5 = 2, 3, 4 (lookback 2: no rows for the first two bars)'
);
select results_eq(
    format('select value1 from ta.indicator_values where indicator_id = %s order by open_time', :obv_id),
    $$values (10::float8), (30), (60), (100), (150)$$,
    'OBV starts at the first volume and adds rising bars'
);

-- one more closed bar (close 3: falling) and a forming bar (not consumed)
insert into market.candles (instrument_id, timeframe, open_time, open, high, low, close, volume, source)
values (:iid, '1m', date_trunc('minute', now()) - interval '1 minute', 3, 4, 2, 3, 60, 'pgtap'),
       (:iid, '1m', date_trunc('minute', now()), 3, 4, 2, 3, 70, 'pgtap');
select is((select sum(new_bars)::integer from ta.refresh_indicators(:iid)), 2, 'only the closed bar is consumed');
select is(
    (select value1 from ta.indicator_values where indicator_id = :sma_id order by open_time desc limit 1),
    4::float8, 'SMA(3) of 4, 5, 3 = 4'
);
select is(
    (select value1 from ta.indicator_values where indicator_id = :obv_id order by open_time desc limit 1),
    90::float8, 'OBV 150 - 60 = 90'
);

select * from finish();
rollback;
