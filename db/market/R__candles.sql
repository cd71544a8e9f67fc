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

create or replace view market.candles_1m as
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
from market.trade_candles_1m as t
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
from market.native_candles_1m as n
inner join market.instruments as i on n.instrument_id = i.instrument_id
where
    i.candle_source = 'native'
    or (
        i.candle_source = 'auto'
        and not exists (
            select 1
            from market.trade_candles_1m as t
            where t.instrument_id = n.instrument_id and t.open_time = n.open_time
        )
    );

comment on view market.candles_1m is
'1m candles for every instrument: the relation downstream code reads. Built from trades, or from '
'native 1m candles for instruments without a trade feed (rule: market.instruments.candle_source). '
'Complete buckets only; no row for a bucket without trades.';
comment on column market.candles_1m.instrument_id is 'Instrument (market.instruments).';
comment on column market.candles_1m.open_time is 'Start of the candle (UTC; buckets aligned like time_bucket: midnight UTC for 1d).';
comment on column market.candles_1m.open is 'First price; ties on time broken by trade id.';
comment on column market.candles_1m.high is 'Highest price.';
comment on column market.candles_1m.low is 'Lowest price.';
comment on column market.candles_1m.close is 'Last price; ties on time broken by trade id.';
comment on column market.candles_1m.volume is 'Base volume: the sum of trade sizes.';
comment on column market.candles_1m.quote_volume is 'Quote volume: the sum of price x size (NULL when a native source lacks it).';
comment on column market.candles_1m.vwap is 'Volume-weighted average price = quote_volume / volume.';
comment on column market.candles_1m.trade_count is 'Number of trades (NULL when a native source lacks it).';
comment on column market.candles_1m.source is 'trades (built from market.trades) or native (from exchange 1m candles).';

create or replace view market.candles_5m as
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
from market.trade_candles_5m as t
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
from market.native_candles_5m as n
inner join market.instruments as i on n.instrument_id = i.instrument_id
where
    i.candle_source = 'native'
    or (
        i.candle_source = 'auto'
        and not exists (
            select 1
            from market.trade_candles_5m as t
            where t.instrument_id = n.instrument_id and t.open_time = n.open_time
        )
    );

comment on view market.candles_5m is
'5m candles for every instrument: the relation downstream code reads. Built from trades, or from '
'native 1m candles for instruments without a trade feed (rule: market.instruments.candle_source). '
'Complete buckets only; no row for a bucket without trades.';
comment on column market.candles_5m.instrument_id is 'Instrument (market.instruments).';
comment on column market.candles_5m.open_time is 'Start of the candle (UTC; buckets aligned like time_bucket: midnight UTC for 1d).';
comment on column market.candles_5m.open is 'First price; ties on time broken by trade id.';
comment on column market.candles_5m.high is 'Highest price.';
comment on column market.candles_5m.low is 'Lowest price.';
comment on column market.candles_5m.close is 'Last price; ties on time broken by trade id.';
comment on column market.candles_5m.volume is 'Base volume: the sum of trade sizes.';
comment on column market.candles_5m.quote_volume is 'Quote volume: the sum of price x size (NULL when a native source lacks it).';
comment on column market.candles_5m.vwap is 'Volume-weighted average price = quote_volume / volume.';
comment on column market.candles_5m.trade_count is 'Number of trades (NULL when a native source lacks it).';
comment on column market.candles_5m.source is 'trades (built from market.trades) or native (from exchange 1m candles).';

create or replace view market.candles_15m as
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
from market.trade_candles_15m as t
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
from market.native_candles_15m as n
inner join market.instruments as i on n.instrument_id = i.instrument_id
where
    i.candle_source = 'native'
    or (
        i.candle_source = 'auto'
        and not exists (
            select 1
            from market.trade_candles_15m as t
            where t.instrument_id = n.instrument_id and t.open_time = n.open_time
        )
    );

comment on view market.candles_15m is
'15m candles for every instrument: the relation downstream code reads. Built from trades, or from '
'native 1m candles for instruments without a trade feed (rule: market.instruments.candle_source). '
'Complete buckets only; no row for a bucket without trades.';
comment on column market.candles_15m.instrument_id is 'Instrument (market.instruments).';
comment on column market.candles_15m.open_time is 'Start of the candle (UTC; buckets aligned like time_bucket: midnight UTC for 1d).';
comment on column market.candles_15m.open is 'First price; ties on time broken by trade id.';
comment on column market.candles_15m.high is 'Highest price.';
comment on column market.candles_15m.low is 'Lowest price.';
comment on column market.candles_15m.close is 'Last price; ties on time broken by trade id.';
comment on column market.candles_15m.volume is 'Base volume: the sum of trade sizes.';
comment on column market.candles_15m.quote_volume is 'Quote volume: the sum of price x size (NULL when a native source lacks it).';
comment on column market.candles_15m.vwap is 'Volume-weighted average price = quote_volume / volume.';
comment on column market.candles_15m.trade_count is 'Number of trades (NULL when a native source lacks it).';
comment on column market.candles_15m.source is 'trades (built from market.trades) or native (from exchange 1m candles).';

