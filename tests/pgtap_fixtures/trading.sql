-- Shared fixture of the trading and risk pgTAP files (\ir it after plan()): two instruments with a
-- fresh 1m candle (close 100 and 50), an equity snapshot of 10000 a minute ago, and helpers.
-- Sets psql variables :iid and :iid2.
select market.register_instrument('binance', 'BTCUSDT') as iid \gset
select market.register_instrument('binance', 'ETHUSDT') as iid2 \gset
insert into market.candles (instrument_id, timeframe, open_time, open, high, low, close, source)
values
    (:iid, '1m', date_trunc('minute', now()) - interval '1 minute', 100, 101, 99, 100, 'pgtap'),
    (:iid2, '1m', date_trunc('minute', now()) - interval '1 minute', 50, 51, 49, 50, 'pgtap');
select trading.record_portfolio_snapshot(10000, 10000, now() - interval '1 minute') as fixture_snapshot \gset

-- Open a position through the ledger: submit, mark submitted, fill at p_price.
create function pg_temp.open_position(p_instrument_id integer, p_side text, p_quantity numeric, p_price numeric)
returns text
language plpgsql
as $$
declare
    v_id text;
begin
    v_id := (trading.submit_order(p_instrument_id, p_side, p_quantity)).client_order_id;
    perform trading.set_order_status(v_id, 'submitted');
    perform trading.record_fill(v_id, p_quantity, p_price);
    return v_id;
end;
$$;
