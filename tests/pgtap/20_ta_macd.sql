-- ta.macd: hand-checked values. x = 1..6, fast 2 (k = 2/3), slow 3 (k = 1/2), signal 2.
-- Both seed windows end on bar 2: slow = mean(1,2,3) = 2, fast = mean(2,3) = 2.5; on a ramp the
-- line stays 0.5; the signal (seeded by mean(0.5, 0.5)) is 0.5 and the histogram 0. Lookback 2 + 1.
begin;
select plan(6);

select is(
    (select array_agg(round(v::numeric, 9) order by i)
        from unnest((ta.macd(array[1, 2, 3, 4, 5, 6]::float8[], 2, 3, 2)).macd) with ordinality as t (v, i)),
    array[null, null, null, 0.5, 0.5, 0.5]::numeric[], 'macd line');
select is(
    (select array_agg(round(v::numeric, 9) order by i)
        from unnest((ta.macd(array[1, 2, 3, 4, 5, 6]::float8[], 2, 3, 2)).macdsignal) with ordinality as t (v, i)),
    array[null, null, null, 0.5, 0.5, 0.5]::numeric[], 'signal line');
select is(
    (select array_agg(round(v::numeric, 9) order by i)
        from unnest((ta.macd(array[1, 2, 3, 4, 5, 6]::float8[], 2, 3, 2)).macdhist) with ordinality as t (v, i)),
    array[null, null, null, 0, 0, 0]::numeric[], 'histogram');
select is(ta.macd(array[1, 2, 3, 4, 5, 6]::float8[], fastperiod => 3, slowperiod => 2, signalperiod => 2),
    ta.macd(array[1, 2, 3, 4, 5, 6]::float8[], 2, 3, 2), 'slow < fast: the periods are swapped, as TA-Lib');
select is(
    (select count(*) from unnest((ta.macd(array(select g::float8 from generate_series(1, 34) as g))).macd) as m
        where m is null),
    33::bigint, 'default 12/26/9: lookback 25 + 8 = 33');
select throws_ok($$select ta.macd(array[1, 2, 3]::float8[], fastperiod => 1)$$, '22023',
    'ta.macd: fastperiod must be between 2 and 100000 (got 1)', 'fast period 1 is rejected');

select * from finish();
rollback;
