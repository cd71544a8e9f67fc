-- market.quotes: best bid/ask updates (seed 001 ticks, MT5 ticks, Binance bookTicker).
-- Hypertable on time in TimescaleDB mode, plain table otherwise.

create table market.quotes (
    time timestamptz not null,
    instrument_id integer not null,
    update_id bigint not null default 0,
    bid double precision not null,
    ask double precision not null,
    bid_size double precision,
    ask_size double precision,
    last double precision,
    volume double precision,
    constraint quotes_pkey primary key (instrument_id, time, update_id),
    constraint quotes_bid_positive check (bid > 0 and bid < 'infinity'::double precision),
    constraint quotes_ask_positive check (ask > 0 and ask < 'infinity'::double precision),
    constraint quotes_not_crossed check (ask >= bid),
    constraint quotes_bid_size_non_negative check (bid_size >= 0 and bid_size < 'infinity'::double precision),
    constraint quotes_ask_size_non_negative check (ask_size >= 0 and ask_size < 'infinity'::double precision),
    constraint quotes_last_positive check (last > 0 and last < 'infinity'::double precision),
    constraint quotes_volume_non_negative check (volume >= 0 and volume < 'infinity'::double precision)
);

comment on table market.quotes is
'Top-of-book quotes. Unique per instrument + time + update id. A crossed book (ask < bid) is '
'rejected to quarantine.';
comment on column market.quotes.time is 'Quote time (UTC). Binance bookTicker carries no time: the capture receive time is used.';
comment on column market.quotes.instrument_id is 'market.instruments.instrument_id.';
comment on column market.quotes.update_id is 'Source sequence number (Binance book update id u, MT5 time_msc); 0 when the source has none.';
comment on column market.quotes.bid is 'Best bid price.';
comment on column market.quotes.ask is 'Best ask price (>= bid).';
comment on column market.quotes.bid_size is 'Quantity at the best bid, NULL when unknown.';
comment on column market.quotes.ask_size is 'Quantity at the best ask, NULL when unknown.';
comment on column market.quotes.last is 'Last trade price carried by the tick (MT5 last, seed 001), NULL when absent.';
comment on column market.quotes.volume is 'Volume carried by the tick (MT5 volume, seed 001), NULL when absent.';
