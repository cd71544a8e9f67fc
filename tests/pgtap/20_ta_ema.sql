-- ta.ema: hand-checked values. k = 2/(n+1); seed = mean of the first n values.
begin;
select plan(6);

select is(ta.ema(array[2, 4, 6, 8, 20]::float8[], 3), array[null, null, 4, 6, 13]::float8[],
    'ema(3): k = 0.5, seed (2+4+6)/3 = 4, then 4 + 0.5*(8-4) = 6, 6 + 0.5*(20-6) = 13');
select is(ta.ema(array[1, 2, 3, 4, 5]::float8[], timeperiod => 3), array[null, null, 2, 3, 4]::float8[],
    'ema(3) of a ramp');
select is(ta.ema(array[1, null, 3]::float8[], 1), array[1, null, 3]::float8[], 'period 1 is a copy of the input');
select is(ta.ema(array[null, null, 2, 4, 6, 8]::float8[], 3), array[null, null, null, null, 4, 6]::float8[],
    'leading NULLs skipped');
select is(ta.ema(array[2, 4, 6, null, 20]::float8[], 3), array[null, null, 4, null, null]::float8[],
    'an interior NULL makes every later value NULL');
select throws_ok($$select ta.ema(array[1]::float8[], -1)$$, '22023',
    'ta.ema: timeperiod must be between 1 and 100000 (got -1)', 'negative period is rejected');

select * from finish();
rollback;
