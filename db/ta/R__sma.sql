-- tsquant:requires db/ta/R__helpers.sql
-- SMA: simple moving average (TA-Lib 0.8.x SMA), and the SMA core shared with STOCH, STOCHRSI.

create or replace function ta._sma_core(p_x float8[], p_period integer, p_start integer)
returns float8[]
language plpgsql
immutable parallel safe security invoker
as $$
declare
    v_n integer := cardinality(p_x);
    v_out float8[] := array_fill(null::float8, array[v_n]);
    v_total float8 := 0::float8;
begin
    -- TA-Lib TA_SMA over p_x[p_start..]: a running sum, so a NULL inside the series makes every
    -- later output NULL. Outputs start at p_start + p_period - 1.
    if v_n - p_start < p_period - 1 then
        return v_out;
    end if;
    for v_i in p_start..p_start + p_period - 2 loop
        v_total := v_total + p_x[v_i];
    end loop;
    for v_i in p_start + p_period - 1..v_n loop
        v_total := v_total + p_x[v_i];
        v_out[v_i] := v_total / p_period;
        v_total := v_total - p_x[v_i - p_period + 1];
    end loop;
    return v_out;
end;
$$;

comment on function ta._sma_core(float8[], integer, integer) is
'Private: TA-Lib SMA (running sum / period) of p_x starting at index p_start; NULL before '
'p_start + period - 1. A NULL in the series makes every later output NULL.';

create or replace function ta._ma_sma(p_x float8[], p_period integer, p_start integer)
returns float8[]
language plpgsql
immutable parallel safe security invoker
as $$
begin
    -- TA_MA with matype SMA: period 1 means no smoothing (a copy), otherwise TA_SMA.
    if p_period = 1 then
        return array_cat(array_fill(null::float8, array[p_start - 1]), p_x[p_start:]);
    end if;
    return ta._sma_core(p_x, p_period, p_start);
end;
$$;

comment on function ta._ma_sma(float8[], integer, integer) is
'Private: TA-Lib TA_MA(matype SMA) as used by STOCH and STOCHRSI for their %K/%D smoothing: a copy '
'for period 1 (so a NULL does not spread), ta._sma_core otherwise.';

create or replace function ta.sma(x float8[], timeperiod integer default 30)
returns float8[]
language plpgsql
immutable strict parallel safe security invoker
as $$
declare
    v_x float8[] := ta._prep('ta.sma', 'x', x);
    v_n integer := cardinality(v_x);
begin
    -- Simple moving average, TA-Lib SMA.
    perform ta._check_period('ta.sma', 'timeperiod', timeperiod, 1);
    if v_n = 0 then
        return v_x;
    end if;
    return ta._sma_core(v_x, timeperiod, ta._first_valid(v_x));
end;
$$;

comment on function ta.sma(float8[], integer) is
'Simple moving average, TA-Lib 0.8.x SMA(real, timeperiod=30). '
'sma_t = (x_{t-n+1} + … + x_t) / n, computed as a running sum. timeperiod 1..100000. '
'Lookback n-1 (NULL there). NULL/NaN: leading NULLs skipped (lookback counts from the first '
'non-NULL value); an interior NULL makes every later output NULL (running sum). '
'Oracle: TA-Lib 0.8.x SMA.';
