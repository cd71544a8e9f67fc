-- ta.bbands: hand-checked values. x = 1..5, n = 3: middle = 2, 3, 4; population sigma of three
-- consecutive integers = sqrt(2/3) = 0.816496580927726, so the bands are middle +- 1.632993161855452.
begin;
select plan(5);

select is((ta.bbands(array[1, 2, 3, 4, 5]::float8[], 3)).middleband, array[null, null, 2, 3, 4]::float8[],
    'middle band = SMA(3)');
select is(
    (select array_agg(round(v::numeric, 9) order by i)
        from unnest((ta.bbands(array[1, 2, 3, 4, 5]::float8[], 3)).upperband) with ordinality as t (v, i)),
    array[null, null, 3.632993162, 4.632993162, 5.632993162]::numeric[], 'upper = middle + 2 sigma (population)');
select is(
    (select array_agg(round(v::numeric, 9) order by i)
        from unnest((ta.bbands(array[1, 2, 3, 4, 5]::float8[], 3, nbdevup => 1, nbdevdn => 3)).lowerband)
            with ordinality as t (v, i)),
    array[null, null, -0.449489743, 0.550510257, 1.550510257]::numeric[], 'lower = middle - nbdevdn sigma');
select is((ta.bbands(array[7, 7, 7, 7]::float8[], 2)).upperband, array[null, 7, 7, 7]::float8[],
    'flat prices: sigma 0, the bands meet the middle');
select throws_ok($$select ta.bbands(array[1, 2, 3]::float8[], 1)$$, '22023',
    'ta.bbands: timeperiod must be between 2 and 100000 (got 1)', 'period 1 is rejected');

select * from finish();
rollback;
