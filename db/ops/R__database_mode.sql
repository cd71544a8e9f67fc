-- Which database mode this database runs in (DESIGN.md §3), visible to every user.

create or replace function ops.database_mode()
returns text
language sql
stable
parallel safe
begin atomic
    -- TimescaleDB features (continuous aggregates, compression, policies) are Timescale-License
    -- code: the mode is 'timescaledb' only when the extension is created in this database and
    -- the server runs with timescaledb.license = 'timescale'.
    select case
        when exists (select from pg_catalog.pg_extension where extname = 'timescaledb')
            and coalesce(pg_catalog.current_setting('timescaledb.license', true), '') = 'timescale'
            then 'timescaledb'
        else 'postgresql'
    end;
end;

comment on function ops.database_mode() is
'Database mode: ''timescaledb'' when the timescaledb extension is installed in this database and timescaledb.license = ''timescale''; otherwise ''postgresql'' (plain mode). Same relation names and results in both.';

create or replace view ops.database_info as
select
    ops.database_mode() as database_mode,
    pg_catalog.current_setting('server_version') as server_version,
    (select e.extversion from pg_catalog.pg_extension as e where e.extname = 'timescaledb')
    as timescaledb_version,
    pg_catalog.current_setting('timescaledb.license', true) as timescaledb_license,
    (
        select m.database_mode from ops.schema_migrations as m
        order by m.id limit 1
    ) as migrated_mode,
    (select max(m.applied_at) from ops.schema_migrations as m) as last_migration_at;

comment on view ops.database_info is
'One row: database mode, server version, TimescaleDB version and license, mode recorded by the migrations, last migration time.';
comment on column ops.database_info.database_mode is 'Mode detected now (ops.database_mode()).';
comment on column ops.database_info.server_version is 'PostgreSQL server version (server_version setting).';
comment on column ops.database_info.timescaledb_version is 'Installed TimescaleDB extension version; NULL in plain mode.';
comment on column ops.database_info.timescaledb_license is 'TimescaleDB license (timescale or apache; NULL when not loaded).';
comment on column ops.database_info.migrated_mode is 'Mode the migration runner chose at the first migration.';
comment on column ops.database_info.last_migration_at is 'When the last migration file was applied (ops.schema_migrations).';

grant execute on function ops.database_mode() to public;
grant select on ops.database_info to tsq_loader, tsq_analyst, tsq_trader;
