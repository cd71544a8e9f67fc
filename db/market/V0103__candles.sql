-- market.candles: native candles as exchanges / MT5 publish them, any timeframe.
-- The rollup relations market.candles_<tf> (db/market/R__candles.sql) read the 1m rows of this
-- table for instruments without a trade feed.

create table market.candles (
    instrument_id integer not null references market.instruments (instrument_id),
    timeframe text not null references market.timeframes (timeframe),
    open_time timestamptz not null,
    open double precision not null,
    high double precision not null,
    low double precision not null,
    close double precision not null,
    volume double precision not null default 0,
    quote_volume double precision,
    trade_count bigint,
    source text not null,
    ingested_at timestamptz not null default now(),
    constraint candles_pkey primary key (instrument_id, timeframe, open_time),
    constraint candles_prices_positive check (
        open > 0 and high > 0 and low > 0 and close > 0
        and open < 'infinity'::double precision and high < 'infinity'::double precision
        and low < 'infinity'::double precision and close < 'infinity'::double precision
    ),
    constraint candles_high_valid check (high >= open and high >= close and high >= low),
    constraint candles_low_valid check (low <= open and low <= close),
    constraint candles_volume_non_negative check (volume >= 0 and volume < 'infinity'::double precision),
    constraint candles_quote_volume_non_negative check (
        quote_volume >= 0 and quote_volume < 'infinity'::double precision
    ),
    constraint candles_trade_count_non_negative check (trade_count >= 0)
);

comment on table market.candles is
'Native (exchange-computed) candles at any timeframe, unique per instrument + timeframe + open '
'time. Only final candles are stored (a loader never writes a still-forming candle).';
comment on column market.candles.instrument_id is 'market.instruments.instrument_id.';
comment on column market.candles.timeframe is 'market.timeframes.timeframe (1m, 1h, 1d …).';
comment on column market.candles.open_time is 'Start of the candle (UTC).';
comment on column market.candles.open is 'First price of the candle.';
comment on column market.candles.high is 'Highest price, >= open, close and low.';
comment on column market.candles.low is 'Lowest price, <= open and close.';
comment on column market.candles.close is 'Last price of the candle.';
comment on column market.candles.volume is 'Base volume (sum of trade sizes), >= 0. MT5 rates: real_volume, else tick_volume.';
comment on column market.candles.quote_volume is 'Quote volume (sum of price x size) when the source gives it.';
comment on column market.candles.trade_count is 'Number of trades when the source gives it.';
comment on column market.candles.source is 'Where the candle came from, e.g. binance_rest, binance_dump, kraken_rest, mt5.';
comment on column market.candles.ingested_at is 'When the row was written.';
