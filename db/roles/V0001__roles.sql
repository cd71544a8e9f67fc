-- tsquant:as-admin
-- Cluster roles of DESIGN.md §4. They are group roles (NOLOGIN): people and services log in
-- with their own roles that are members of these (see docs/security.md). Roles are cluster-wide,
-- so creation is idempotent: a second database on the same server reuses them.

do $roles$
declare
    v_role text;
begin
    foreach v_role in array array['tsq_owner', 'tsq_loader', 'tsq_analyst', 'tsq_trader']
    loop
        if not exists (select from pg_catalog.pg_roles where rolname = v_role) then
            execute format('create role %I nologin', v_role);
        end if;
    end loop;
end
$roles$;

comment on role tsq_owner is
'tsquant: owns every object; the only role that may change the schema (migrations run as it).';
comment on role tsq_loader is
'tsquant: loaders; writes raw market and signal data, records runs, reads instruments.';
comment on role tsq_analyst is
'tsquant: people and BI tools; reads bi, market, ta, signals, perf and features; writes nothing.';
comment on role tsq_trader is
'tsquant: scorer and dispatcher; reads features, writes scores and orders through functions.';

-- The migrating administrator must be able to act as the owner.
grant tsq_owner to current_user;

do $grants$
begin
    -- Only the owner creates schemas in this database; everyone connects.
    execute format('grant create, connect, temporary on database %I to tsq_owner', current_database());
    execute format(
        'grant connect on database %I to tsq_loader, tsq_analyst, tsq_trader', current_database()
    );
end
$grants$;

-- PostgreSQL 15 already removed CREATE on schema public from PUBLIC; make it explicit for
-- servers upgraded from older versions.
revoke create on schema public from public;
