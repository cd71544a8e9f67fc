-- ta.obv: hand-checked values. OBV starts at the first volume (TA-Lib), then +V on an up close,
-- -V on a down close, unchanged on an equal close.
begin;
select plan(4);

select is(ta.obv(array[1, 2, 2, 1, 3]::float8[], array[10, 20, 30, 40, 50]::float8[]),
    array[10, 30, 30, -10, 40]::float8[], 'obv by hand');
select is(ta.obv(array[1, 2, 3]::float8[], array[0, 0, 0]::float8[]), array[0, 0, 0]::float8[], 'zero volume');
select is(ta.obv(array[null, 1, 2]::float8[], array[5, 6, 7]::float8[]), array[null, 6, 13]::float8[],
    'leading NULL row skipped: OBV starts at the first complete row');
select throws_ok($$select ta.obv(array[1, 2]::float8[], array[1]::float8[])$$, '22023',
    'ta.obv: close and volume must have the same length (got 2, 1)', 'mismatched lengths are rejected');

select * from finish();
rollback;
