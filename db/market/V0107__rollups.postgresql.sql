-- Plain PostgreSQL mode: the candle rollups as ordinary tables with the same names and columns
-- as the continuous aggregates of V0106__rollups.timescaledb.sql. They are maintained
-- incrementally by market.refresh_rollups() (db/market/R__rollups.postgresql.sql): statement
-- triggers on market.trades and market.candles record the 1m buckets that changed in
-- market.rollup_dirty; a refresh recomputes only those buckets (late and out-of-order rows
-- included) and then the enclosing buckets of each higher timeframe.

create table market.rollup_dirty (
    chain text not null,
    timeframe text not null,
    instrument_id integer not null,
    open_time timestamptz not null,
    constraint rollup_dirty_chain_valid check (chain in ('trade', 'native'))
);

create index rollup_dirty_idx on market.rollup_dirty (chain, timeframe, open_time);

comment on table market.rollup_dirty is
'Plain mode only: buckets whose rollup must be recomputed by market.refresh_rollups() '
'(an invalidation log like TimescaleDB''s). Duplicates are allowed and collapsed at refresh.';
comment on column market.rollup_dirty.chain is 'trade (from market.trades) or native (from 1m rows of market.candles).';
comment on column market.rollup_dirty.timeframe is 'Rollup timeframe of the bucket (1m … 1d).';
comment on column market.rollup_dirty.instrument_id is 'Instrument of the bucket.';
comment on column market.rollup_dirty.open_time is 'Start of the bucket.';

create table market.trade_candles_1m (
    instrument_id integer not null,
    open_time timestamptz not null,
    open double precision not null,
    high double precision not null,
    low double precision not null,
    close double precision not null,
    volume double precision not null,
    quote_volume double precision not null,
    vwap double precision,
    trade_count bigint not null,
    primary key (instrument_id, open_time)
);

comment on table market.trade_candles_1m is
'1m candles rolled up from market.trades (plain-mode rollup table). Read market.candles_1m instead.';
comment on column market.trade_candles_1m.instrument_id is 'Instrument.';
comment on column market.trade_candles_1m.open_time is 'Start of the bucket (UTC, aligned like time_bucket).';
comment on column market.trade_candles_1m.open is 'First price (ties on time broken by trade id).';
comment on column market.trade_candles_1m.high is 'Highest price.';
comment on column market.trade_candles_1m.low is 'Lowest price.';
comment on column market.trade_candles_1m.close is 'Last price (ties on time broken by trade id).';
comment on column market.trade_candles_1m.volume is 'Sum of trade sizes.';
comment on column market.trade_candles_1m.quote_volume is 'Sum of price x size.';
comment on column market.trade_candles_1m.vwap is 'quote_volume / volume.';
comment on column market.trade_candles_1m.trade_count is 'Number of trades.';

create table market.trade_candles_5m (
    instrument_id integer not null,
    open_time timestamptz not null,
    open double precision not null,
    high double precision not null,
    low double precision not null,
    close double precision not null,
    volume double precision not null,
    quote_volume double precision not null,
    vwap double precision,
    trade_count bigint not null,
    primary key (instrument_id, open_time)
);

comment on table market.trade_candles_5m is
'5m candles rolled up from market.trade_candles_1m (plain-mode rollup table). Read market.candles_5m instead.';
comment on column market.trade_candles_5m.instrument_id is 'Instrument.';
comment on column market.trade_candles_5m.open_time is 'Start of the bucket (UTC, aligned like time_bucket).';
comment on column market.trade_candles_5m.open is 'First price (ties on time broken by trade id).';
comment on column market.trade_candles_5m.high is 'Highest price.';
comment on column market.trade_candles_5m.low is 'Lowest price.';
comment on column market.trade_candles_5m.close is 'Last price (ties on time broken by trade id).';
comment on column market.trade_candles_5m.volume is 'Sum of trade sizes.';
comment on column market.trade_candles_5m.quote_volume is 'Sum of price x size.';
comment on column market.trade_candles_5m.vwap is 'quote_volume / volume.';
comment on column market.trade_candles_5m.trade_count is 'Number of trades.';

