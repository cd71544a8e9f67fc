-- TimescaleDB mode: continuous aggregates of the timeframes added by V0132, on top of the
-- aggregates of V0107__rollups.timescaledb.sql (30m from 15m, 2h from 1h, 1w from 1d), in both
-- chains, with the same definitions and determinism as there. time_bucket aligns 7-day buckets on
-- its origin 2000-01-03, a Monday (as Binance's 1w klines); the plain-mode twin uses date_bin with
-- the same origin. Refresh policies as in V0107: end_offset = one bucket.

do $caggs$
declare
    v_chain text;
    v_tf text;
    v_parent text;
    v_width interval;
    v_rel text;
begin
    foreach v_chain in array array['trade', 'native'] loop
        for v_tf, v_parent, v_width in select t.timeframe, t.rollup_parent, t.bucket_width from market.timeframes as t
            where t.timeframe in ('30m', '2h', '1w') order by t.bucket_width
        loop
            v_rel := v_chain || '_candles_' || v_tf;
            execute format(
                $ddl$
                create materialized view market.%1$I
                with (timescaledb.continuous, timescaledb.materialized_only = true) as
                select
                    c.instrument_id,
                    public.time_bucket(%3$L::interval, c.open_time) as open_time,
                    public.first(c.open, c.open_time) as open,
                    max(c.high) as high,
                    min(c.low) as low,
                    public.last(c.close, c.open_time) as close,
                    sum(c.volume::numeric)::double precision as volume,
                    %4$s
                from market.%2$I as c
                group by c.instrument_id, public.time_bucket(%3$L::interval, c.open_time)
                with no data
                $ddl$,
                v_rel, v_chain || '_candles_' || v_parent, v_width,
                case when v_chain = 'trade' then
                    'sum(c.quote_volume::numeric)::double precision as quote_volume,
                    (sum(c.quote_volume::numeric) / sum(c.volume::numeric))::double precision as vwap,
                    sum(c.trade_count)::bigint as trade_count'
                else
                    'case when count(c.quote_volume) = count(*) then sum(c.quote_volume::numeric)::double precision end as quote_volume,
                    case when count(c.quote_volume) = count(*) and sum(c.volume::numeric) > 0
                        then (sum(c.quote_volume::numeric) / sum(c.volume::numeric))::double precision end as vwap,
                    case when count(c.trade_count) = count(*) then sum(c.trade_count)::bigint end as trade_count'
                end
            );
            perform public.add_continuous_aggregate_policy(
                format('market.%I', v_rel)::regclass,
                start_offset => case v_tf when '30m' then interval '14 days' when '2h' then interval '60 days'
                    else interval '400 days' end,
                end_offset => v_width,
                buckets_per_batch => 0,
                schedule_interval => case v_tf when '30m' then interval '5 minutes' when '2h' then interval '15 minutes'
                    else interval '1 hour' end
            );
            execute format('comment on view market.%I is %L', v_rel,
                v_tf || ' candles rolled up from market.' || v_chain || '_candles_' || v_parent
                || ' (continuous aggregate). Read market.candles_' || v_tf || ' instead.');
            execute format(
                $comments$
                comment on column market.%1$I.instrument_id is 'Instrument.';
                comment on column market.%1$I.open_time is 'Start of the bucket (UTC, time_bucket: weeks start on Monday).';
                comment on column market.%1$I.open is 'First price.';
                comment on column market.%1$I.high is 'Highest price.';
                comment on column market.%1$I.low is 'Lowest price.';
                comment on column market.%1$I.close is 'Last price.';
                comment on column market.%1$I.volume is 'Sum of volumes.';
                comment on column market.%1$I.quote_volume is 'Sum of quote volumes (NULL when an input lacks it).';
                comment on column market.%1$I.vwap is 'quote_volume / volume.';
                comment on column market.%1$I.trade_count is 'Number of trades (NULL when an input lacks it).';
                $comments$,
                v_rel
            );
            execute format('grant select on market.%I to tsq_loader, tsq_analyst, tsq_trader', v_rel);
        end loop;
    end loop;
end
$caggs$;
