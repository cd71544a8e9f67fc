-- Roles and least privilege (DESIGN.md §4): who can read, write and change what.
begin;
select plan(18);

select has_role('tsq_owner');
select has_role('tsq_loader');
select has_role('tsq_analyst');
select has_role('tsq_trader');

-- Loader, analyst and trader are group roles. (tsq_owner gets LOGIN without a password in
-- TimescaleDB mode only, because TimescaleDB refuses background jobs of a NOLOGIN owner.)
select is(
    (select count(*)::int from pg_roles where rolname in ('tsq_loader', 'tsq_analyst', 'tsq_trader') and rolcanlogin),
    0,
    'tsq_loader, tsq_analyst and tsq_trader are group roles: nobody logs in as them directly'
);

-- Every schema belongs to the owner.
select is(
    (select array_agg(nspname::text order by nspname) from pg_namespace
     where nspname in ('market', 'ta', 'signals', 'trading', 'risk', 'perf', 'ops', 'bi')
       and nspowner <> 'tsq_owner'::regrole),
    null,
    'every tsquant schema is owned by tsq_owner'
);

-- tsq_analyst cannot write anything: no write privilege on any relation of any schema.
select is(
    (select array_agg(format('%I.%I', n.nspname, c.relname) order by 1)
     from pg_class as c join pg_namespace as n on n.oid = c.relnamespace
     where n.nspname in ('market', 'ta', 'signals', 'trading', 'risk', 'perf', 'ops', 'bi', 'public')
       and c.relkind in ('r', 'p', 'v', 'm', 'f')
       and has_table_privilege('tsq_analyst', c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE')),
    null,
    'tsq_analyst has no INSERT/UPDATE/DELETE/TRUNCATE on any relation'
);

-- Objects created later get the same rules through default privileges: create one of each
-- kind as the owner inside this transaction and check them.
set local role tsq_owner;
create table market.pgtap_probe (id int);
create table trading.pgtap_probe (id int);
create table ops.pgtap_probe (id int);
reset role;

set local role tsq_analyst;
select lives_ok($$select * from market.pgtap_probe$$, 'tsq_analyst reads market tables');
select throws_ok($$insert into market.pgtap_probe values (1)$$, '42501', null, 'tsq_analyst cannot insert into market');
select throws_ok($$insert into ops.events (source, event_type, message) values ('x', 'y', 'z')$$, '42501', null, 'tsq_analyst cannot write ops.events');
select throws_ok($$update ops.settings set value = 'x'$$, '42501', null, 'tsq_analyst cannot change settings');
select throws_ok($$select * from trading.pgtap_probe$$, '42501', null, 'tsq_analyst cannot read trading');
reset role;

set local role tsq_loader;
select lives_ok($$insert into market.pgtap_probe values (1)$$, 'tsq_loader writes market tables');
select throws_ok($$select * from trading.pgtap_probe$$, '42501', null, 'tsq_loader cannot read trading');
select throws_ok($$delete from market.pgtap_probe$$, '42501', null, 'tsq_loader cannot delete market data');
reset role;

set local role tsq_trader;
select lives_ok($$select * from trading.pgtap_probe$$, 'tsq_trader reads trading');
select throws_ok($$insert into trading.pgtap_probe values (1)$$, '42501', null, 'tsq_trader writes trading only through functions');
reset role;

-- Nobody but the owner may create objects in any schema.
select is(
    (select array_agg(format('%s on %s', r, s) order by 1)
     from unnest(array['tsq_loader', 'tsq_analyst', 'tsq_trader', 'public']) as r,
          unnest(array['market', 'ta', 'signals', 'trading', 'risk', 'perf', 'ops', 'bi', 'public']) as s
     where r <> 'public' and has_schema_privilege(r, s, 'CREATE')),
    null,
    'only tsq_owner has CREATE on the schemas'
);
reset role;
select * from finish();
rollback;