create table market.trade_candles_15m (
    instrument_id integer not null,
    open_time timestamptz not null,
    open double precision not null,
    high double precision not null,
    low double precision not null,
    close double precision not null,
    volume double precision not null,
    quote_volume double precision not null,
    vwap double precision,
    trade_count bigint not null,
    primary key (instrument_id, open_time)
);

comment on table market.trade_candles_15m is
'15m candles rolled up from market.trade_candles_5m (plain-mode rollup table). Read market.candles_15m instead.';
comment on column market.trade_candles_15m.instrument_id is 'Instrument.';
comment on column market.trade_candles_15m.open_time is 'Start of the bucket (UTC, aligned like time_bucket).';
comment on column market.trade_candles_15m.open is 'First price (ties on time broken by trade id).';
comment on column market.trade_candles_15m.high is 'Highest price.';
comment on column market.trade_candles_15m.low is 'Lowest price.';
comment on column market.trade_candles_15m.close is 'Last price (ties on time broken by trade id).';
comment on column market.trade_candles_15m.volume is 'Sum of trade sizes.';
comment on column market.trade_candles_15m.quote_volume is 'Sum of price x size.';
comment on column market.trade_candles_15m.vwap is 'quote_volume / volume.';
comment on column market.trade_candles_15m.trade_count is 'Number of trades.';

create table market.trade_candles_1h (
    instrument_id integer not null,
    open_time timestamptz not null,
    open double precision not null,
    high double precision not null,
    low double precision not null,
    close double precision not null,
    volume double precision not null,
    quote_volume double precision not null,
    vwap double precision,
    trade_count bigint not null,
    primary key (instrument_id, open_time)
);

comment on table market.trade_candles_1h is
'1h candles rolled up from market.trade_candles_15m (plain-mode rollup table). Read market.candles_1h instead.';
comment on column market.trade_candles_1h.instrument_id is 'Instrument.';
comment on column market.trade_candles_1h.open_time is 'Start of the bucket (UTC, aligned like time_bucket).';
comment on column market.trade_candles_1h.open is 'First price (ties on time broken by trade id).';
comment on column market.trade_candles_1h.high is 'Highest price.';
comment on column market.trade_candles_1h.low is 'Lowest price.';
comment on column market.trade_candles_1h.close is 'Last price (ties on time broken by trade id).';
comment on column market.trade_candles_1h.volume is 'Sum of trade sizes.';
comment on column market.trade_candles_1h.quote_volume is 'Sum of price x size.';
comment on column market.trade_candles_1h.vwap is 'quote_volume / volume.';
comment on column market.trade_candles_1h.trade_count is 'Number of trades.';

create table market.trade_candles_4h (
    instrument_id integer not null,
    open_time timestamptz not null,
    open double precision not null,
    high double precision not null,
    low double precision not null,
    close double precision not null,
    volume double precision not null,
    quote_volume double precision not null,
    vwap double precision,
    trade_count bigint not null,
    primary key (instrument_id, open_time)
);

comment on table market.trade_candles_4h is
'4h candles rolled up from market.trade_candles_1h (plain-mode rollup table). Read market.candles_4h instead.';
comment on column market.trade_candles_4h.instrument_id is 'Instrument.';
comment on column market.trade_candles_4h.open_time is 'Start of the bucket (UTC, aligned like time_bucket).';
comment on column market.trade_candles_4h.open is 'First price (ties on time broken by trade id).';
comment on column market.trade_candles_4h.high is 'Highest price.';
comment on column market.trade_candles_4h.low is 'Lowest price.';
comment on column market.trade_candles_4h.close is 'Last price (ties on time broken by trade id).';
comment on column market.trade_candles_4h.volume is 'Sum of trade sizes.';
comment on column market.trade_candles_4h.quote_volume is 'Sum of price x size.';
comment on column market.trade_candles_4h.vwap is 'quote_volume / volume.';
comment on column market.trade_candles_4h.trade_count is 'Number of trades.';

create table market.trade_candles_1d (
    instrument_id integer not null,
    open_time timestamptz not null,
    open double precision not null,
    high double precision not null,
    low double precision not null,
    close double precision not null,
    volume double precision not null,
    quote_volume double precision not null,
    vwap double precision,
    trade_count bigint not null,
    primary key (instrument_id, open_time)
);

