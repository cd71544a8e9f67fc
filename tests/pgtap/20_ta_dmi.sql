-- ta.plus_di, ta.minus_di, ta.adx: hand-checked values, period 2.
-- high 10,11,12,11,10,11; low 9,10,11,10,9,10; close 9.5,10.5,11.5,10.5,9.5,10.5.
-- Bars 1..5: +DM1 = 1,1,0,0,1; -DM1 = 0,0,1,1,0; TR1 = 1.5 each.
-- Seed sums over bar 1 (n-1 bars): +DM 1, -DM 0, TR 1.5; then S = S - S/2 + x1:
-- bar 2: +DM 1.5, -DM 0, TR 2.25 -> +DI 66.67, -DI 0, DX 100
-- bar 3: +DM 0.75, -DM 1, TR 2.625 -> +DI 28.57, -DI 38.10, DX 14.29; ADX = (100 + 14.29)/2 = 57.14
-- bar 4: +DI 13.33, -DI 53.33, DX 60 -> ADX = 57.14 - (57.14 - 60)/2 = 58.57
-- bar 5: +DI 40.86, -DI 25.81, DX 22.58 -> ADX 40.58
begin;
select plan(6);

select is(
    (select array_agg(round(v::numeric, 9) order by i)
        from unnest(ta.plus_di(array[10, 11, 12, 11, 10, 11]::float8[], array[9, 10, 11, 10, 9, 10]::float8[],
            array[9.5, 10.5, 11.5, 10.5, 9.5, 10.5]::float8[], 2)) with ordinality as t (v, i)),
    array[null, null, 66.666666667, 28.571428571, 13.333333333, 40.860215054]::numeric[], '+DI(2) by hand');
select is(
    (select array_agg(round(v::numeric, 9) order by i)
        from unnest(ta.minus_di(array[10, 11, 12, 11, 10, 11]::float8[], array[9, 10, 11, 10, 9, 10]::float8[],
            array[9.5, 10.5, 11.5, 10.5, 9.5, 10.5]::float8[], timeperiod => 2)) with ordinality as t (v, i)),
    array[null, null, 0, 38.095238095, 53.333333333, 25.806451613]::numeric[], '-DI(2) by hand');
select is(
    (select array_agg(round(v::numeric, 9) order by i)
        from unnest(ta.adx(array[10, 11, 12, 11, 10, 11]::float8[], array[9, 10, 11, 10, 9, 10]::float8[],
            array[9.5, 10.5, 11.5, 10.5, 9.5, 10.5]::float8[], 2)) with ordinality as t (v, i)),
    array[null, null, null, 57.142857143, 58.571428571, 40.576036866]::numeric[], 'ADX(2) by hand, lookback 2n-1');
select is(
    (select array_agg(round(v::numeric, 9) order by i)
        from unnest(ta.plus_di(array[10, 11, 12, 11]::float8[], array[9, 10, 11, 10]::float8[],
            array[9.5, 10.5, 11.5, 10.5]::float8[], 1)) with ordinality as t (v, i)),
    array[null, 0.666666667, 0.666666667, 0]::numeric[], '+DI(1) = +DM1/TR1 as a fraction, as TA-Lib');
select is(ta.plus_di(array[5, 5, 5, 5]::float8[], array[5, 5, 5, 5]::float8[], array[5, 5, 5, 5]::float8[], 2),
    array[null, null, 0, 0]::float8[], 'flat prices: TR = 0 gives 0');
select throws_ok($$select ta.adx(array[1]::float8[], array[1]::float8[], array[1]::float8[], 1)$$, '22023',
    'ta.adx: timeperiod must be between 2 and 100000 (got 1)', 'ADX period 1 is rejected');

select * from finish();
rollback;
