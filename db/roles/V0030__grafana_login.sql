-- tsquant:as-admin
-- tsq_grafana: the login of the Grafana datasource (grafana/provisioning). Like tsq_api, a member of
-- tsq_analyst and nothing else, with read-only sessions and a statement timeout: Grafana does not
-- sanitise dashboard SQL, so the grants are what keeps it harmless. No password here: the
-- grafana-login service of docker-compose.yml (or \password tsq_grafana) sets it from the
-- environment.
do $role$
begin
    if not exists (select from pg_catalog.pg_roles where rolname = 'tsq_grafana') then
        create role tsq_grafana login;
    end if;
end
$role$;

alter role tsq_grafana inherit nosuperuser nocreatedb nocreaterole noreplication;
alter role tsq_grafana set default_transaction_read_only = on;
alter role tsq_grafana set statement_timeout = '30s';
grant tsq_analyst to tsq_grafana;

comment on role tsq_grafana is
'tsquant: login of the Grafana datasource; member of tsq_analyst only, read-only sessions.';