create or replace view market.candles_1h as
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
from market.trade_candles_1h as t
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
from market.native_candles_1h as n
inner join market.instruments as i on n.instrument_id = i.instrument_id
where
    i.candle_source = 'native'
    or (
        i.candle_source = 'auto'
        and not exists (
            select 1
            from market.trade_candles_1h as t
            where t.instrument_id = n.instrument_id and t.open_time = n.open_time
        )
    );

comment on view market.candles_1h is
'1h candles for every instrument: the relation downstream code reads. Built from trades, or from '
'native 1m candles for instruments without a trade feed (rule: market.instruments.candle_source). '
'Complete buckets only; no row for a bucket without trades.';
comment on column market.candles_1h.instrument_id is 'Instrument (market.instruments).';
comment on column market.candles_1h.open_time is 'Start of the candle (UTC; buckets aligned like time_bucket: midnight UTC for 1d).';
comment on column market.candles_1h.open is 'First price; ties on time broken by trade id.';
comment on column market.candles_1h.high is 'Highest price.';
comment on column market.candles_1h.low is 'Lowest price.';
comment on column market.candles_1h.close is 'Last price; ties on time broken by trade id.';
comment on column market.candles_1h.volume is 'Base volume: the sum of trade sizes.';
comment on column market.candles_1h.quote_volume is 'Quote volume: the sum of price x size (NULL when a native source lacks it).';
comment on column market.candles_1h.vwap is 'Volume-weighted average price = quote_volume / volume.';
comment on column market.candles_1h.trade_count is 'Number of trades (NULL when a native source lacks it).';
comment on column market.candles_1h.source is 'trades (built from market.trades) or native (from exchange 1m candles).';

create or replace view market.candles_4h as
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
from market.trade_candles_4h as t
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
from market.native_candles_4h as n
inner join market.instruments as i on n.instrument_id = i.instrument_id
where
    i.candle_source = 'native'
    or (
        i.candle_source = 'auto'
        and not exists (
            select 1
            from market.trade_candles_4h as t
            where t.instrument_id = n.instrument_id and t.open_time = n.open_time
        )
    );

comment on view market.candles_4h is
'4h candles for every instrument: the relation downstream code reads. Built from trades, or from '
'native 1m candles for instruments without a trade feed (rule: market.instruments.candle_source). '
'Complete buckets only; no row for a bucket without trades.';
comment on column market.candles_4h.instrument_id is 'Instrument (market.instruments).';
comment on column market.candles_4h.open_time is 'Start of the candle (UTC; buckets aligned like time_bucket: midnight UTC for 1d).';
comment on column market.candles_4h.open is 'First price; ties on time broken by trade id.';
comment on column market.candles_4h.high is 'Highest price.';
comment on column market.candles_4h.low is 'Lowest price.';
comment on column market.candles_4h.close is 'Last price; ties on time broken by trade id.';
comment on column market.candles_4h.volume is 'Base volume: the sum of trade sizes.';
comment on column market.candles_4h.quote_volume is 'Quote volume: the sum of price x size (NULL when a native source lacks it).';
comment on column market.candles_4h.vwap is 'Volume-weighted average price = quote_volume / volume.';
comment on column market.candles_4h.trade_count is 'Number of trades (NULL when a native source lacks it).';
comment on column market.candles_4h.source is 'trades (built from market.trades) or native (from exchange 1m candles).';

create or replace view market.candles_1d as
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
from market.trade_candles_1d as t
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
from market.native_candles_1d as n
inner join market.instruments as i on n.instrument_id = i.instrument_id
where
    i.candle_source = 'native'
    or (
        i.candle_source = 'auto'
        and not exists (
            select 1
            from market.trade_candles_1d as t
            where t.instrument_id = n.instrument_id and t.open_time = n.open_time
        )
    );

comment on view market.candles_1d is
'1d candles for every instrument: the relation downstream code reads. Built from trades, or from '
'native 1m candles for instruments without a trade feed (rule: market.instruments.candle_source). '
'Complete buckets only; no row for a bucket without trades.';
comment on column market.candles_1d.instrument_id is 'Instrument (market.instruments).';
comment on column market.candles_1d.open_time is 'Start of the candle (UTC; buckets aligned like time_bucket: midnight UTC for 1d).';
comment on column market.candles_1d.open is 'First price; ties on time broken by trade id.';
comment on column market.candles_1d.high is 'Highest price.';
comment on column market.candles_1d.low is 'Lowest price.';
comment on column market.candles_1d.close is 'Last price; ties on time broken by trade id.';
comment on column market.candles_1d.volume is 'Base volume: the sum of trade sizes.';
comment on column market.candles_1d.quote_volume is 'Quote volume: the sum of price x size (NULL when a native source lacks it).';
comment on column market.candles_1d.vwap is 'Volume-weighted average price = quote_volume / volume.';
comment on column market.candles_1d.trade_count is 'Number of trades (NULL when a native source lacks it).';
comment on column market.candles_1d.source is 'trades (built from market.trades) or native (from exchange 1m candles).';

grant select on market.native_candles_1m, market.candles_1m, market.candles_5m, market.candles_15m, market.candles_1h, market.candles_4h, market.candles_1d
    to tsq_loader, tsq_analyst, tsq_trader;
