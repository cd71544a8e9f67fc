-- tsquant:as-admin
-- TimescaleDB mode: market.refresh_rollups() closes its race with policy jobs by taking the lock
-- TimescaleDB registers continuous aggregate refreshes under (R__rollups.timescaledb.sql), which
-- needs UPDATE on that catalog table. Login roles in tsq_owner (the cron command, loaders) get it
-- through tsq_owner. Only an administrator holding the grant option (a superuser, the extension's
-- owner) can give it; otherwise the procedure keeps its wait alone and this says so.
do $$
begin
    grant update on table _timescaledb_catalog.continuous_aggs_jobs_refresh_ranges to tsq_owner;
exception when insufficient_privilege then
    raise notice 'tsq_owner cannot be granted UPDATE on '
        '_timescaledb_catalog.continuous_aggs_jobs_refresh_ranges (run this migration as the '
        'extension owner to give it): market.refresh_rollups() can then still meet a policy job '
        'that starts at the same instant';
end;
$$;
