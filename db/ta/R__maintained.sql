-- tsquant:requires db/ta/R__stoch.sql
-- tsquant:requires db/ta/R__dmi.sql
-- tsquant:requires db/ta/R__macd.sql
-- tsquant:requires db/ta/R__bbands.sql
-- tsquant:requires db/ta/R__rsi.sql
-- tsquant:requires db/ta/R__atr.sql
-- tsquant:requires db/ta/R__obv.sql
-- tsquant:requires db/ta/R__vwap.sql
-- Maintained indicators (tables in V0200__maintained_indicators.sql): parameter normalisation,
-- one dispatcher over the resumable kernels, ta.maintain, ta.refresh_indicators (incremental,
-- with the correction window), ta.rebuild_indicators and ta.indicator_series.

create or replace function ta._indicator_spec(
    p_indicator text, p_params jsonb, out params jsonb, out name text, out outputs text[]
)
language plpgsql
immutable parallel safe security invoker
as $$
declare
    v_ind text := lower(p_indicator);
    v_p jsonb := coalesce(p_params, '{}'::jsonb);
    v_allowed text[];
    v_key text;
begin
    -- Fill in TA-Lib's defaults, check the ranges, and name the configuration: the indicator and
    -- its parameter values in TA-Lib's order (rsi_14, macd_12_26_9, bbands_20_2_2, obv).
    v_allowed := case
        when v_ind in ('sma', 'ema', 'rsi', 'atr', 'natr', 'adx', 'plus_di', 'minus_di') then array['timeperiod']
        when v_ind = 'macd' then array['fastperiod', 'slowperiod', 'signalperiod']
        when v_ind = 'bbands' then array['timeperiod', 'nbdevup', 'nbdevdn']
        when v_ind = 'stoch' then array['fastk_period', 'slowk_period', 'slowd_period']
        when v_ind in ('obv', 'vwap') then array[]::text[]
    end;
    if v_allowed is null then
        raise exception 'ta.maintain: indicator % is not maintained (sma, ema, rsi, macd, bbands, atr, natr, '
            'stoch, adx, plus_di, minus_di, obv, vwap)', p_indicator
            using errcode = 'invalid_parameter_value';
    end if;
    for v_key in select jsonb_object_keys(v_p) loop
        if not v_key = any(v_allowed) then
            raise exception 'ta.maintain: % has no parameter % (expected: %)', v_ind, v_key, array_to_string(v_allowed, ', ')
                using errcode = 'invalid_parameter_value';
        end if;
    end loop;
    params := case
        when v_ind in ('sma', 'ema') then jsonb_build_object('timeperiod', coalesce((v_p ->> 'timeperiod')::integer, 30))
        when v_ind in ('rsi', 'atr', 'natr', 'adx', 'plus_di', 'minus_di') then
            jsonb_build_object('timeperiod', coalesce((v_p ->> 'timeperiod')::integer, 14))
        when v_ind = 'macd' then jsonb_build_object(
            'fastperiod', coalesce((v_p ->> 'fastperiod')::integer, 12),
            'slowperiod', coalesce((v_p ->> 'slowperiod')::integer, 26),
            'signalperiod', coalesce((v_p ->> 'signalperiod')::integer, 9))
        when v_ind = 'bbands' then jsonb_build_object(
            'timeperiod', coalesce((v_p ->> 'timeperiod')::integer, 20),
            'nbdevup', coalesce((v_p ->> 'nbdevup')::float8, 2),
            'nbdevdn', coalesce((v_p ->> 'nbdevdn')::float8, 2))
        when v_ind = 'stoch' then jsonb_build_object(
            'fastk_period', coalesce((v_p ->> 'fastk_period')::integer, 5),
            'slowk_period', coalesce((v_p ->> 'slowk_period')::integer, 3),
            'slowd_period', coalesce((v_p ->> 'slowd_period')::integer, 3))
        else '{}'::jsonb
    end;
    -- the public functions' own range checks
    perform ta._check_period('ta.' || v_ind, 'timeperiod', (params ->> 'timeperiod')::integer,
        case when v_ind in ('rsi', 'adx', 'bbands') then 2 else 1 end)
    where params ? 'timeperiod';
    if v_ind = 'macd' then
        perform ta._check_period('ta.macd', 'fastperiod', (params ->> 'fastperiod')::integer, 2);
        perform ta._check_period('ta.macd', 'slowperiod', (params ->> 'slowperiod')::integer, 2);
        perform ta._check_period('ta.macd', 'signalperiod', (params ->> 'signalperiod')::integer, 1);
    elsif v_ind = 'stoch' then
        perform ta._check_period('ta.stoch', 'fastk_period', (params ->> 'fastk_period')::integer, 1);
        perform ta._check_period('ta.stoch', 'slowk_period', (params ->> 'slowk_period')::integer, 1);
        perform ta._check_period('ta.stoch', 'slowd_period', (params ->> 'slowd_period')::integer, 1);
    elsif v_ind = 'bbands' and greatest(abs((params ->> 'nbdevup')::float8), abs((params ->> 'nbdevdn')::float8)) > 3e37 then
        raise exception 'ta.bbands: nbdevup and nbdevdn must be between -3e+37 and 3e+37'
            using errcode = 'invalid_parameter_value';
    end if;
    name := v_ind || coalesce(
        (select string_agg('_' || (params ->> a.key), '' order by a.ord) from unnest(v_allowed) with ordinality as a (key, ord)),
        ''
    );
    outputs := case
        when v_ind = 'macd' then array['macd', 'macdsignal', 'macdhist']
        when v_ind = 'bbands' then array['upperband', 'middleband', 'lowerband']
        when v_ind = 'stoch' then array['slowk', 'slowd']
        else array[v_ind]
    end;
