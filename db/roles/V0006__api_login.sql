-- tsquant:as-admin
-- tsq_api: the login the HTTP API (tsquant api) uses. A member of tsq_analyst and nothing else,
-- so the API can read what analysts read and write nothing; every session is read-only with a
-- statement timeout on top (the grants are the real control). No password here: on the embedded
-- cluster the local socket trusts it; on another server give it one in psql
-- (\password tsq_api) and put it in TSQ_API_DATABASE_URL.
do $role$
begin
    if not exists (select from pg_catalog.pg_roles where rolname = 'tsq_api') then
        create role tsq_api login noinherit;
    end if;
end
$role$;

-- INHERIT so the analyst grants apply without SET ROLE.
alter role tsq_api inherit nosuperuser nocreatedb nocreaterole noreplication;
alter role tsq_api set default_transaction_read_only = on;
alter role tsq_api set statement_timeout = '5s';
grant tsq_analyst to tsq_api;

comment on role tsq_api is
'tsquant: login of the read-only HTTP API; member of tsq_analyst only, read-only sessions.';
