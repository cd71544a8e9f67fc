-- tsquant:fingerprint select case when to_regclass('market.timeframes') is not null then query_to_xml('select timeframe from market.timeframes where is_rollup order by 1', false, false, '')::text end
-- Registers the candle rollups of every rollup timeframe (market.trade_candles_<tf>,
-- market.native_candles_<tf>: tables in plain mode, continuous aggregates in TimescaleDB mode)
-- in data class candles, next to market.candles (db/ops/V0112): candles of every timeframe are
-- kept forever unless a horizon is set for that class. Re-applied when a rollup timeframe is added.
-- market.native_candles_1m is a view over market.candles, not a relation of its own.

insert into ops.data_class_relations (relation, data_class, time_column)
select
    r.relation,
    'candles' as data_class,
    'open_time' as time_column
from market.timeframes as t
cross join lateral unnest(
    array['market.trade_candles_' || t.timeframe, 'market.native_candles_' || t.timeframe]
) as r (relation)
where
    t.is_rollup
    and r.relation <> 'market.native_candles_1m'
    and to_regclass(r.relation) is not null
on conflict (relation) do nothing;
