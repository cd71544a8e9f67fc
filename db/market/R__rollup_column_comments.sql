-- tsquant:requires db/market/R__candles.sql
-- tsquant:fingerprint select count(*) from pg_catalog.pg_attribute as a join pg_catalog.pg_class as c on a.attrelid = c.oid join pg_catalog.pg_namespace as n on c.relnamespace = n.oid where n.nspname = 'market' and c.relname ~ '^(trade|native)_candles_' and c.relkind in ('r', 'v', 'm') and a.attnum > 0 and not a.attisdropped and pg_catalog.col_description(c.oid, a.attnum) is null
-- Column comments of the rollup relations market.trade_candles_<tf> and market.native_candles_<tf>
-- (and the view market.native_candles_1m) wherever their defining file could not give them: the
-- continuous aggregates of the versioned TimescaleDB files and the view. Plain-mode tables keep
-- the comments of their own file (only columns without a comment are filled). All these
-- relations share one column layout, so it is described once here; the fingerprint re-applies
-- the file when a relation of the family has a column without a comment (a new timeframe).

do $comments$
declare
    v_rel record;
    v_chain text;
    v_text text;
begin
    for v_rel in
        select c.relname, a.attname
        from pg_catalog.pg_class as c
        inner join pg_catalog.pg_namespace as n on c.relnamespace = n.oid
        inner join pg_catalog.pg_attribute as a on c.oid = a.attrelid
        where n.nspname = 'market' and c.relname ~ '^(trade|native)_candles_' and c.relkind in ('r', 'v', 'm')
            and a.attnum > 0 and not a.attisdropped and pg_catalog.col_description(c.oid, a.attnum) is null
    loop
        v_chain := case when v_rel.relname like 'trade%' then 'trades' else 'the exchange''s 1m candles' end;
        v_text := case v_rel.attname
            when 'instrument_id' then 'Instrument (market.instruments).'
            when 'open_time' then 'Start of the bucket (UTC, aligned like time_bucket).'
            when 'open' then 'First price of the bucket (from ' || v_chain || ').'
            when 'high' then 'Highest price.'
            when 'low' then 'Lowest price.'
            when 'close' then 'Last price of the bucket (from ' || v_chain || ').'
            when 'volume' then 'Base volume: sum of the sizes of ' || v_chain || '.'
            when 'quote_volume' then 'Quote volume: sum of price x size (NULL when the source lacks it).'
            when 'vwap' then 'Volume-weighted average price = quote_volume / volume.'
            when 'trade_count' then 'Number of trades (NULL when the source lacks it).'
        end;
        continue when v_text is null;    -- an unknown column stays without one: the test names it
        execute format('comment on column market.%I.%I is %L', v_rel.relname, v_rel.attname, v_text);
    end loop;
end;
$comments$;
