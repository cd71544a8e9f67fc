-- TimescaleDB mode: market.ticker_snapshots becomes a hypertable with compression (segment by
-- instrument, newest first), like the other market_data tables (V0105). Snapshots are sparse
-- (one per instrument every few minutes): 30-day chunks keep the chunk count small.

select public.create_hypertable(
    'market.ticker_snapshots', public.by_range('time', interval '30 days'), create_default_indexes => false
);

alter table market.ticker_snapshots set (
    timescaledb.compress,
    timescaledb.compress_segmentby = 'instrument_id',
    timescaledb.compress_orderby = 'time desc'
);
