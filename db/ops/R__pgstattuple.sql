-- tsquant:as-admin
-- pgstattuple (PostgreSQL contrib): tsquant maintenance reads pgstatindex()'s leaf density to
-- decide which B-tree indexes to rebuild. Created when the server ships it; without it only
-- invalid indexes are rebuilt.
do $ext$
begin
    if exists (select from pg_catalog.pg_available_extensions where name = 'pgstattuple') then
        create extension if not exists pgstattuple with schema public;
    end if;
end
$ext$;
