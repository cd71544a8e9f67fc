-- ta.stochrsi: hand-checked values. x = 1,2,3,2,1,2: RSI(2) = -, -, 100, 50, 25, 62.5 (see 20_ta_rsi).
-- fast %K over 3 RSI values: (25-25)/(100-25) = 0, (62.5-25)/(62.5-25) = 100.
begin;
select plan(4);

select is((ta.stochrsi(array[1, 2, 3, 2, 1, 2]::float8[], 2, 3, 1)).fastk,
    array[null, null, null, null, 0, 100]::float8[], 'fast %K of RSI(2) over 3 bars');
select is(ta.stochrsi(array[1, 2, 3, 2, 1, 2]::float8[], timeperiod => 2, fastk_period => 3, fastd_period => 2),
    row(array[null, null, null, null, null, 100]::float8[], array[null, null, null, null, null, 50]::float8[]),
    'fast %D = SMA(2) of fast %K; %K is reported only where %D exists');
select is((ta.stochrsi(array[3, 3, 3, 3, 3]::float8[], 2, 2, 1)).fastk, array[null, null, null, 0, 0]::float8[],
    'flat RSI window gives 0');
select throws_ok($$select ta.stochrsi(array[1]::float8[], timeperiod => 1)$$, '22023',
    'ta.stochrsi: timeperiod must be between 2 and 100000 (got 1)', 'RSI period 1 is rejected');

select * from finish();
rollback;
