-- tsquant:as-admin
-- pg_stat_statements (shipped with the server) feeds ops.top_statements. Creating the extension
-- needs no preload; collecting needs shared_preload_libraries (the embedded cluster sets it).
-- A server without the extension files simply goes without (ops.top_statements says so).
do $pgss$
begin
    if exists (select from pg_catalog.pg_available_extensions where name = 'pg_stat_statements') then
        create extension if not exists pg_stat_statements;
    end if;
end
$pgss$;
