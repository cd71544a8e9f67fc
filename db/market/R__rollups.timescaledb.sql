-- TimescaleDB mode: market.refresh_rollups() refreshes the continuous aggregates of
-- V0106__rollups.timescaledb.sql, lowest timeframe first. Same signature as the plain-mode
-- procedure (R__rollups.postgresql.sql). Refresh policies do the same on a schedule; this is for
-- loaders, tests, backfills and late data older than the policies' start_offset.

create or replace procedure market.refresh_rollups(p_until timestamptz default null)
language plpgsql
as $$
declare
    v_until timestamptz := least(coalesce(p_until, now()), now());
    v_tfs constant text[] := array['1m', '5m', '15m', '1h', '4h', '1d'];
    v_widths constant interval[] := array[
        interval '1 minute', interval '5 minutes', interval '15 minutes',
        interval '1 hour', interval '4 hours', interval '1 day'
    ];
    v_chain text;
begin
    -- Refresh each continuous aggregate over (-infinity, start of the forming bucket): only the
    -- invalidated regions are recomputed, so the cost follows the changed data. Security invoker:
    -- refresh_continuous_aggregate commits internally, which a security definer procedure may
    -- not do; call it as the owner or an administrator. buckets_per_batch = 0: one statement per
    -- invalidated range instead of batches that each rescan whole chunks.
    foreach v_chain in array array['trade', 'native'] loop
        for v_i in 1 .. array_length(v_tfs, 1) loop
            continue when v_chain = 'native' and v_tfs[v_i] = '1m';
            call public.refresh_continuous_aggregate(
                format('market.%I', v_chain || '_candles_' || v_tfs[v_i])::regclass,
                null,
                public.time_bucket(v_widths[v_i], v_until),
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
