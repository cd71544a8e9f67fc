-- TimescaleDB mode: market.refresh_rollups() refreshes the continuous aggregates of
-- V0107__rollups.timescaledb.sql and V0133 (30m, 2h, 1w), narrowest timeframe first. Same
-- signature as the plain-mode procedure (R__rollups.postgresql.sql). Refresh policies do the same on a schedule; this is for
-- loaders, tests, backfills and late data older than the policies' start_offset.

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
'continuous aggregates in hierarchy order; call outside a transaction block, as owner or admin.';
