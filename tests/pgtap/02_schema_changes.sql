-- No role but the owner can change the schema: every DDL attempt by the other roles fails.
begin;
select plan(12);

set local role tsq_loader;
select throws_ok($$create table market.evil (id int)$$, '42501', null, 'tsq_loader cannot create tables in market');
select throws_ok($$alter table ops.events add column evil int$$, '42501', null, 'tsq_loader cannot alter ops.events');
select throws_ok($$drop table ops.system_logs$$, '42501', null, 'tsq_loader cannot drop tables');
select throws_ok($$create schema evil$$, '42501', null, 'tsq_loader cannot create schemas');
reset role;

set local role tsq_analyst;
select throws_ok($$create view bi.evil as select 1$$, '42501', null, 'tsq_analyst cannot create views in bi');
select throws_ok($$create function ta.evil() returns int language sql return 1$$, '42501', null, 'tsq_analyst cannot create functions in ta');
select throws_ok($$create table public.evil (id int)$$, '42501', null, 'tsq_analyst cannot create tables in public');
select throws_ok($$comment on table ops.events is 'evil'$$, '42501', null, 'tsq_analyst cannot comment on tables');
reset role;

set local role tsq_trader;
select throws_ok($$create table trading.evil (id int)$$, '42501', null, 'tsq_trader cannot create tables in trading');
select throws_ok($$alter table ops.settings drop column description$$, '42501', null, 'tsq_trader cannot alter ops.settings');
select throws_ok($$truncate ops.events$$, '42501', null, 'tsq_trader cannot truncate');
reset role;

set local role tsq_owner;
select lives_ok($$create table market.owner_probe (id int); drop table market.owner_probe$$, 'tsq_owner can change the schema');
reset role;

select * from finish();
rollback;
