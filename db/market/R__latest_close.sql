-- The latest known price of an instrument: the close of its newest 1m candle.

create or replace function market.latest_close(p_instrument_id integer, out price double precision, out price_time timestamptz)
language plpgsql
stable
security invoker
set search_path = ''
as $function$
begin
    -- price_time is when that close was printed: the end of the 1m bar. PL/pgSQL, not SQL: its
    -- plan is cached for the session, where an SQL function would plan the candle view again on
    -- every call (risk.check_order calls this for every order, and per held position).
    select c.close, c.open_time + interval '1 minute' into price, price_time
    from market.candles_1m as c
    where c.instrument_id = p_instrument_id
    order by c.open_time desc
    limit 1;
end;
$function$;

comment on function market.latest_close(integer) is
'Latest close of an instrument (newest market.candles_1m bar) and the time it was printed (bar '
'end); NULL, NULL when there is no candle. Positions are marked and risk prices entries with it.';