end;
$$;

comment on function ta._indicator_spec(text, jsonb) is
'Private: normalised parameters (TA-Lib names, defaults filled in, ranges checked), readable name '
'(rsi_14, macd_12_26_9, bbands_20_2_2, stoch_5_3_3, obv) and output names of a maintainable indicator.';

create or replace function ta._kernel(
    p_indicator text,
    p_params jsonb,
    p_state float8[],
    p_high float8[],
    p_low float8[],
    p_close float8[],
    p_volume float8[],
    out value1 float8[],
    out value2 float8[],
    out value3 float8[],
    out state float8[]
)
language plpgsql
immutable parallel safe security invoker
as $$
declare
    v_n integer;
begin
    -- One dispatcher over the resumable kernels the public ta.* functions run, so maintained values
    -- and the public functions share one code path. p_params as normalised by ta._indicator_spec.
    case p_indicator
        when 'sma' then
            select s.sma, s.state into value1, state from ta._sma_step(p_state, p_close, (p_params ->> 'timeperiod')::integer) as s;
        when 'ema' then
            select s.ema, s.state into value1, state from ta._ema_step(p_state, p_close, (p_params ->> 'timeperiod')::integer) as s;
        when 'rsi' then
            select s.rsi, s.state into value1, state from ta._rsi_step(p_state, p_close, (p_params ->> 'timeperiod')::integer) as s;
        when 'macd' then
            select s.macd, s.macdsignal, s.macdhist, s.state into value1, value2, value3, state
            from ta._macd_step(p_state, p_close, (p_params ->> 'fastperiod')::integer,
                (p_params ->> 'slowperiod')::integer, (p_params ->> 'signalperiod')::integer) as s;
        when 'bbands' then
            select s.upperband, s.middleband, s.lowerband, s.state into value1, value2, value3, state
            from ta._bbands_step(p_state, p_close, (p_params ->> 'timeperiod')::integer,
                (p_params ->> 'nbdevup')::float8, (p_params ->> 'nbdevdn')::float8) as s;
        when 'atr' then
            select s.atr, s.state into value1, state
            from ta._atr_step(p_state, p_high, p_low, p_close, (p_params ->> 'timeperiod')::integer) as s;
        when 'natr' then
            select s.atr, s.state into value1, state
            from ta._atr_step(p_state, p_high, p_low, p_close, (p_params ->> 'timeperiod')::integer) as s;
            if (p_params ->> 'timeperiod')::integer > 1 then
                -- as ta.natr: 100 * ATR / close, 0 when close = 0 (period 1: the raw true range)
                v_n := cardinality(value1);
                for v_i in 1..v_n loop
                    value1[v_i] := case
                        when value1[v_i] is null then null
                        when p_close[v_i] = 0 then 0
                        when value1[v_i] >= 1e-280 then (value1[v_i] / p_close[v_i]) * 100
                        else ta._div(value1[v_i], p_close[v_i]) * 100
                    end;
                end loop;
            end if;
        when 'stoch' then
            select s.slowk, s.slowd, s.state into value1, value2, state
            from ta._stoch_step(p_state, p_high, p_low, p_close, (p_params ->> 'fastk_period')::integer,
                (p_params ->> 'slowk_period')::integer, (p_params ->> 'slowd_period')::integer) as s;
        when 'adx', 'plus_di', 'minus_di' then
            select s.vals, s.state into value1, state
            from ta._dmi_step(p_state, p_high, p_low, p_close, (p_params ->> 'timeperiod')::integer, p_indicator) as s;
        when 'obv' then
            select s.obv, s.state into value1, state from ta._obv_step(p_state, p_close, p_volume) as s;
        when 'vwap' then
            select s.vwap, s.state into value1, state from ta._vwap_step(p_state, p_high, p_low, p_close, p_volume) as s;
        else
            raise exception 'ta._kernel: unknown indicator %', p_indicator using errcode = 'invalid_parameter_value';
    end case;
