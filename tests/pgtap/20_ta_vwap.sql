-- ta.vwap: hand-checked values with high = low = close (TP = close). Cumulative sum(TP V)/sum(V).
begin;
select plan(4);

select is(ta.vwap(array[10, 20, 30]::float8[], array[10, 20, 30]::float8[], array[10, 20, 30]::float8[],
    array[1, 0, 3]::float8[]), array[10, 10, 25]::float8[], '(10*1 + 30*3)/4 = 25; a zero-volume bar repeats');
select is(ta.vwap(array[5, 6, 7]::float8[], array[5, 6, 7]::float8[], array[5, 6, 7]::float8[],
    array[0, 0, 2]::float8[]), array[0, 0, 7]::float8[], '0 until the first bar with volume');
select is(ta.vwap(array[3, 6, 3]::float8[], array[1, 2, 1]::float8[], array[2, 4, 2]::float8[],
    array[1, 1, 'Infinity']::float8[]), array[2, 3, 3]::float8[], 'a bar with infinite volume is skipped');
select throws_ok(
    $$select ta.vwap(array[1]::float8[], array[1]::float8[], array[1]::float8[], '{{1}}'::float8[])$$, '22023',
    'ta.vwap: volume must be a one-dimensional array', 'two-dimensional input is rejected');

select * from finish();
rollback;
