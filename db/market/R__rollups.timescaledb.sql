-- TimescaleDB mode: market.refresh_rollups() refreshes the continuous aggregates of
-- V0107__rollups.timescaledb.sql and V0133 (30m, 2h, 1w), narrowest timeframe first. Same
-- signature as the plain-mode procedure (R__rollups.postgresql.sql). Refresh policies do the same on a schedule; this is for
-- loaders, tests, backfills and late data older than the policies' start_offset.

-- TimescaleDB refuses a refresh whose window overlaps one in progress (a policy job started by the
-- background scheduler, or another session) with LockNotAvailable instead of waiting; the cron
-- command and the loaders' --refresh-rollups then failed whenever a policy job ran at the same
-- moment. The procedure waits for such a refresh to end first. A wait alone leaves a race (a job
-- registering between this check and the refresh's own registration failed a CI run), so once no
-- refresh is in progress it takes the lock TimescaleDB registers refreshes under: the refresh
-- that follows registers in the same transaction, and a job starting meanwhile waits for it,
-- then loses (its next run catches up). Taking that lock needs UPDATE on the catalog table:
-- superusers, the extension owner and tsq_owner (V0151); other callers keep the wait alone.
create or replace function market._await_concurrent_refresh(p_view text, p_timeout interval default '2 minutes')
returns boolean
language plpgsql
volatile
security invoker
as $$
declare
    v_deadline timestamptz := clock_timestamp() + p_timeout;
    v_may_lock boolean := pg_catalog.has_table_privilege(
        '_timescaledb_catalog.continuous_aggs_jobs_refresh_ranges', 'UPDATE'
    );
    v_locked boolean := false;
begin
    loop
        if not exists (
            select
            from _timescaledb_catalog.continuous_aggs_jobs_refresh_ranges as r
            inner join _timescaledb_catalog.continuous_agg as a on r.materialization_id = a.mat_hypertable_id
            inner join pg_catalog.pg_stat_activity as s on r.pid = s.pid
            where a.user_view_schema = 'market' and a.user_view_name = p_view and r.pid <> pg_backend_pid()
        ) then
            if v_locked or not v_may_lock then
                return true;
            end if;
            -- held until the caller's refresh commits its registration; checked again under it
            lock table _timescaledb_catalog.continuous_aggs_jobs_refresh_ranges in share update exclusive mode;
            v_locked := true;
            continue;
        end if;
        exit when clock_timestamp() >= v_deadline;
        perform pg_sleep(0.05);
    end loop;
    return false;
end;
$$;

comment on function market._await_concurrent_refresh(text, interval) is
'Private (TimescaleDB mode): waits up to p_timeout until no other live session is refreshing the '
'continuous aggregate market.<p_view>; true when none is, false on timeout. When the caller may, '
'it then holds the lock TimescaleDB registers refreshes under until the transaction ends, so the '
'caller''s refresh registers before any other.';

create or replace procedure market.refresh_rollups(p_until timestamptz default null)
language plpgsql
as $$
declare
    v_until timestamptz := least(coalesce(p_until, now()), now());
    v_chain text;
    v_tf text;
    v_width interval;
begin
    -- Refresh each continuous aggregate over (-infinity, start of the forming bucket): only the
    -- invalidated regions are recomputed, so the cost follows the changed data. Security invoker:
    -- refresh_continuous_aggregate commits internally, which a security definer procedure may
    -- not do; call it as the owner or an administrator. buckets_per_batch = 0: one statement per
    -- invalidated range instead of batches that each rescan whole chunks.
    -- Narrowest timeframe first: every aggregate after the one it is built from (rollup_parent).
    foreach v_chain in array array['trade', 'native'] loop
        for v_tf, v_width in
            select t.timeframe, t.bucket_width from market.timeframes as t where t.is_rollup order by t.bucket_width
        loop
            continue when v_chain = 'native' and v_tf = '1m';
            -- on timeout the refresh below fails with TimescaleDB's own message
            perform market._await_concurrent_refresh(v_chain || '_candles_' || v_tf);
            call public.refresh_continuous_aggregate(
                format('market.%I', v_chain || '_candles_' || v_tf)::regclass,
                null,
                public.time_bucket(v_width, v_until),
                options => '{"buckets_per_batch": 0}'::jsonb
            );
        end loop;
    end loop;
end;
$$;

comment on procedure market.refresh_rollups (timestamptz) is
'Brings every candle rollup up to date, for buckets that ended on or before p_until (default and '
'at most now(); the forming bucket is never materialized). TimescaleDB mode: refreshes the '
'continuous aggregates in hierarchy order, each after any concurrent refresh of it (a policy job) '
'has ended; call outside a transaction block, as owner or admin.';
