-- ta.cci: hand-checked values with high = low = close (TP = close).
-- TP 1,2,3: mean 2, mean deviation 2/3, (3-2)/(0.015*2/3) = 100. TP 1,2,6: mean 3, deviation 2, 3/0.03 = 100.
-- n = 2: a rise gives +66.67, a fall -66.67, no change 0.
begin;
select plan(4);

select is(
    (select array_agg(round(v::numeric, 9) order by i)
        from unnest(ta.cci(array[1, 2, 3]::float8[], array[1, 2, 3]::float8[], array[1, 2, 3]::float8[], 3))
            with ordinality as t (v, i)),
    array[null, null, 100]::numeric[], 'cci(3) of 1,2,3');
select is(
    (select array_agg(round(v::numeric, 9) order by i)
        from unnest(ta.cci(array[1, 2, 1, 1]::float8[], array[1, 2, 1, 1]::float8[], array[1, 2, 1, 1]::float8[],
            timeperiod => 2)) with ordinality as t (v, i)),
    array[null, 66.666666667, -66.666666667, 0]::numeric[], 'cci(2): rise, fall, flat');
select is(ta.cci(array[100.37, 100.37, 100.37]::float8[], array[100.37, 100.37, 100.37]::float8[],
    array[100.37, 100.37, 100.37]::float8[], 3), array[null, null, 0]::float8[],
    'flat window gives 0 despite the rounding residue of the mean');
select throws_ok($$select ta.cci(array[1]::float8[], array[1]::float8[], array[1]::float8[], 1)$$, '22023',
    'ta.cci: timeperiod must be between 2 and 100000 (got 1)', 'period 1 is rejected');

select * from finish();
rollback;
