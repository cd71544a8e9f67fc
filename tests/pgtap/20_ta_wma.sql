-- ta.wma: hand-checked values. Weights 1..n on the oldest..newest value, divisor n(n+1)/2.
begin;
select plan(4);

select is(
    (select array_agg(round(v::numeric, 9) order by i) from unnest(ta.wma(array[1, 2, 3, 4, 5]::float8[], 3))
        with ordinality as t (v, i)),
    array[null, null, 2.333333333, 3.333333333, 4.333333333]::numeric[],
    'wma(3): (1*1 + 2*2 + 3*3)/6 = 14/6, then 20/6 and 26/6');
select is(ta.wma(array[5, 7]::float8[], 1), array[5, 7]::float8[], 'period 1 is a copy');
select is(ta.wma(array[1, 2]::float8[], 3), array[null, null]::float8[], 'input shorter than the lookback: all NULL');
select throws_ok($$select ta.wma(array[1]::float8[], 0)$$, '22023',
    'ta.wma: timeperiod must be between 1 and 100000 (got 0)', 'period 0 is rejected');

select * from finish();
rollback;
