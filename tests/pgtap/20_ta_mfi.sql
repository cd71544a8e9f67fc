-- ta.mfi: hand-checked values with high = low = close (TP = close), volume 1, n = 2.
-- Flows: +2, +3, -2, +4. MFI = 100 pos/(pos+neg) over the last 2 flows: 100, 3/5 = 60, 4/6 = 66.67.
begin;
select plan(4);

select is(
    (select array_agg(round(v::numeric, 9) order by i)
        from unnest(ta.mfi(array[1, 2, 3, 2, 4]::float8[], array[1, 2, 3, 2, 4]::float8[],
            array[1, 2, 3, 2, 4]::float8[], array[1, 1, 1, 1, 1]::float8[], 2)) with ordinality as t (v, i)),
    array[null, null, 100, 60, 66.666666667]::numeric[], 'mfi(2) by hand');
select is(ta.mfi(array[1, 2, 3, 2]::float8[], array[1, 2, 3, 2]::float8[], array[1, 2, 3, 2]::float8[],
    array[0, 0, 0, 0]::float8[], timeperiod => 2), array[null, null, 0, 0]::float8[], 'zero volume gives 0');
select is(ta.mfi(array[4, 4, 4, 4]::float8[], array[4, 4, 4, 4]::float8[], array[4, 4, 4, 4]::float8[],
    array[1, 1, 1, 1]::float8[], 2), array[null, null, 0, 0]::float8[], 'flat prices give 0');
select throws_ok(
    $$select ta.mfi(array[1]::float8[], array[1]::float8[], array[1]::float8[], array[1, 2]::float8[])$$, '22023',
    'ta.mfi: high, low, close and volume must have the same length (got 1, 1, 1, 2)', 'mismatched lengths');

select * from finish();
rollback;
