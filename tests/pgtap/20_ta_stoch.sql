-- ta.stoch: hand-checked values. high 3,4,5,4,3; low 1,2,3,2,1; close 2,3,4,3,2; fast %K over 3 bars:
-- (4-1)/(5-1) = 75%, (3-2)/(5-2) = 33.33%, (2-1)/(5-1) = 25%. With slow periods 1 there is no smoothing.
begin;
select plan(5);

select is(
    (select array_agg(round(v::numeric, 9) order by i)
        from unnest((ta.stoch(array[3, 4, 5, 4, 3]::float8[], array[1, 2, 3, 2, 1]::float8[],
            array[2, 3, 4, 3, 2]::float8[], 3, 1, 1)).slowk) with ordinality as t (v, i)),
    array[null, null, 75, 33.333333333, 25]::numeric[], 'raw %K by hand');
select is(
    (select array_agg(round(v::numeric, 9) order by i)
        from unnest((ta.stoch(array[3, 4, 5, 4, 3]::float8[], array[1, 2, 3, 2, 1]::float8[],
            array[2, 3, 4, 3, 2]::float8[], fastk_period => 3, slowk_period => 2, slowd_period => 2)).slowd)
            with ordinality as t (v, i)),
    array[null, null, null, null, 41.666666667]::numeric[],
    'slow %K = mean of 2 raw %K (54.17, 29.17), slow %D = their mean; lookback 2 + 1 + 1');
select is((ta.stoch(array[5, 5, 5]::float8[], array[5, 5, 5]::float8[], array[5, 5, 5]::float8[], 3, 1, 1)).slowk,
    array[null, null, 0]::float8[], 'flat window (HH = LL) gives 0');
select is(
    (select count(*) from unnest((ta.stoch(array_fill(2::float8, array[9]), array_fill(1::float8, array[9]),
        array_fill(1.5::float8, array[9]))).slowd) as d where d is null),
    8::bigint, 'defaults 5/3/3: lookback 4 + 2 + 2 = 8');
select throws_ok($$select ta.stoch(array[1]::float8[], array[1]::float8[], array[1]::float8[], slowd_period => 0)$$,
    '22023', 'ta.stoch: slowd_period must be between 1 and 100000 (got 0)', 'period 0 is rejected');

select * from finish();
rollback;