comment on table market.trade_candles_1d is
'1d candles rolled up from market.trade_candles_4h (plain-mode rollup table). Read market.candles_1d instead.';
comment on column market.trade_candles_1d.instrument_id is 'Instrument.';
comment on column market.trade_candles_1d.open_time is 'Start of the bucket (UTC, aligned like time_bucket).';
comment on column market.trade_candles_1d.open is 'First price (ties on time broken by trade id).';
comment on column market.trade_candles_1d.high is 'Highest price.';
comment on column market.trade_candles_1d.low is 'Lowest price.';
comment on column market.trade_candles_1d.close is 'Last price (ties on time broken by trade id).';
comment on column market.trade_candles_1d.volume is 'Sum of trade sizes.';
comment on column market.trade_candles_1d.quote_volume is 'Sum of price x size.';
comment on column market.trade_candles_1d.vwap is 'quote_volume / volume.';
comment on column market.trade_candles_1d.trade_count is 'Number of trades.';

create table market.native_candles_5m (
    instrument_id integer not null,
    open_time timestamptz not null,
    open double precision not null,
    high double precision not null,
    low double precision not null,
    close double precision not null,
    volume double precision not null,
    quote_volume double precision,
    vwap double precision,
    trade_count bigint,
    primary key (instrument_id, open_time)
);

comment on table market.native_candles_5m is
'5m candles rolled up from 1m native candles (market.candles) (plain-mode rollup table). Read market.candles_5m instead.';
comment on column market.native_candles_5m.instrument_id is 'Instrument.';
comment on column market.native_candles_5m.open_time is 'Start of the bucket (UTC, aligned like time_bucket).';
comment on column market.native_candles_5m.open is 'First price (ties on time broken by trade id).';
comment on column market.native_candles_5m.high is 'Highest price.';
comment on column market.native_candles_5m.low is 'Lowest price.';
comment on column market.native_candles_5m.close is 'Last price (ties on time broken by trade id).';
comment on column market.native_candles_5m.volume is 'Sum of trade sizes.';
comment on column market.native_candles_5m.quote_volume is 'Sum of price x size.';
comment on column market.native_candles_5m.vwap is 'quote_volume / volume.';
comment on column market.native_candles_5m.trade_count is 'Number of trades.';

create table market.native_candles_15m (
    instrument_id integer not null,
    open_time timestamptz not null,
    open double precision not null,
    high double precision not null,
    low double precision not null,
    close double precision not null,
    volume double precision not null,
    quote_volume double precision,
    vwap double precision,
    trade_count bigint,
    primary key (instrument_id, open_time)
);

comment on table market.native_candles_15m is
'15m candles rolled up from market.native_candles_5m (plain-mode rollup table). Read market.candles_15m instead.';
comment on column market.native_candles_15m.instrument_id is 'Instrument.';
comment on column market.native_candles_15m.open_time is 'Start of the bucket (UTC, aligned like time_bucket).';
comment on column market.native_candles_15m.open is 'First price (ties on time broken by trade id).';
comment on column market.native_candles_15m.high is 'Highest price.';
comment on column market.native_candles_15m.low is 'Lowest price.';
comment on column market.native_candles_15m.close is 'Last price (ties on time broken by trade id).';
comment on column market.native_candles_15m.volume is 'Sum of trade sizes.';
comment on column market.native_candles_15m.quote_volume is 'Sum of price x size.';
comment on column market.native_candles_15m.vwap is 'quote_volume / volume.';
comment on column market.native_candles_15m.trade_count is 'Number of trades.';

create table market.native_candles_1h (
    instrument_id integer not null,
    open_time timestamptz not null,
    open double precision not null,
    high double precision not null,
    low double precision not null,
    close double precision not null,
    volume double precision not null,
    quote_volume double precision,
    vwap double precision,
    trade_count bigint,
    primary key (instrument_id, open_time)
);

