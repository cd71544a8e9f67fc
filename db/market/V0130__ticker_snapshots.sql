-- market.ticker_snapshots: periodic 24h ticker snapshots from exchanges (seed 004 TickerCollector).
-- Written by the ticker job (python -m loaders ticker / the scheduled run), one row per
-- instrument per snapshot time. Hypertable in TimescaleDB mode
-- (V0131__ticker_snapshots_hypertable.timescaledb.sql), plain table otherwise.

create table market.ticker_snapshots (
    time timestamptz not null,
    instrument_id integer not null,
    bid double precision,
    ask double precision,
    last double precision,
    open_24h double precision,
    high_24h double precision,
    low_24h double precision,
    volume_24h double precision,
    quote_volume_24h double precision,
    constraint ticker_snapshots_pkey primary key (instrument_id, time),
    constraint ticker_snapshots_prices_positive check (
        (bid is null or bid > 0) and (ask is null or ask > 0) and (last is null or last > 0)
        and (open_24h is null or open_24h > 0) and (high_24h is null or high_24h > 0)
        and (low_24h is null or low_24h > 0)
    ),
    constraint ticker_snapshots_volume_non_negative check (
        (volume_24h is null or volume_24h >= 0) and (quote_volume_24h is null or quote_volume_24h >= 0)
    )
);

comment on table market.ticker_snapshots is
'Periodic 24h ticker snapshots (last price, best bid/ask, rolling 24h open/high/low/volume) as '
'each exchange reports them. Unique per instrument + snapshot time; a repeated snapshot with the '
'same exchange time is a duplicate. Double precision: analytics data like market.candles.';
comment on column market.ticker_snapshots.time is
'Snapshot time: the exchange''s time for the ticker (Binance closeTime, Coinbase time, Kraken server time).';
comment on column market.ticker_snapshots.instrument_id is 'market.instruments.instrument_id.';
comment on column market.ticker_snapshots.bid is 'Best bid price, NULL when the exchange gives none.';
comment on column market.ticker_snapshots.ask is 'Best ask price, NULL when the exchange gives none.';
comment on column market.ticker_snapshots.last is 'Last trade price.';
comment on column market.ticker_snapshots.open_24h is 'Price 24 hours ago (Kraken: today''s opening price).';
comment on column market.ticker_snapshots.high_24h is 'Highest price of the last 24 hours.';
comment on column market.ticker_snapshots.low_24h is 'Lowest price of the last 24 hours.';
comment on column market.ticker_snapshots.volume_24h is 'Base volume of the last 24 hours.';
comment on column market.ticker_snapshots.quote_volume_24h is 'Quote volume of the last 24 hours, when known.';

insert into ops.data_class_relations (relation, data_class, time_column)
values ('market.ticker_snapshots', 'market_data', 'time');
