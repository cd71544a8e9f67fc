-- ops basics: database mode, typed settings, events.
begin;
select plan(10);

select ok(ops.database_mode() in ('postgresql', 'timescaledb'), 'ops.database_mode() names a mode');
select is(
    ops.database_mode(),
    (select database_mode from ops.schema_migrations order by id limit 1),
    'the detected mode is the mode the migrations chose'
);
select is((select count(*)::int from ops.database_info), 1, 'ops.database_info has one row');

select lives_ok($$select ops.set_setting('demo.max_positions', '5', 'integer', 'Max open positions')$$, 'an integer setting is stored');
select is(ops.setting('demo.max_positions')::int, 5, 'ops.setting reads it back');
select throws_ok($$select ops.set_setting('demo.max_positions', 'five')$$, '22023', null, 'a value that does not parse as the type is refused');
select throws_ok($$select ops.set_setting('demo.when', 'yesterday-ish', 'timestamptz')$$, '22023', null, 'timestamptz settings are validated');
select throws_ok($$select ops.setting('demo.missing')$$, '42704', null, 'a missing setting is an error, not NULL');
select lives_ok($$select ops.set_setting('demo.max_positions', '6')$$, 'changing the value keeps the type');
select is((select value_type from ops.settings where name = 'demo.max_positions'), 'integer', 'type kept on update');

select * from finish();
rollback;
