-- TimescaleDB mode: candle rollups as hierarchical continuous aggregates.
-- Trade chain:  market.trades -> trade_candles_1m -> 5m -> 15m -> 1h -> 4h -> 1d
-- Native chain: market.candles (timeframe 1m) -> native_candles_5m -> 15m -> 1h -> 4h -> 1d
-- Plain-mode twin: V0106__rollups.postgresql.sql (tables with the same names and columns,
-- maintained by market.refresh_rollups()). Downstream code reads market.candles_<tf>
-- (db/market/R__candles.sql), never these relations directly.
--
-- Determinism (so that both modes give bit-identical rows):
-- * open/close: first/last by the int8 key (microsecond offset in the minute) * 2^37 +
--   (trade_id mod 2^37), i.e. by time, ties broken by trade id (a by-value key keeps first/last
--   fast; a row(time, trade_id) key fails in TimescaleDB's partial aggregation). The order
--   equals (time, trade_id) unless two trades of the same microsecond have ids on both sides
--   of a multiple of 2^37 (1.4e11); the plain-mode twin uses the same key;
-- * volume, quote_volume: summed as numeric (exact, independent of scan order), then float8;
-- * vwap = sum(quote_volume) / sum(volume) in numeric, then float8.
-- materialized_only = true: a bucket is visible once refreshed; the refresh policies'
-- end_offset (one bucket) keeps the still-forming bucket out. Policies cover recent windows;
-- late data older than start_offset is picked up by `call market.refresh_rollups()`.

create materialized view market.trade_candles_1m
with (timescaledb.continuous, timescaledb.materialized_only = true) as
select
    t.instrument_id,
    public.time_bucket(interval '1 minute', t.time) as open_time,
    public.first(
        t.price,
        date_part('microseconds', t.time - public.time_bucket(interval '1 minute', t.time))::bigint * 137438953472
        + t.trade_id % 137438953472
    ) as open,
    max(t.price) as high,
    min(t.price) as low,
    public.last(
        t.price,
        date_part('microseconds', t.time - public.time_bucket(interval '1 minute', t.time))::bigint * 137438953472
        + t.trade_id % 137438953472
    ) as close,
    sum(t.quantity::numeric)::double precision as volume,
    sum((t.price * t.quantity)::numeric)::double precision as quote_volume,
    (sum((t.price * t.quantity)::numeric) / sum(t.quantity::numeric))::double precision as vwap,
    count(*) as trade_count
from market.trades as t
group by t.instrument_id, public.time_bucket(interval '1 minute', t.time)
with no data;

create materialized view market.trade_candles_5m
with (timescaledb.continuous, timescaledb.materialized_only = true) as
select
    c.instrument_id,
    public.time_bucket(interval '5 minutes', c.open_time) as open_time,
    public.first(c.open, c.open_time) as open,
    max(c.high) as high,
    min(c.low) as low,
    public.last(c.close, c.open_time) as close,
    sum(c.volume::numeric)::double precision as volume,
    sum(c.quote_volume::numeric)::double precision as quote_volume,
    (sum(c.quote_volume::numeric) / sum(c.volume::numeric))::double precision as vwap,
    sum(c.trade_count)::bigint as trade_count
from market.trade_candles_1m as c
group by c.instrument_id, public.time_bucket(interval '5 minutes', c.open_time)
with no data;

create materialized view market.trade_candles_15m
with (timescaledb.continuous, timescaledb.materialized_only = true) as
select
    c.instrument_id,
    public.time_bucket(interval '15 minutes', c.open_time) as open_time,
    public.first(c.open, c.open_time) as open,
    max(c.high) as high,
    min(c.low) as low,
    public.last(c.close, c.open_time) as close,
    sum(c.volume::numeric)::double precision as volume,
    sum(c.quote_volume::numeric)::double precision as quote_volume,
    (sum(c.quote_volume::numeric) / sum(c.volume::numeric))::double precision as vwap,
    sum(c.trade_count)::bigint as trade_count
from market.trade_candles_5m as c
group by c.instrument_id, public.time_bucket(interval '15 minutes', c.open_time)
with no data;

create materialized view market.trade_candles_1h
with (timescaledb.continuous, timescaledb.materialized_only = true) as
select
    c.instrument_id,
    public.time_bucket(interval '1 hour', c.open_time) as open_time,
    public.first(c.open, c.open_time) as open,
    max(c.high) as high,
    min(c.low) as low,
    public.last(c.close, c.open_time) as close,
    sum(c.volume::numeric)::double precision as volume,
    sum(c.quote_volume::numeric)::double precision as quote_volume,
    (sum(c.quote_volume::numeric) / sum(c.volume::numeric))::double precision as vwap,
    sum(c.trade_count)::bigint as trade_count
from market.trade_candles_15m as c
group by c.instrument_id, public.time_bucket(interval '1 hour', c.open_time)
with no data;

create materialized view market.trade_candles_4h
with (timescaledb.continuous, timescaledb.materialized_only = true) as
select
    c.instrument_id,
    public.time_bucket(interval '4 hours', c.open_time) as open_time,
    public.first(c.open, c.open_time) as open,
    max(c.high) as high,
    min(c.low) as low,
    public.last(c.close, c.open_time) as close,
    sum(c.volume::numeric)::double precision as volume,
    sum(c.quote_volume::numeric)::double precision as quote_volume,
    (sum(c.quote_volume::numeric) / sum(c.volume::numeric))::double precision as vwap,
    sum(c.trade_count)::bigint as trade_count
from market.trade_candles_1h as c
group by c.instrument_id, public.time_bucket(interval '4 hours', c.open_time)
with no data;

create materialized view market.trade_candles_1d
with (timescaledb.continuous, timescaledb.materialized_only = true) as
select
    c.instrument_id,
    public.time_bucket(interval '1 day', c.open_time) as open_time,
    public.first(c.open, c.open_time) as open,
    max(c.high) as high,
    min(c.low) as low,
    public.last(c.close, c.open_time) as close,
    sum(c.volume::numeric)::double precision as volume,
    sum(c.quote_volume::numeric)::double precision as quote_volume,
    (sum(c.quote_volume::numeric) / sum(c.volume::numeric))::double precision as vwap,
    sum(c.trade_count)::bigint as trade_count
from market.trade_candles_4h as c
group by c.instrument_id, public.time_bucket(interval '1 day', c.open_time)
with no data;

create materialized view market.native_candles_5m
with (timescaledb.continuous, timescaledb.materialized_only = true) as
select
    c.instrument_id,
    public.time_bucket(interval '5 minutes', c.open_time) as open_time,
    public.first(c.open, c.open_time) as open,
    max(c.high) as high,
    min(c.low) as low,
    public.last(c.close, c.open_time) as close,
    sum(c.volume::numeric)::double precision as volume,
    case when count(c.quote_volume) = count(*) then sum(c.quote_volume::numeric)::double precision end as quote_volume,
    case when count(c.quote_volume) = count(*) and sum(c.volume::numeric) > 0
        then (sum(c.quote_volume::numeric) / sum(c.volume::numeric))::double precision end as vwap,
    case when count(c.trade_count) = count(*) then sum(c.trade_count)::bigint end as trade_count
from market.candles as c
where c.timeframe = '1m'
group by c.instrument_id, public.time_bucket(interval '5 minutes', c.open_time)
with no data;

create materialized view market.native_candles_15m
with (timescaledb.continuous, timescaledb.materialized_only = true) as
select
    c.instrument_id,
    public.time_bucket(interval '15 minutes', c.open_time) as open_time,
    public.first(c.open, c.open_time) as open,
    max(c.high) as high,
    min(c.low) as low,
    public.last(c.close, c.open_time) as close,
    sum(c.volume::numeric)::double precision as volume,
    case when count(c.quote_volume) = count(*) then sum(c.quote_volume::numeric)::double precision end as quote_volume,
    case when count(c.quote_volume) = count(*) and sum(c.volume::numeric) > 0
        then (sum(c.quote_volume::numeric) / sum(c.volume::numeric))::double precision end as vwap,
    case when count(c.trade_count) = count(*) then sum(c.trade_count)::bigint end as trade_count
from market.native_candles_5m as c
group by c.instrument_id, public.time_bucket(interval '15 minutes', c.open_time)
with no data;

create materialized view market.native_candles_1h
with (timescaledb.continuous, timescaledb.materialized_only = true) as
select
    c.instrument_id,
    public.time_bucket(interval '1 hour', c.open_time) as open_time,
    public.first(c.open, c.open_time) as open,
    max(c.high) as high,
    min(c.low) as low,
    public.last(c.close, c.open_time) as close,
    sum(c.volume::numeric)::double precision as volume,
    case when count(c.quote_volume) = count(*) then sum(c.quote_volume::numeric)::double precision end as quote_volume,
    case when count(c.quote_volume) = count(*) and sum(c.volume::numeric) > 0
        then (sum(c.quote_volume::numeric) / sum(c.volume::numeric))::double precision end as vwap,
    case when count(c.trade_count) = count(*) then sum(c.trade_count)::bigint end as trade_count
from market.native_candles_15m as c
group by c.instrument_id, public.time_bucket(interval '1 hour', c.open_time)
with no data;

create materialized view market.native_candles_4h
with (timescaledb.continuous, timescaledb.materialized_only = true) as
select
    c.instrument_id,
    public.time_bucket(interval '4 hours', c.open_time) as open_time,
    public.first(c.open, c.open_time) as open,
    max(c.high) as high,
    min(c.low) as low,
    public.last(c.close, c.open_time) as close,
    sum(c.volume::numeric)::double precision as volume,
    case when count(c.quote_volume) = count(*) then sum(c.quote_volume::numeric)::double precision end as quote_volume,
    case when count(c.quote_volume) = count(*) and sum(c.volume::numeric) > 0
        then (sum(c.quote_volume::numeric) / sum(c.volume::numeric))::double precision end as vwap,
    case when count(c.trade_count) = count(*) then sum(c.trade_count)::bigint end as trade_count
from market.native_candles_1h as c
group by c.instrument_id, public.time_bucket(interval '4 hours', c.open_time)
with no data;

create materialized view market.native_candles_1d
with (timescaledb.continuous, timescaledb.materialized_only = true) as
select
    c.instrument_id,
    public.time_bucket(interval '1 day', c.open_time) as open_time,
    public.first(c.open, c.open_time) as open,
    max(c.high) as high,
    min(c.low) as low,
    public.last(c.close, c.open_time) as close,
    sum(c.volume::numeric)::double precision as volume,
    case when count(c.quote_volume) = count(*) then sum(c.quote_volume::numeric)::double precision end as quote_volume,
    case when count(c.quote_volume) = count(*) and sum(c.volume::numeric) > 0
        then (sum(c.quote_volume::numeric) / sum(c.volume::numeric))::double precision end as vwap,
    case when count(c.trade_count) = count(*) then sum(c.trade_count)::bigint end as trade_count
from market.native_candles_4h as c
group by c.instrument_id, public.time_bucket(interval '1 day', c.open_time)
with no data;

-- Refresh policies: end_offset = one bucket keeps the forming bucket out. buckets_per_batch = 0
-- refreshes an invalidated range in one statement: TimescaleDB 2.28 otherwise splits it into
-- batches of a few buckets, each of which scans whole chunks (the primary key leads with
-- instrument_id) — 20x slower on a day of trades.
select public.add_continuous_aggregate_policy(
    'market.trade_candles_1m',
    start_offset => interval '7 days', end_offset => interval '1 minute',
    buckets_per_batch => 0, schedule_interval => interval '1 minute'
);
select public.add_continuous_aggregate_policy(
    'market.trade_candles_5m',
    start_offset => interval '7 days', end_offset => interval '5 minutes',
    buckets_per_batch => 0, schedule_interval => interval '1 minute'
);
select public.add_continuous_aggregate_policy(
    'market.trade_candles_15m',
    start_offset => interval '14 days', end_offset => interval '15 minutes',
    buckets_per_batch => 0, schedule_interval => interval '5 minutes'
);
select public.add_continuous_aggregate_policy(
    'market.trade_candles_1h',
    start_offset => interval '30 days', end_offset => interval '1 hour',
    buckets_per_batch => 0, schedule_interval => interval '5 minutes'
);
select public.add_continuous_aggregate_policy(
    'market.trade_candles_4h',
    start_offset => interval '60 days', end_offset => interval '4 hours',
    buckets_per_batch => 0, schedule_interval => interval '15 minutes'
);
select public.add_continuous_aggregate_policy(
    'market.trade_candles_1d',
    start_offset => interval '400 days', end_offset => interval '1 day',
    buckets_per_batch => 0, schedule_interval => interval '30 minutes'
);
select public.add_continuous_aggregate_policy(
    'market.native_candles_5m',
    start_offset => interval '7 days', end_offset => interval '5 minutes',
    buckets_per_batch => 0, schedule_interval => interval '1 minute'
);
select public.add_continuous_aggregate_policy(
    'market.native_candles_15m',
    start_offset => interval '14 days', end_offset => interval '15 minutes',
    buckets_per_batch => 0, schedule_interval => interval '5 minutes'
);
select public.add_continuous_aggregate_policy(
    'market.native_candles_1h',
    start_offset => interval '30 days', end_offset => interval '1 hour',
    buckets_per_batch => 0, schedule_interval => interval '5 minutes'
);
select public.add_continuous_aggregate_policy(
    'market.native_candles_4h',
    start_offset => interval '60 days', end_offset => interval '4 hours',
    buckets_per_batch => 0, schedule_interval => interval '15 minutes'
);
select public.add_continuous_aggregate_policy(
    'market.native_candles_1d',
    start_offset => interval '400 days', end_offset => interval '1 day',
    buckets_per_batch => 0, schedule_interval => interval '30 minutes'
);

comment on view market.trade_candles_1m is
'1m candles rolled up from market.trades (continuous aggregate). Read market.candles_1m instead.';
comment on view market.trade_candles_5m is
'5m candles rolled up from market.trade_candles_1m (continuous aggregate). Read market.candles_5m instead.';
comment on view market.trade_candles_15m is
'15m candles rolled up from market.trade_candles_5m (continuous aggregate). Read market.candles_15m instead.';
comment on view market.trade_candles_1h is
'1h candles rolled up from market.trade_candles_15m (continuous aggregate). Read market.candles_1h instead.';
comment on view market.trade_candles_4h is
'4h candles rolled up from market.trade_candles_1h (continuous aggregate). Read market.candles_4h instead.';
comment on view market.trade_candles_1d is
'1d candles rolled up from market.trade_candles_4h (continuous aggregate). Read market.candles_1d instead.';
comment on view market.native_candles_5m is
'5m candles rolled up from 1m native candles (market.candles) (continuous aggregate). Read market.candles_5m instead.';
comment on view market.native_candles_15m is
'15m candles rolled up from market.native_candles_5m (continuous aggregate). Read market.candles_15m instead.';
comment on view market.native_candles_1h is
'1h candles rolled up from market.native_candles_15m (continuous aggregate). Read market.candles_1h instead.';
comment on view market.native_candles_4h is
'4h candles rolled up from market.native_candles_1h (continuous aggregate). Read market.candles_4h instead.';
comment on view market.native_candles_1d is
'1d candles rolled up from market.native_candles_4h (continuous aggregate). Read market.candles_1d instead.';

grant select on market.trade_candles_1m, market.trade_candles_5m, market.trade_candles_15m, market.trade_candles_1h, market.trade_candles_4h, market.trade_candles_1d, market.native_candles_5m, market.native_candles_15m, market.native_candles_1h, market.native_candles_4h, market.native_candles_1d
    to tsq_loader, tsq_analyst, tsq_trader;
