-- The candle relations everything downstream reads: market.candles_1m … market.candles_1d.
-- Same definition in both database modes (the relations they read are continuous aggregates in
-- TimescaleDB mode and rollup tables in plain mode, with the same names and columns).
--
-- Native vs trade-derived rule, per instrument (market.instruments.candle_source):
--   trades -> only candles built from market.trades;
--   native -> only candles rolled up from the exchange's 1m candles (market.candles, 1m);
--   auto   -> (default) per bucket: the trade-derived candle when one exists, the native one
--             otherwise. An instrument without a trade feed therefore shows its native candles.
-- No gap filling: a bucket without trades has no row (see market.find_gaps and
-- market.candles_gapfilled).

create or replace view market.native_candles_1m as
select
    c.instrument_id,
    c.open_time,
    c.open,
    c.high,
    c.low,
    c.close,
    c.volume,
    c.quote_volume,
    case when c.volume > 0 then (c.quote_volume::numeric / c.volume::numeric)::double precision end as vwap,
    c.trade_count
from market.candles as c
where c.timeframe = '1m';

comment on view market.native_candles_1m is
'Native 1m candles (market.candles, timeframe 1m) in the rollup column layout. Read market.candles_1m instead.';

-- The six candle relations share one definition: it is written once here and created for every
-- rollup timeframe of market.timeframes, so the native-vs-trade rule cannot drift between them.
do $candle_views$
declare
    v_tf text;
begin
    for v_tf in select t.timeframe from market.timeframes as t where t.is_rollup order by t.bucket_width
    loop
        execute format(
            $view$
            create or replace view market.%1$I as
            select
                t.instrument_id,
                t.open_time,
                t.open,
                t.high,
                t.low,
                t.close,
                t.volume,
                t.quote_volume,
                t.vwap,
                t.trade_count,
                'trades'::text as source
            from market.%2$I as t
            inner join market.instruments as i on t.instrument_id = i.instrument_id
            where i.candle_source in ('auto', 'trades')
            union all
            select
                n.instrument_id,
                n.open_time,
                n.open,
                n.high,
                n.low,
                n.close,
                n.volume,
                n.quote_volume,
                n.vwap,
                n.trade_count,
                'native'::text as source
            from market.%3$I as n
            inner join market.instruments as i on n.instrument_id = i.instrument_id
            where
                i.candle_source = 'native'
                or (
                    i.candle_source = 'auto'
                    and not exists (
                        select 1
                        from market.%2$I as t
                        where t.instrument_id = n.instrument_id and t.open_time = n.open_time
                    )
                )
            $view$,
            'candles_' || v_tf, 'trade_candles_' || v_tf, 'native_candles_' || v_tf
        );
        execute format(
            'comment on view market.%I is %L', 'candles_' || v_tf,
            v_tf || ' candles for every instrument: the relation downstream code reads. Built from '
            || 'trades, or from native 1m candles for instruments without a trade feed (rule: '
            || 'market.instruments.candle_source). Complete buckets only; no row for a bucket without trades.'
        );
        execute format(
            $comments$
            comment on column market.%1$I.instrument_id is 'Instrument (market.instruments).';
            comment on column market.%1$I.open_time is 'Start of the candle (UTC; buckets aligned like time_bucket: midnight UTC for 1d).';
            comment on column market.%1$I.open is 'First price; ties on time broken by trade id.';
            comment on column market.%1$I.high is 'Highest price.';
            comment on column market.%1$I.low is 'Lowest price.';
            comment on column market.%1$I.close is 'Last price; ties on time broken by trade id.';
            comment on column market.%1$I.volume is 'Base volume: the sum of trade sizes.';
            comment on column market.%1$I.quote_volume is 'Quote volume: the sum of price x size (NULL when a native source lacks it).';
            comment on column market.%1$I.vwap is 'Volume-weighted average price = quote_volume / volume.';
            comment on column market.%1$I.trade_count is 'Number of trades (NULL when a native source lacks it).';
            comment on column market.%1$I.source is 'trades (built from market.trades) or native (from exchange 1m candles).';
            $comments$,
            'candles_' || v_tf
        );
    end loop;
end
$candle_views$;

grant select on market.native_candles_1m, market.candles_1m, market.candles_5m, market.candles_15m, market.candles_1h, market.candles_4h, market.candles_1d
    to tsq_loader, tsq_analyst, tsq_trader;
