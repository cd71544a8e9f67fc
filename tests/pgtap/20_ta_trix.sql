-- ta.trix: hand-checked values. x = 1..7, n = 2 (k = 2/3): E1 = -,1.5,2.5,3.5,4.5,5.5,6.5;
-- E2 = -,-,2,3,4,5,6; E3 = -,-,-,2.5,3.5,4.5,5.5; TRIX = 100 (E3_t/E3_{t-1} - 1) = 40, 28.57, 22.22.
begin;
select plan(4);

select is(
    (select array_agg(round(v::numeric, 9) order by i)
        from unnest(ta.trix(array[1, 2, 3, 4, 5, 6, 7]::float8[], 2)) with ordinality as t (v, i)),
    array[null, null, null, null, 40, 28.571428571, 22.222222222]::numeric[], 'trix(2) by hand, lookback 3(n-1)+1');
select is(ta.trix(array[1, 2, 4]::float8[], timeperiod => 1), array[null, 100, 100]::float8[],
    'trix(1) is the 1-bar rate of change');
select is(ta.trix(array[1, 2, 3]::float8[]), array[null, null, null]::float8[], 'default 30: all NULL on 3 values');
select throws_ok($$select ta.trix(array[1]::float8[], 0)$$, '22023',
    'ta.trix: timeperiod must be between 1 and 100000 (got 0)', 'period 0 is rejected');

select * from finish();
rollback;
