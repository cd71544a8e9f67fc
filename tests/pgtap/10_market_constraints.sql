-- market: constraints reject impossible rows; instruments are read-only for loaders.
begin;
select plan(22);

select has_table('market', 'trades', 'market.trades exists');
select has_table('market', 'quotes', 'market.quotes exists');
select has_table('market', 'candles', 'market.candles exists');
select has_table('market', 'quarantine', 'market.quarantine exists');
select col_is_pk('market', 'trades', array['instrument_id', 'time', 'trade_id'], 'trades unique per instrument + time + trade id');
select col_is_pk('market', 'candles', array['instrument_id', 'timeframe', 'open_time'], 'candles unique per instrument + timeframe + open time');

select lives_ok($$select market.register_instrument('binance', 'BTCUSDT')$$, 'an instrument is registered');
select is(market.resolve_instrument('binance', 'btcusdt'), market.resolve_instrument('binance', 'BTC/USDT'), 'spellings resolve to one instrument');

select lives_ok($$insert into market.trades values ('2024-01-01 00:00:01+00', market.resolve_instrument('binance', 'BTCUSDT'), 1, 100, 1, 'b')$$, 'a valid trade is accepted');
select throws_ok($$insert into market.trades values ('2024-01-01 00:00:01+00', market.resolve_instrument('binance', 'BTCUSDT'), 1, 100, 1, 'b')$$, '23505', null, 'the same trade twice is refused');
select throws_ok($$insert into market.trades values (now(), 1, 2, 0, 1, 'b')$$, '23514', null, 'price = 0 is refused');
select throws_ok($$insert into market.trades values (now(), 1, 3, -1, 1, 'b')$$, '23514', null, 'negative price is refused');
select throws_ok($$insert into market.trades values (now(), 1, 4, 'NaN', 1, 'b')$$, '23514', null, 'NaN price is refused');
select throws_ok($$insert into market.trades values (now(), 1, 5, 1, -1, 'b')$$, '23514', null, 'negative quantity is refused');
select throws_ok($$insert into market.quotes (time, instrument_id, bid, ask) values (now(), 1, 2, 1)$$, '23514', null, 'a crossed quote is refused');
select throws_ok(
    $$insert into market.candles (instrument_id, timeframe, open_time, open, high, low, close, volume, source)
      values (market.resolve_instrument('binance', 'BTCUSDT'), '1m', now(), 10, 9, 8, 9, 1, 't')$$,
    '23514', null, 'high < max(open, close) is refused');
select throws_ok(
    $$insert into market.candles (instrument_id, timeframe, open_time, open, high, low, close, volume, source)
      values (market.resolve_instrument('binance', 'BTCUSDT'), '1m', now(), 10, 12, 10.5, 11, 1, 't')$$,
    '23514', null, 'low > min(open, close) is refused');
select throws_ok(
    $$insert into market.candles (instrument_id, timeframe, open_time, open, high, low, close, volume, source)
      values (market.resolve_instrument('binance', 'BTCUSDT'), '1m', now(), 10, 12, 9, 11, -1, 't')$$,
    '23514', null, 'negative volume is refused');

select ok(not has_table_privilege('tsq_loader', 'market.instruments', 'insert'), 'loaders cannot insert instruments');
select ok(not has_table_privilege('tsq_loader', 'market.instruments', 'update'), 'loaders cannot update instruments');
select ok(has_function_privilege('tsq_loader', 'market.register_instrument(text, text, text, text, text, numeric, numeric, numeric, text, text, text[])', 'execute'), 'loaders register instruments through the function');
select ok(has_table_privilege('tsq_analyst', 'market.candles_1h', 'select'), 'analysts read the rollups');

select * from finish();
rollback;
