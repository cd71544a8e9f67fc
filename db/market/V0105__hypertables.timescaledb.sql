-- TimescaleDB mode: market.trades, market.quotes and market.candles become hypertables with
-- compression (segment by instrument, newest first). Chunk intervals follow the 25%-of-RAM rule
-- (docs/market-data.md): the indexes of the chunks being written must fit in about a quarter of
-- memory. Sized for an 8 GB server: trades 1 day (~30 M trades/day x ~40 B of primary-key index
-- = 1.2 GB), quotes 6 hours (top-of-book updates are ~5x denser than trades), native candles
-- 7 days. Change with set_chunk_time_interval() when volumes differ.
-- Retention and compression *policies* are configured per data class in ops.data_classes and
-- applied by ops.apply_data_policies() (db/ops/R__data_policies.sql).

select public.create_hypertable(
    'market.trades', public.by_range('time', interval '1 day'), create_default_indexes => false
);
select public.create_hypertable(
    'market.quotes', public.by_range('time', interval '6 hours'), create_default_indexes => false
);
select public.create_hypertable(
    'market.candles', public.by_range('open_time', interval '7 days'), create_default_indexes => false
);

alter table market.trades set (
    timescaledb.compress,
    timescaledb.compress_segmentby = 'instrument_id',
    timescaledb.compress_orderby = 'time desc, trade_id desc'
);
alter table market.quotes set (
    timescaledb.compress,
    timescaledb.compress_segmentby = 'instrument_id',
    timescaledb.compress_orderby = 'time desc, update_id desc'
);
alter table market.candles set (
    timescaledb.compress,
    timescaledb.compress_segmentby = 'instrument_id, timeframe',
    timescaledb.compress_orderby = 'open_time desc'
);