comment on table market.native_candles_1h is
'1h candles rolled up from market.native_candles_15m (plain-mode rollup table). Read market.candles_1h instead.';
comment on column market.native_candles_1h.instrument_id is 'Instrument.';
comment on column market.native_candles_1h.open_time is 'Start of the bucket (UTC, aligned like time_bucket).';
comment on column market.native_candles_1h.open is 'First price (ties on time broken by trade id).';
comment on column market.native_candles_1h.high is 'Highest price.';
comment on column market.native_candles_1h.low is 'Lowest price.';
comment on column market.native_candles_1h.close is 'Last price (ties on time broken by trade id).';
comment on column market.native_candles_1h.volume is 'Sum of trade sizes.';
comment on column market.native_candles_1h.quote_volume is 'Sum of price x size.';
comment on column market.native_candles_1h.vwap is 'quote_volume / volume.';
comment on column market.native_candles_1h.trade_count is 'Number of trades.';

create table market.native_candles_4h (
    instrument_id integer not null,
    open_time timestamptz not null,
    open double precision not null,
    high double precision not null,
    low double precision not null,
    close double precision not null,
    volume double precision not null,
    quote_volume double precision,
    vwap double precision,
    trade_count bigint,
    primary key (instrument_id, open_time)
);

comment on table market.native_candles_4h is
'4h candles rolled up from market.native_candles_1h (plain-mode rollup table). Read market.candles_4h instead.';
comment on column market.native_candles_4h.instrument_id is 'Instrument.';
comment on column market.native_candles_4h.open_time is 'Start of the bucket (UTC, aligned like time_bucket).';
comment on column market.native_candles_4h.open is 'First price (ties on time broken by trade id).';
comment on column market.native_candles_4h.high is 'Highest price.';
comment on column market.native_candles_4h.low is 'Lowest price.';
comment on column market.native_candles_4h.close is 'Last price (ties on time broken by trade id).';
comment on column market.native_candles_4h.volume is 'Sum of trade sizes.';
comment on column market.native_candles_4h.quote_volume is 'Sum of price x size.';
comment on column market.native_candles_4h.vwap is 'quote_volume / volume.';
comment on column market.native_candles_4h.trade_count is 'Number of trades.';

create table market.native_candles_1d (
    instrument_id integer not null,
    open_time timestamptz not null,
    open double precision not null,
    high double precision not null,
    low double precision not null,
    close double precision not null,
    volume double precision not null,
    quote_volume double precision,
    vwap double precision,
    trade_count bigint,
    primary key (instrument_id, open_time)
);

comment on table market.native_candles_1d is
'1d candles rolled up from market.native_candles_4h (plain-mode rollup table). Read market.candles_1d instead.';
comment on column market.native_candles_1d.instrument_id is 'Instrument.';
comment on column market.native_candles_1d.open_time is 'Start of the bucket (UTC, aligned like time_bucket).';
comment on column market.native_candles_1d.open is 'First price (ties on time broken by trade id).';
comment on column market.native_candles_1d.high is 'Highest price.';
comment on column market.native_candles_1d.low is 'Lowest price.';
comment on column market.native_candles_1d.close is 'Last price (ties on time broken by trade id).';
comment on column market.native_candles_1d.volume is 'Sum of trade sizes.';
comment on column market.native_candles_1d.quote_volume is 'Sum of price x size.';
comment on column market.native_candles_1d.vwap is 'quote_volume / volume.';
comment on column market.native_candles_1d.trade_count is 'Number of trades.';

grant select on market.trade_candles_1m, market.trade_candles_5m, market.trade_candles_15m, market.trade_candles_1h, market.trade_candles_4h, market.trade_candles_1d, market.native_candles_5m, market.native_candles_15m, market.native_candles_1h, market.native_candles_4h, market.native_candles_1d
    to tsq_loader, tsq_analyst, tsq_trader;
revoke insert, update, delete, truncate on market.trade_candles_1m, market.trade_candles_5m, market.trade_candles_15m, market.trade_candles_1h, market.trade_candles_4h, market.trade_candles_1d, market.native_candles_5m, market.native_candles_15m, market.native_candles_1h, market.native_candles_4h, market.native_candles_1d
    from tsq_loader;
grant select, insert on market.rollup_dirty to tsq_loader;
