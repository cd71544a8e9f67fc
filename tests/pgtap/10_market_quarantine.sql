-- market: quarantine and run records accept what loaders write; counts must add up.
begin;
select plan(7);

select ok(has_table_privilege('tsq_loader', 'market.quarantine', 'insert'), 'loaders write the quarantine');
select ok(not has_table_privilege('tsq_loader', 'market.quarantine', 'delete'), 'loaders cannot delete from the quarantine');
select lives_ok(
    $$insert into market.quarantine (source, dataset, reason, symbol, payload)
      values ('test', 'trades', 'non_positive_price', 'BTCUSDT', '{"p": "-1"}')$$,
    'a rejected row is stored with source, reason and payload');
select is((select reason from market.quarantine where source = 'test'), 'non_positive_price', 'its reason is kept');
select lives_ok(
    $$insert into ops.loader_runs (job, source, status, rows_in, rows_loaded, rows_quarantined, rows_duplicate)
      values ('t', 'test', 'succeeded', 10, 7, 2, 1)$$,
    'a succeeded run whose counts add up is recorded');
select throws_ok(
    $$insert into ops.loader_runs (job, source, status, rows_in, rows_loaded, rows_quarantined, rows_duplicate)
      values ('t', 'test', 'succeeded', 10, 7, 2, 0)$$,
    '23514', null, 'a succeeded run whose counts do not add up is refused');
select ok(has_table_privilege('tsq_loader', 'ops.loader_runs', 'insert'), 'loaders record their runs');

select * from finish();
rollback;
