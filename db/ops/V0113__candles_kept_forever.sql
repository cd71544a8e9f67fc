-- Issue 9, item 4: candles are aggregated data and are kept by default. Until now market.candles
-- belonged to market_data (2 years), so a retention run after a 2024 backfill deleted every native
-- candle (and market.native_candles_1m, a view over it, lost all 1m history). Candles of every
-- timeframe, native and rolled up, get their own class, kept forever unless a horizon is set for
-- it; the rollup relations are registered by db/market/R__retention_relations.sql.

insert into ops.data_classes (data_class, retain_for, compress_after, description)
values (
    'candles', null, interval '7 days',
    'Candles of every timeframe, native (market.candles) and rolled up (market.trade_candles_<tf>, '
    'market.native_candles_<tf>): aggregated data, kept forever unless you set retain_for.'
);

update ops.data_classes
set description = 'Raw market data: trades, quotes and ticker snapshots.'
where data_class = 'market_data';

update ops.data_class_relations
set data_class = 'candles'
where relation = 'market.candles';