end;
$$;

comment on function ta._kernel(text, jsonb, float8[], float8[], float8[], float8[], float8[]) is
'Private: runs the resumable kernel of p_indicator (normalised p_params) on a chunk of bars after '
'p_state (NULL = first bar); returns up to three output arrays and the new state.';

create or replace function ta.maintain(
    p_instrument_id integer, p_timeframe text, p_indicator text, p_params jsonb default '{}'::jsonb
)
returns integer
language plpgsql
volatile security definer
set search_path = ''
as $$
declare
    v_spec record;
    v_id integer;
begin
    -- Add (or re-enable) a maintained indicator; its values are computed by the next
    -- ta.refresh_indicators(). Returns its indicator_id.
    if not exists (select 1 from market.timeframes as t where t.timeframe = p_timeframe and t.is_rollup) then
        raise exception 'ta.maintain: % is not a rollup timeframe (%)', p_timeframe,
            (select string_agg(t.timeframe, ', ' order by t.bucket_width) from market.timeframes as t where t.is_rollup)
            using errcode = 'invalid_parameter_value';
    end if;
    select * into v_spec from ta._indicator_spec(p_indicator, p_params);
    insert into ta.maintained_indicators as m (instrument_id, timeframe, indicator, params, name, outputs)
    values (p_instrument_id, p_timeframe, lower(p_indicator), v_spec.params, v_spec.name, v_spec.outputs)
    on conflict (instrument_id, timeframe, name) do update set enabled = true
    returning m.indicator_id into v_id;
    insert into ta.indicator_state (indicator_id) values (v_id) on conflict do nothing;
    return v_id;
end;
$$;

comment on function ta.maintain(integer, text, text, jsonb) is
'Maintain an indicator for an instrument and rollup timeframe: ta.maintain(instrument_id, ''1h'', '
'''rsi'', ''{"timeperiod": 14}''). Parameters use TA-Lib names; defaults are filled in. Idempotent '
'(re-enables an existing configuration). Returns the indicator_id. Values appear after the next '
'ta.refresh_indicators().';

create or replace function ta.maintain(
    p_exchange text, p_symbol text, p_timeframe text, p_indicator text, p_params jsonb default '{}'::jsonb
)
returns integer
language plpgsql
volatile security definer
set search_path = ''
as $$
declare
    v_instrument integer;
begin
    -- ta.maintain by exchange and symbol (BTC/USDT or the exchange's own spelling).
    select i.instrument_id into v_instrument
    from market.instruments as i
    where i.exchange = lower(p_exchange) and (i.symbol = p_symbol or i.exchange_symbol = p_symbol);
    if v_instrument is null then
        raise exception 'ta.maintain: no instrument % on %', p_symbol, p_exchange using errcode = 'no_data_found';
    end if;
    return ta.maintain(v_instrument, p_timeframe, p_indicator, p_params);
end;
$$;

comment on function ta.maintain(text, text, text, text, jsonb) is
'ta.maintain(''binance'', ''BTC/USDT'', ''1h'', ''macd'') — as ta.maintain(instrument_id, …), the '
'instrument given by exchange and symbol.';

revoke execute on function ta.maintain(integer, text, text, jsonb) from tsq_analyst, tsq_trader;
revoke execute on function ta.maintain(text, text, text, text, jsonb) from tsq_analyst, tsq_trader;
