-- ta.atr and ta.natr: hand-checked values.
-- high 10,11,12,11; low 9,10,10,9; close 9.5,10.5,11,10. True ranges of bars 1..3:
-- max(1, |9.5-11|, |9.5-10|) = 1.5; max(2, 1.5, 0.5) = 2; max(2, 0, 2) = 2.
-- ATR(2): seed (1.5 + 2)/2 = 1.75, then (1.75*1 + 2)/2 = 1.875. NATR = 100 ATR / close.
begin;
select plan(7);

select is(ta.atr(array[10, 11, 12, 11]::float8[], array[9, 10, 10, 9]::float8[], array[9.5, 10.5, 11, 10]::float8[], 2),
    array[null, null, 1.75, 1.875]::float8[], 'atr(2) by hand');
select is(ta.atr(array[10, 11, 12, 11]::float8[], array[9, 10, 10, 9]::float8[], array[9.5, 10.5, 11, 10]::float8[], 1),
    array[null, 1.5, 2, 2]::float8[], 'atr(1) is the true range');
select is(
    (select array_agg(round(v::numeric, 9) order by i)
        from unnest(ta.natr(array[10, 11, 12, 11]::float8[], array[9, 10, 10, 9]::float8[],
            array[9.5, 10.5, 11, 10]::float8[], timeperiod => 2)) with ordinality as t (v, i)),
    array[null, null, 15.909090909, 18.75]::numeric[], 'natr(2) = 100*1.75/11, 100*1.875/10');
select is(ta.natr(array[1, 1, 1]::float8[], array[0, 0, 0]::float8[], array[0, 0, 0]::float8[], 2),
    array[null, null, 0]::float8[], 'natr is 0 when the close is 0');
select is(ta.atr(array[2, 2]::float8[], array[1, 1]::float8[], array[1.5, 1.5]::float8[]),
    array[null, null]::float8[], 'shorter than the lookback: all NULL');
select throws_ok($$select ta.atr(array[1, 2]::float8[], array[1]::float8[], array[1, 2]::float8[])$$, '22023',
    'ta.atr: high, low and close must have the same length (got 2, 1, 2)', 'mismatched lengths are rejected');
select throws_ok($$select ta.natr(array[1]::float8[], array[1]::float8[], array[1]::float8[], 0)$$, '22023',
    'ta.natr: timeperiod must be between 1 and 100000 (got 0)', 'period 0 is rejected');

select * from finish();
rollback;
