-- tsquant:as-admin
-- TimescaleDB mode only: the extension must be created by an administrator.
create extension if not exists timescaledb;

do $check$
begin
    -- Continuous aggregates, compression and policies need the Timescale License build.
    if pg_catalog.current_setting('timescaledb.license', true) is distinct from 'timescale' then
        raise exception 'TimescaleDB mode needs timescaledb.license = ''timescale'' (got %)',
            coalesce(pg_catalog.current_setting('timescaledb.license', true), 'unset');
    end if;
end
$check$;
