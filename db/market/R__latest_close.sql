-- The latest known price of an instrument: the close of its newest 1m candle.

create or replace function market.latest_close(p_instrument_id integer, out price double precision, out price_time timestamptz)
language sql
stable
security invoker
set search_path = ''
begin atomic
    -- price_time is when that close was printed: the end of the 1m bar.
    select c.close as price, c.open_time + interval '1 minute' as price_time
    from market.candles_1m as c
    where c.instrument_id = latest_close.p_instrument_id  -- noqa: RF01
    order by c.open_time desc
    limit 1;
end;

comment on function market.latest_close(integer) is
'Latest close of an instrument (newest market.candles_1m bar) and the time it was printed (bar '
'end); NULL, NULL when there is no candle. Positions are marked and risk prices entries with it.';
