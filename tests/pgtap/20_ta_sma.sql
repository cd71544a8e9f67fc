-- ta.sma: hand-checked values (TA-Lib 0.8.x SMA semantics).
begin;
select plan(9);

select is(ta.sma(array[1, 2, 3, 4, 5]::float8[], 3), array[null, null, 2, 3, 4]::float8[],
    'sma(1..5, 3): (1+2+3)/3 = 2, then 3 and 4, NULL inside the lookback');
select is(ta.sma(array[1, 2, 3, 4, 5]::float8[], timeperiod => 1), array[1, 2, 3, 4, 5]::float8[],
    'sma period 1 is the input');
select is(ta.sma(array[1, 2, 3, 4, 5]::float8[]), array_fill(null::float8, array[5]),
    'default period 30 on 5 values: all NULL');
select is(ta.sma('{}'::float8[]), '{}'::float8[], 'empty input gives an empty array');
select is(ta.sma(array[null, 1, 2, 3]::float8[], 2), array[null, null, 1.5, 2.5]::float8[],
    'leading NULL skipped: the lookback counts from the first value');
select is(ta.sma(array[1, 2, null, 4, 5, 6]::float8[], 2), array[null, 1.5, null, null, null, null]::float8[],
    'an interior NULL makes every later value NULL (running sum, as TA-Lib with NaN)');
select is(ta.sma('{1,2,NaN,4}'::float8[], 2), ta.sma(array[1, 2, null, 4]::float8[], 2), 'NaN behaves as NULL');
select throws_ok($$select ta.sma(array[1, 2]::float8[], 0)$$, '22023',
    'ta.sma: timeperiod must be between 1 and 100000 (got 0)', 'period 0 is rejected');
select throws_ok($$select ta.sma(array[1, 2]::float8[], 100001)$$, '22023',
    'ta.sma: timeperiod must be between 1 and 100000 (got 100001)', 'period above 100000 is rejected');

select * from finish();
rollback;
