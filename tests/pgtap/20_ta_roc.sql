-- ta.roc: hand-checked values. 100 (x_t / x_{t-n} - 1), 0 when x_{t-n} = 0.
begin;
select plan(4);

select is(ta.roc(array[1, 2, 4, 8]::float8[], 1), array[null, 100, 100, 100]::float8[], 'doubling is +100%');
select is(ta.roc(array[10, 0, 5]::float8[], timeperiod => 1), array[null, -100, 0]::float8[],
    'a previous value of 0 gives 0');
select is(
    (select array_agg(round(v::numeric, 9) order by i)
        from unnest(ta.roc(array[4, 5, 6, 8, 10]::float8[], 2)) with ordinality as t (v, i)),
    array[null, null, 50, 60, 66.666666667]::numeric[], 'roc(2): 6/4, 8/5, 10/6');
select throws_ok($$select ta.roc(array[1]::float8[], 0)$$, '22023',
    'ta.roc: timeperiod must be between 1 and 100000 (got 0)', 'period 0 is rejected');

select * from finish();
rollback;
