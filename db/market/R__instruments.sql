-- Instrument symbols: canonical form, resolution of any spelling, registration by loaders.

create or replace function market.canonical_asset(p_exchange text, p_code text)
returns text
language sql
immutable
parallel safe
set search_path = ''
as $$
    -- Kraken prefixes legacy asset codes with X (crypto) or Z (fiat) and calls bitcoin XBT.
    select case
        when v.code in ('XBT', 'XXBT') then 'BTC'
        when v.code in ('XDG', 'XXDG') then 'DOGE'
        when lower(p_exchange) = 'kraken' and length(v.code) = 4 and left(v.code, 1) in ('X', 'Z')
            and v.code not in ('XTZU') then substr(v.code, 2)
        else v.code
    end
    from (select upper(btrim(p_code)) as code) as v
$$;

comment on function market.canonical_asset(text, text) is
'Canonical asset code: upper case; Kraken XXBT/XBT -> BTC, XXDG/XDG -> DOGE, ZUSD -> USD, XETH -> ETH.';

create or replace function market.canonical_symbol(
    p_exchange text, p_exchange_symbol text, out base text, out quote text
)
language plpgsql
immutable
parallel safe
set search_path = ''
as $$
declare
    v_sym text := upper(btrim(p_exchange_symbol));
    v_exchange text := lower(btrim(p_exchange));
    v_quote text;
    v_quotes constant text[] := array[
        'FDUSD', 'USDT', 'USDC', 'BUSD', 'TUSD', 'ZUSD', 'ZEUR', 'ZGBP', 'ZJPY', 'ZCAD',
        'XXBT', 'DAI', 'BTC', 'XBT', 'ETH', 'BNB', 'EUR', 'USD', 'GBP', 'JPY', 'TRY', 'BRL',
        'AUD', 'CAD', 'CHF', 'SOL'
    ];
    -- Kraken has no TUSD/FDUSD/BUSD quotes but many *TUSD-looking names (XBTUSD = XBT + USD).
    v_kraken_quotes constant text[] := array[
        'ZUSD', 'ZEUR', 'ZGBP', 'ZJPY', 'ZCAD', 'USDT', 'USDC', 'XXBT', 'XBT', 'ETH', 'EUR', 'USD',
        'GBP', 'JPY', 'CAD', 'CHF', 'AUD', 'DAI'
    ];
begin
    -- Split an exchange symbol into canonical base and quote:
    -- BTC-USD, BTC/USD, BTC_USD -> on the separator; Kraken XXBTZUSD -> XXBT + ZUSD;
    -- six-letter MT5/FX names (EURUSD, with an optional broker suffix after a dot) -> 3 + 3;
    -- otherwise the longest known quote currency at the end (Binance BTCUSDT -> BTC + USDT).
    -- base and quote are NULL when no rule applies (register with explicit p_base/p_quote).
    if v_sym ~ '[-/_]' then
        base := market.canonical_asset(v_exchange, split_part(translate(v_sym, '-_', '//'), '/', 1));
        quote := market.canonical_asset(v_exchange, split_part(translate(v_sym, '-_', '//'), '/', 2));
        return;
    end if;
    if v_exchange = 'kraken' and length(v_sym) = 8 and left(v_sym, 1) in ('X', 'Z')
            and substr(v_sym, 5, 1) in ('X', 'Z') then
        base := market.canonical_asset(v_exchange, left(v_sym, 4));
        quote := market.canonical_asset(v_exchange, right(v_sym, 4));
        return;
    end if;
    if v_exchange in ('mt5', 'metatrader', 'fx') then
        v_sym := split_part(v_sym, '.', 1);
        if v_sym ~ '^[A-Z]{6}$' then
            base := left(v_sym, 3);
            quote := right(v_sym, 3);
        end if;
        return;
    end if;
    foreach v_quote in array case when v_exchange = 'kraken' then v_kraken_quotes else v_quotes end loop
        if length(v_sym) > length(v_quote) and right(v_sym, length(v_quote)) = v_quote then
            base := market.canonical_asset(v_exchange, left(v_sym, length(v_sym) - length(v_quote)));
            quote := market.canonical_asset(v_exchange, v_quote);
            return;
        end if;
    end loop;
end;
$$;

comment on function market.canonical_symbol(text, text) is
'Canonical (base, quote) of an exchange symbol: Binance BTCUSDT -> (BTC, USDT), Kraken XXBTZUSD '
'or XBTUSD -> (BTC, USD), Coinbase BTC-USD -> (BTC, USD), MT5 EURUSD -> (EUR, USD). NULLs when '
'the symbol cannot be split.';

create or replace function market.resolve_instrument(p_exchange text, p_symbol text)
returns integer
language sql
stable
parallel safe
set search_path = ''
as $$
    -- Exact exchange symbol, then a registered alias, then the canonical base/quote pair on the
    -- same exchange (so XXBTZUSD finds the instrument registered as XBTUSD, and BTC/USD finds it too).
    select coalesce(
        (select i.instrument_id from market.instruments as i
            where i.exchange = lower(btrim(p_exchange)) and i.exchange_symbol = btrim(p_symbol)),
        (select a.instrument_id from market.instrument_aliases as a
            where a.exchange = lower(btrim(p_exchange)) and a.alias = btrim(p_symbol)),
        (select i.instrument_id from market.instruments as i
            where i.exchange = lower(btrim(p_exchange)) and i.exchange_symbol = upper(btrim(p_symbol))),
        (select min(i.instrument_id) from market.instruments as i
            cross join market.canonical_symbol(p_exchange, p_symbol) as c
            where i.exchange = lower(btrim(p_exchange)) and i.base = c.base and i.quote = c.quote)
    )
