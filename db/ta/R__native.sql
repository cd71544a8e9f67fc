-- tsquant:as-admin
-- tsquant:fingerprint select coalesce((select default_version || ' ' || comment from pg_catalog.pg_available_extensions where name = 'tsquant_ta'), 'not available')
-- Native (C) ta kernels: the tsquant_ta extension (db/ta/native, built and installed by
-- `make setup`) when the server has it; otherwise nothing, and every ta kernel runs its PL/pgSQL
-- body. The fingerprint above makes the runner re-apply this file whenever the installed
-- library appears, changes or goes away.

do $$
begin
    -- The kernels hold no data: drop and create picks up a rebuilt library's declarations.
    drop extension if exists tsquant_ta;
    if not exists (select from pg_catalog.pg_available_extensions where name = 'tsquant_ta') then
        return;
    end if;
    begin
        create extension tsquant_ta schema ta_native;
    exception when insufficient_privilege or undefined_file or feature_not_supported then
        -- e.g. a managed server where the administrator is not a superuser
        raise warning 'tsquant_ta could not be created (%): ta.* runs its PL/pgSQL kernels', sqlerrm;
        return;
    end;
    revoke all on all functions in schema ta_native from public;
    grant execute on all functions in schema ta_native to tsq_owner, tsq_loader, tsq_analyst, tsq_trader;
end;
$$;
