-- tsquant:requires db/market/R__candle_kind.sql
-- The candle relations everything downstream reads: market.candles_1m … market.candles_1w (one
-- per rollup timeframe of market.timeframes: 1m 5m 15m 30m 1h 2h 4h 1d 1w). Same definition in both
-- database modes (the relations they read are continuous aggregates in TimescaleDB mode and
-- rollup tables in plain mode, with the same names and columns).
--
-- Three kinds of candle can exist for a bucket; one precedence rule, the same for every timeframe:
--   1. trades     built from market.trades (market.trade_candles_<tf>);
--   2. native     the exchange's candle of exactly this timeframe (market.candles, timeframe <tf>);
--   3. native_1m  rolled up from the exchange's 1m candles (market.native_candles_<tf>; not for 1m,
--                 where 2 and 3 are the same rows).
-- The first kind that exists for the bucket is shown, among the kinds the instrument allows
-- (market.instruments.candle_source): auto (default) 1 > 2 > 3; trades only 1; native 2 > 3.
-- An instrument without a trade feed therefore shows its exchange candles.
-- No gap filling: a bucket without any candle has no row (see market.find_gaps and
-- market.candles_gapfilled).
--
-- Query shape (issue 9, item 9): the kinds are a UNION ALL of single-table branches, so the
-- planner flattens it and a latest-N query for one instrument is a merge of three backward index
-- scans; the precedence test is a join filter with the instrument row (evaluated on the merged
-- stream, one primary-key probe per shadowing kind), never a filter inside a branch, which would
-- make a branch whose rows are all shadowed scan its whole history before the merge could go on.

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

-- The candle relations share one definition: it is written once here and created for every
-- rollup timeframe of market.timeframes, so the precedence rule cannot drift between them.
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
                c.instrument_id,
                c.open_time,
                c.open,
                c.high,
                c.low,
                c.close,
                c.volume,
                c.quote_volume,
                c.vwap,
                c.trade_count,
                c.source
            from (
                select
                    t.instrument_id, %4$L::text as timeframe, t.open_time, t.open, t.high, t.low, t.close,
                    t.volume, t.quote_volume, t.vwap, t.trade_count, market._candle_kind('trades') as source
                from market.%2$I as t
                union all
                select
                    n.instrument_id, n.timeframe, n.open_time, n.open, n.high, n.low, n.close, n.volume,
                    n.quote_volume,
                    case when n.volume > 0 then (n.quote_volume::numeric / n.volume::numeric)::double precision end,
                    n.trade_count, market._candle_kind('native')
                from market.candles as n
                %5$s
            ) as c
            inner join market.instruments as i on c.instrument_id = i.instrument_id
            -- One CASE (not an OR of conditions): the planner cannot split a branch-only part out
            -- of it and push it into a branch as a filter.
            -- The timeframe filter on the union's column (not inside the market.candles branch):
            -- then it is an equivalence the planner applies to every branch, and the primary key
            -- (instrument_id, timeframe, open_time) of market.candles gives the open_time order.
            -- Shadowing probes are scalar subqueries, not EXISTS: an EXISTS may be turned into a
            -- hashed subplan that reads the whole relation once, ruinous under a LIMIT.
            where
                c.timeframe = %4$L
                and case c.source
                    when 'trades' then i.candle_source in ('auto', 'trades')
                    when 'native' then
                        i.candle_source = 'native'
                        or (
                            i.candle_source = 'auto'
                            and (
                                select true from market.%2$I as t
                                where t.instrument_id = c.instrument_id and t.open_time = c.open_time
                            ) is null
                        )
                    else
                        i.candle_source in ('auto', 'native')
                        and (
                            select true from market.candles as n
                            where n.instrument_id = c.instrument_id and n.timeframe = %4$L and n.open_time = c.open_time
                        ) is null
                        and (
                            i.candle_source = 'native'
                            or (
                                select true from market.%2$I as t
                                where t.instrument_id = c.instrument_id and t.open_time = c.open_time
                            ) is null
                        )
                end
            $view$,
            'candles_' || v_tf, 'trade_candles_' || v_tf, 'native_candles_' || v_tf, v_tf,
            case when v_tf <> '1m' then format(
                $leg$
                union all
                select
                    r.instrument_id, %L::text, r.open_time, r.open, r.high, r.low, r.close, r.volume,
                    r.quote_volume, r.vwap, r.trade_count, market._candle_kind('native_1m')
                from market.%I as r
                $leg$, v_tf, 'native_candles_' || v_tf)
            else '' end
        );
        execute format(
            'comment on view market.%I is %L', 'candles_' || v_tf,
            v_tf || ' candles for every instrument: the relation downstream code reads. Per bucket the '
            || 'first that exists of: the candle built from trades, the exchange''s ' || v_tf || ' candle, '
            || 'the rollup of the exchange''s 1m candles (among the kinds market.instruments.candle_source '
            || 'allows; column source). Complete buckets only; no row for a bucket without any candle.'
        );
        execute format(
            $comments$
            comment on column market.%1$I.instrument_id is 'Instrument (market.instruments).';
            comment on column market.%1$I.open_time is 'Start of the candle (UTC; buckets aligned like time_bucket: midnight UTC for 1d, Monday 00:00 UTC for 1w).';
            comment on column market.%1$I.open is 'First price; ties on time broken by trade id.';
            comment on column market.%1$I.high is 'Highest price.';
            comment on column market.%1$I.low is 'Lowest price.';
            comment on column market.%1$I.close is 'Last price; ties on time broken by trade id.';
            comment on column market.%1$I.volume is 'Base volume: the sum of trade sizes.';
            comment on column market.%1$I.quote_volume is 'Quote volume: the sum of price x size (NULL when a native source lacks it).';
            comment on column market.%1$I.vwap is 'Volume-weighted average price = quote_volume / volume.';
            comment on column market.%1$I.trade_count is 'Number of trades (NULL when a native source lacks it).';
            comment on column market.%1$I.source is 'trades (built from market.trades), native (the exchange''s candle of this timeframe) or native_1m (rolled up from the exchange''s 1m candles).';
            $comments$,
            'candles_' || v_tf
        );
        execute format('grant select on market.%I to tsq_loader, tsq_analyst, tsq_trader', 'candles_' || v_tf);
    end loop;
end
$candle_views$;

grant select on market.native_candles_1m
    to tsq_loader, tsq_analyst, tsq_trader;