$$;

comment on function market.resolve_instrument(text, text) is
'instrument_id for any spelling of a symbol on an exchange (exchange symbol, alias, or canonical '
'BASE/QUOTE); NULL when unknown.';

create or replace function market.register_instrument(
    p_exchange text,
    p_exchange_symbol text,
    p_base text default null,
    p_quote text default null,
    p_asset_class text default null,
    p_tick_size numeric default null,
    p_lot_step numeric default null,
    p_min_quantity numeric default null,
    p_status text default null,
    p_candle_source text default null,
    p_aliases text[] default null
)
returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_exchange text := lower(btrim(p_exchange));
    v_symbol text := btrim(p_exchange_symbol);
    v_id integer;
    v_base text;
    v_quote text;
begin
    -- The one way loaders (tsq_loader, which cannot write market.instruments) create or update an
    -- instrument. Idempotent: an existing instrument (by any spelling) gets the non-NULL
    -- attributes passed and the new aliases; a new one is inserted with its canonical symbol.
    if v_exchange is null or v_exchange = '' or v_symbol is null or v_symbol = '' then
        raise exception 'register_instrument: exchange and exchange symbol are required';
    end if;
    v_id := market.resolve_instrument(v_exchange, v_symbol);
    if v_id is null then
        select c.base, c.quote into v_base, v_quote
        from market.canonical_symbol(v_exchange, v_symbol) as c;
        v_base := coalesce(upper(btrim(p_base)), v_base);
        v_quote := coalesce(upper(btrim(p_quote)), v_quote);
        if v_base is null or v_quote is null then
            raise exception 'register_instrument: cannot derive base/quote from % symbol %; pass p_base and p_quote',
                v_exchange, v_symbol;
        end if;
        insert into market.instruments (
            exchange, exchange_symbol, symbol, base, quote, asset_class, tick_size, lot_step,
            min_quantity, status, candle_source
        )
        values (
            v_exchange, v_symbol, v_base || '/' || v_quote, v_base, v_quote,
            coalesce(p_asset_class, case when v_exchange in ('mt5', 'metatrader', 'fx') then 'fx' else 'crypto' end),
            p_tick_size, p_lot_step, p_min_quantity, coalesce(p_status, 'active'),
            coalesce(p_candle_source, 'auto')
        )
        on conflict (exchange, exchange_symbol) do nothing
        returning instrument_id into v_id;
        if v_id is null then
            v_id := market.resolve_instrument(v_exchange, v_symbol);
        end if;
    else
        update market.instruments as i
        set asset_class = coalesce(p_asset_class, i.asset_class),
            tick_size = coalesce(p_tick_size, i.tick_size),
            lot_step = coalesce(p_lot_step, i.lot_step),
            min_quantity = coalesce(p_min_quantity, i.min_quantity),
            status = coalesce(p_status, i.status),
            candle_source = coalesce(p_candle_source, i.candle_source),
            updated_at = now()
        where i.instrument_id = v_id
            and (p_asset_class, p_tick_size, p_lot_step, p_min_quantity, p_status, p_candle_source)
            is distinct from (null::text, null::numeric, null::numeric, null::numeric, null::text, null::text);
        insert into market.instrument_aliases (exchange, alias, instrument_id)
        select v_exchange, v_symbol, v_id
        where not exists (
            select 1 from market.instruments as i
            where i.exchange = v_exchange and i.exchange_symbol = v_symbol
        )
        on conflict do nothing;
    end if;
    insert into market.instrument_aliases (exchange, alias, instrument_id)
    select v_exchange, btrim(a.alias), v_id
    from unnest(p_aliases) as a (alias)
    where btrim(a.alias) <> v_symbol
    on conflict do nothing;
    return v_id;
end;
$$;

comment on function market.register_instrument(text, text, text, text, text, numeric, numeric, numeric, text, text, text[]) is
'Creates or updates an instrument and returns its id (security definer: loaders cannot write '
'market.instruments directly). Base/quote are derived with market.canonical_symbol() unless given; '
'other spellings become aliases.';

create or replace function market.price_decimals(p_instrument_id integer)
returns integer
language sql
stable
parallel safe
set search_path = ''
as $$
    -- For display: decimals of the tick size when the source told us; otherwise the most decimals
    -- among the instrument's latest stored prices (trades and native candles; a float8 prints
    -- with up to 15 significant digits, so 61602.02 stays 61602.02). Capped at 12.
    select coalesce(
        (select scale(trim_scale(i.tick_size)) from market.instruments as i where i.instrument_id = p_instrument_id),
        (select max(least(scale(trim_scale(p.price::numeric)), 12))
            from (
                (select t.price from market.trades as t where t.instrument_id = p_instrument_id
                    order by t.time desc limit 200)
                union all
                (select x.price from (
                    select c.open, c.high, c.low, c.close from market.candles as c
                    where c.instrument_id = p_instrument_id
                    order by c.timeframe desc, c.open_time desc limit 50
                ) as n cross join lateral (values (n.open), (n.high), (n.low), (n.close)) as x (price))
            ) as p)
    )
$$;

comment on function market.price_decimals(integer) is
'Decimals to print the prices of an instrument with: those of market.instruments.tick_size when '
'known, else the most decimals among its latest 200 trades and 50 native candles; NULL without '
'any. For display only (prices are stored as double precision).';
