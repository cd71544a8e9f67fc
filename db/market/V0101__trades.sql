-- market.trades: every trade (tick) from every source.
-- Hypertable on time in TimescaleDB mode (V0105__hypertables.timescaledb.sql), plain table
-- otherwise. No foreign key to market.instruments: a per-row RI trigger would halve COPY
-- throughput; the ingest core resolves instruments before loading and the integrity check
-- reports orphans.

create table market.trades (
    time timestamptz not null,
    instrument_id integer not null,
    trade_id bigint not null,
    price double precision not null,
    quantity double precision not null,
    side char(1),
    constraint trades_pkey primary key (instrument_id, time, trade_id),
    constraint trades_price_positive check (price > 0 and price < 'infinity'::double precision),
    constraint trades_quantity_positive check (quantity > 0 and quantity < 'infinity'::double precision),
    constraint trades_side_valid check (side in ('b', 's'))
);

comment on table market.trades is
'Trades (ticks), one row per exchange trade. Unique per instrument + trade id + time; the '
'primary key (instrument_id, time, trade_id) also serves every per-instrument time-range read. '
'Prices and quantities are double precision (analytics data, see docs/market-data.md).';
comment on column market.trades.time is 'Trade time as the exchange reports it (UTC).';
comment on column market.trades.instrument_id is 'market.instruments.instrument_id.';
comment on column market.trades.trade_id is 'Exchange trade id (a source without ids supplies a per-instrument sequence). Breaks ties between trades with the same time.';
comment on column market.trades.price is 'Trade price, > 0 and finite.';
comment on column market.trades.quantity is 'Trade size in base units, > 0 and finite.';
comment on column market.trades.side is 'Aggressor: b = buyer took liquidity (taker buy), s = seller took liquidity, NULL = unknown.';
