-- TimescaleDB mode: market.candles gets 30-day chunks instead of 7-day ones (V0105). Each chunk a
-- query names costs at executor startup even when the chunk is never read, and a query of one
-- instrument's candles has no time bound the planner could exclude chunks with: with 7-day chunks
-- a latest-N read over a year of history opened 53 chunks per reference to market.candles, and
-- bi.candles_<tf> names it three times. Candles are sparse next to trades, so a month still fits
-- the 25%-of-RAM rule for the users tsquant is sized for (docs/market-data.md, "Chunk intervals").
-- Applies to chunks created from now on; existing chunks keep their range.
select public.set_chunk_time_interval('market.candles', interval '30 days');
