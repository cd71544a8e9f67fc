-- tsquant:as-admin
-- tsq_dbt: the role dbt runs as (dbt_project/profiles.yml `role: tsq_dbt`). It creates in its own
-- schemas only: staging (staging views, seeds, intermediate models) and features (owned by it),
-- plus the dbt marts in signals and the public view bi.trading_signals (CREATE there, nothing on
-- the tables others own). It reads market, ta and signals and writes nothing outside what it
-- creates. tsq_analyst and tsq_trader read what it builds in features, signals and bi through the
-- default privileges below (dbt re-creates tables, so per-table grants would be lost).

do $role$
begin
    if not exists (select from pg_catalog.pg_roles where rolname = 'tsq_dbt') then
        create role tsq_dbt nologin;
    end if;
end
$role$;

comment on role tsq_dbt is
'tsquant: dbt (dbt_project/); creates in staging, features and its marts in signals and bi; reads market, ta, signals.';

-- The migrating administrator (and so the login dbt uses) must be able to act as tsq_dbt.
grant tsq_dbt to current_user;

do $grants$
begin
    -- Connect and temporary tables (incremental models stage into temp tables); no CREATE: dbt
    -- finds its schemas already there.
    execute format('grant connect, temporary on database %I to tsq_dbt', current_database());
end
$grants$;

create schema if not exists staging authorization tsq_dbt;
create schema if not exists features authorization tsq_dbt;

comment on schema staging is
'dbt (tsq_dbt): staging views over market, ta and signals, seeds (strategies, feature indicators) and intermediate models.';
comment on schema features is
'dbt (tsq_dbt): point-in-time features per instrument, timeframe and closed bar (candle_features) and training labels.';

grant usage on schema market, ta, signals to tsq_dbt;
grant create on schema signals, bi to tsq_dbt;
grant usage on schema bi to tsq_dbt;

-- Reads: what exists now (on a database migrated before this file) and what tsq_owner creates later.
grant select on all tables in schema market, ta, signals to tsq_dbt;
alter default privileges for role tsq_owner in schema market grant select on tables to tsq_dbt;
alter default privileges for role tsq_owner in schema ta grant select on tables to tsq_dbt;
alter default privileges for role tsq_owner in schema signals grant select on tables to tsq_dbt;

-- What dbt builds is readable by people and the trader.
grant usage on schema features to tsq_analyst, tsq_trader;
alter default privileges for role tsq_dbt in schema features grant select on tables to tsq_analyst, tsq_trader;
alter default privileges for role tsq_dbt in schema signals grant select on tables to tsq_analyst, tsq_trader;
alter default privileges for role tsq_dbt in schema bi grant select on tables to tsq_analyst, tsq_trader;
