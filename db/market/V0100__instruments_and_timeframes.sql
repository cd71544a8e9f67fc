-- market.timeframes, market.instruments, market.instrument_aliases
-- Reference data every other market table points at. Loaders never write these tables directly:
-- they call market.register_instrument() (security definer, db/market/R__instruments.sql).

-- Timeframes ---------------------------------------------------------------------------------

create table market.timeframes (
    timeframe text primary key,
    bucket_width interval not null,
    is_rollup boolean not null default false,
    constraint timeframes_width_positive check (bucket_width > interval '0'),
    constraint timeframes_name_valid check (timeframe ~ '^[0-9]+[smhdwM]$')
);

comment on table market.timeframes is
'Candle timeframes known to the project (Binance/ccxt names). is_rollup marks the timeframes the '
'project builds itself from trades/1m candles (1m, 5m, 15m, 1h, 4h, 1d).';
comment on column market.timeframes.timeframe is 'Timeframe name as exchanges write it: 1m, 5m, 1h, 1d, 1M (month) …';
comment on column market.timeframes.bucket_width is 'Length of one candle.';
comment on column market.timeframes.is_rollup is 'True for the timeframes with a market.candles_<tf> rollup relation.';

insert into market.timeframes (timeframe, bucket_width, is_rollup)
values
    ('1s', interval '1 second', false),
    ('1m', interval '1 minute', true),
    ('3m', interval '3 minutes', false),
    ('5m', interval '5 minutes', true),
    ('15m', interval '15 minutes', true),
    ('30m', interval '30 minutes', false),
    ('1h', interval '1 hour', true),
    ('2h', interval '2 hours', false),
    ('4h', interval '4 hours', true),
    ('6h', interval '6 hours', false),
    ('8h', interval '8 hours', false),
    ('12h', interval '12 hours', false),
    ('1d', interval '1 day', true),
    ('3d', interval '3 days', false),
    ('1w', interval '7 days', false),
    ('1M', interval '1 month', false);

-- Instruments --------------------------------------------------------------------------------

create table market.instruments (
    instrument_id integer generated always as identity primary key,
    exchange text not null,
    exchange_symbol text not null,
    symbol text not null,
    base text not null,
    quote text not null,
    asset_class text not null default 'crypto',
    tick_size numeric,
    lot_step numeric,
    min_quantity numeric,
    status text not null default 'active',
    candle_source text not null default 'auto',
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint instruments_exchange_symbol_key unique (exchange, exchange_symbol),
    constraint instruments_exchange_lower check (exchange = lower(exchange)),
    constraint instruments_symbol_form check (symbol = base || '/' || quote),
    constraint instruments_asset_class_valid check (
        asset_class in ('crypto', 'fx', 'equity', 'index', 'commodity', 'future', 'other')
    ),
    constraint instruments_tick_size_positive check (tick_size > 0),
    constraint instruments_lot_step_positive check (lot_step > 0),
    constraint instruments_min_quantity_non_negative check (min_quantity >= 0),
    constraint instruments_status_valid check (status in ('active', 'halted', 'delisted')),
    constraint instruments_candle_source_valid check (candle_source in ('auto', 'trades', 'native'))
);

create index instruments_symbol_idx on market.instruments (symbol);

comment on table market.instruments is
'One row per tradable instrument per exchange. Every symbol spelling a source uses (Binance '
'BTCUSDT, Kraken XXBTZUSD or XBTUSD, Coinbase BTC-USD, MT5 EURUSD) resolves to exactly one row '
'through market.resolve_instrument(). Read-only for loaders: register through '
'market.register_instrument().';
comment on column market.instruments.instrument_id is 'Surrogate key used by every market table.';
comment on column market.instruments.exchange is 'Venue, lower case: binance, kraken, coinbase, mt5 …';
comment on column market.instruments.exchange_symbol is 'The symbol as the exchange spells it (BTCUSDT, XBTUSD, BTC-USD, EURUSD).';
comment on column market.instruments.symbol is 'Canonical symbol BASE/QUOTE (BTC/USDT, BTC/USD, EUR/USD).';
comment on column market.instruments.base is 'Canonical base asset (Kraken XBT/XXBT become BTC).';
comment on column market.instruments.quote is 'Canonical quote asset (Kraken ZUSD becomes USD).';
comment on column market.instruments.asset_class is 'crypto, fx, equity, index, commodity, future or other.';
comment on column market.instruments.tick_size is 'Price increment (exact, numeric); NULL when unknown.';
comment on column market.instruments.lot_step is 'Quantity increment (exact, numeric); NULL when unknown.';
comment on column market.instruments.min_quantity is 'Smallest order quantity; NULL when unknown.';
comment on column market.instruments.status is 'active, halted or delisted.';
comment on column market.instruments.candle_source is
'Which candles market.candles_<tf> shows for this instrument: trades (built from market.trades), '
'native (rolled up from exchange 1m candles in market.candles) or auto (trade-derived where a '
'trade-derived candle exists for the bucket, native otherwise).';
comment on column market.instruments.created_at is 'When the instrument was first registered.';
comment on column market.instruments.updated_at is 'When the instrument row last changed.';

create table market.instrument_aliases (
    exchange text not null,
    alias text not null,
    instrument_id integer not null references market.instruments (instrument_id) on delete cascade,
    primary key (exchange, alias)
);

create index instrument_aliases_instrument_idx on market.instrument_aliases (instrument_id);

comment on table market.instrument_aliases is
'Other spellings of an instrument on the same exchange (Kraken XXBTZUSD for XBTUSD, a websocket '
'name XBT/USD …).';
comment on column market.instrument_aliases.exchange is 'Venue, lower case.';
comment on column market.instrument_aliases.alias is 'Alternative exchange symbol.';
comment on column market.instrument_aliases.instrument_id is 'Instrument the alias resolves to.';

-- Loaders read instruments but never write them directly.
revoke insert, update, delete, truncate on market.instruments from tsq_loader;
revoke insert, update, delete, truncate on market.instrument_aliases from tsq_loader;
revoke insert, update, delete, truncate on market.timeframes from tsq_loader;
grant select on market.instruments, market.instrument_aliases, market.timeframes to tsq_loader, tsq_analyst, tsq_trader;
