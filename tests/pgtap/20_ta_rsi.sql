-- ta.rsi: hand-checked values (Wilder smoothing, TA-Lib 0.8.x).
-- x = 1,2,3,2,1,2, n = 2: changes +1,+1,-1,-1,+1. Seed AG = (1+1)/2 = 1, AL = 0 -> 100.
-- Then AG = (AG*1 + gain)/2, AL likewise: (0.5, 0.5) -> 50; (0.25, 0.75) -> 25; (0.625, 0.375) -> 62.5.
begin;
select plan(6);

select is(ta.rsi(array[1, 2, 3, 2, 1, 2]::float8[], 2), array[null, null, 100, 50, 25, 62.5]::float8[],
    'rsi(2) by hand');
select is(ta.rsi(array[5, 5, 5, 5]::float8[], timeperiod => 2), array[null, null, 0, 0]::float8[],
    'flat prices: AG + AL = 0 gives 0 (TA-Lib 0.8.x)');
select is(ta.rsi(array[1, 2, 3, 2, null, 2, 3]::float8[], 2), array[null, null, 100, 50, 0, 0, 0]::float8[],
    'after an interior NULL the loss average is NULL and RSI is 0, as TA-Lib with NaN');
select is(ta.rsi(array[1, 2]::float8[]), array[null, null]::float8[], 'shorter than the default lookback 14');
select is(ta.rsi('{}'::float8[]), '{}'::float8[], 'empty input');
select throws_ok($$select ta.rsi(array[1, 2, 3]::float8[], 1)$$, '22023',
    'ta.rsi: timeperiod must be between 2 and 100000 (got 1)', 'period 1 is rejected (TA-Lib range 2..100000)');

select * from finish();
rollback;
