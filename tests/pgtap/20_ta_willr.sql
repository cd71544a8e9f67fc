-- ta.willr: hand-checked values. high 3,4,5,4,3; low 1,2,3,2,1; close 2,3,4,3,2; n = 3:
-- -100 (5-4)/(5-1) = -25, -100 (5-3)/(5-2) = -66.67, -100 (5-2)/(5-1) = -75.
begin;
select plan(5);

select is(
    (select array_agg(round(v::numeric, 9) order by i)
        from unnest(ta.willr(array[3, 4, 5, 4, 3]::float8[], array[1, 2, 3, 2, 1]::float8[],
            array[2, 3, 4, 3, 2]::float8[], 3)) with ordinality as t (v, i)),
    array[null, null, -25, -66.666666667, -75]::numeric[], 'willr(3) by hand');
select is(
    (ta.willr(array[3, 4, 5, 4, 3]::float8[], array[1, 2, 3, 2, 1]::float8[], array[2, 3, 4, 3, 9]::float8[], 3))[5],
    0::float8, 'a close above the highest high is clamped to 0 (TA-Lib 0.8)');
select is(
    (ta.willr(array[3, 4, 5, 4, 3]::float8[], array[1, 2, 3, 2, 1]::float8[], array[2, 3, 4, 3, 0]::float8[],
        timeperiod => 3))[5],
    -100::float8, 'a close below the lowest low is clamped to -100');
select is(ta.willr(array[2, 2, 2]::float8[], array[2, 2, 2]::float8[], array[2, 2, 2]::float8[], 2),
    array[null, 0, 0]::float8[], 'flat window (HH = LL) gives 0');
select throws_ok($$select ta.willr(array[1]::float8[], array[1]::float8[], array[1]::float8[], 1)$$, '22023',
    'ta.willr: timeperiod must be between 2 and 100000 (got 1)', 'period 1 is rejected');

select * from finish();
rollback;
