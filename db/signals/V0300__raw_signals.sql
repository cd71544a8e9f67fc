-- signals.raw_signals: indicator values fetched from external services (taapi.io), as received.
-- Seed 000's signaux_bruts (indicator, valeur, intervalle, raw_json). Written by
-- `python -m loaders taapi` (loaders/jobs/taapi.py); tsq_loader inserts through the schema's
-- default privileges (db/roles/V0004__privileges.sql).

create table signals.raw_signals (
    raw_signal_id bigint generated always as identity primary key,
    source text not null default 'taapi',
    exchange text not null,
    symbol text not null,
    timeframe text not null,
    indicator text not null,
    indicator_key text not null,
    params jsonb not null default '{}'::jsonb,
    value double precision,
    outputs jsonb not null default '{}'::jsonb,
    source_time timestamptz not null,
    received_at timestamptz not null default now(),
    raw_json jsonb not null,
    simulated boolean not null default false,
    run_id bigint,
    constraint raw_signals_once unique (
        source, exchange, symbol, timeframe, indicator_key, source_time, simulated
    ),
    constraint raw_signals_indicator_lower check (indicator = lower(indicator)),
    constraint raw_signals_timeframe_form check (timeframe ~ '^[0-9]+[smhdwM]$'),
    constraint raw_signals_outputs_object check (jsonb_typeof(outputs) = 'object'),
    constraint raw_signals_params_object check (jsonb_typeof(params) = 'object')
);

create index raw_signals_lookup_idx on signals.raw_signals (symbol, timeframe, indicator_key, source_time desc);
create index raw_signals_received_idx on signals.raw_signals (received_at);

comment on table signals.raw_signals is
'External indicator values as received (taapi.io; seed 000 signaux_bruts), one row per source, '
'exchange, symbol, timeframe, indicator (with its parameters) and candle. Simulated rows '
'(DRY_RUN=1) are flagged and never mixed with real ones. Double precision: analytics data.';
comment on column signals.raw_signals.raw_signal_id is 'Surrogate key.';
comment on column signals.raw_signals.source is 'Service the value came from: taapi.';
comment on column signals.raw_signals.exchange is 'Exchange the service computed on (taapi exchange parameter), e.g. binance.';
comment on column signals.raw_signals.symbol is 'Symbol as sent to the service, e.g. BTC/USDT.';
comment on column signals.raw_signals.timeframe is 'Candle interval of the indicator (taapi interval: 1m, 15m, 1h …).';
comment on column signals.raw_signals.indicator is 'Indicator name as the service calls it: rsi, ema, sma, macd, bbands, atr …';
comment on column signals.raw_signals.indicator_key is
'Indicator plus its parameters, e.g. rsi_14, ema_50, macd_12_26_9: tells apart two requests of the same indicator.';
comment on column signals.raw_signals.params is 'Indicator parameters sent (period, backtrack …).';
comment on column signals.raw_signals.value is
'Main numeric output: value (rsi, ema, sma, atr), valueMACD (macd), valueMiddleBand (bbands).';
comment on column signals.raw_signals.outputs is 'Every numeric output of the result, e.g. {"valueMACD": …, "valueMACDSignal": …, "valueMACDHist": …}.';
comment on column signals.raw_signals.source_time is 'Open time of the candle the value belongs to (taapi result timestamp), UTC.';
comment on column signals.raw_signals.received_at is 'When the loader received the value.';
comment on column signals.raw_signals.raw_json is 'The result exactly as received (datetimes serialised as ISO 8601 text).';
comment on column signals.raw_signals.simulated is 'True for values made up by DRY_RUN=1 (no HTTP call was made).';
comment on column signals.raw_signals.run_id is 'ops.loader_runs.run_id of the run that wrote the row.';

insert into ops.data_class_relations (relation, data_class, time_column)
values ('signals.raw_signals', 'signals', 'received_at');
