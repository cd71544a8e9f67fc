-- tsquant:requires db/ta/R__helpers.sql
-- EMA: exponential moving average seeded by an SMA (TA-Lib 0.8.x EMA), and the EMA core shared
-- with MACD and TRIX.

create or replace function ta._ema_core(p_x float8[], p_period integer, p_seed_end integer)
returns float8[]
language plpgsql
immutable parallel safe security invoker
as $$
declare
    v_n integer := cardinality(p_x);
    v_out float8[] := array_fill(null::float8, array[v_n]);
    v_k float8 := 2::float8 / (p_period + 1);
    v_prev float8 := 0::float8;
begin
    -- TA-Lib EMA: seed = mean of the p_period values ending at p_seed_end, then
    -- ema_t = (x_t - ema_{t-1}) * k + ema_{t-1}, k = 2/(period+1). Period 1 is a plain copy.
    -- MACD seeds its fast and slow EMA on windows that end on the same bar, hence p_seed_end.
    if p_seed_end > v_n or p_seed_end < p_period then
        return v_out;
    end if;
    if p_period = 1 then
        return array_cat(array_fill(null::float8, array[p_seed_end - 1]), p_x[p_seed_end:]);
    end if;
    for v_i in p_seed_end - p_period + 1..p_seed_end loop
        v_prev := v_prev + p_x[v_i];
    end loop;
    v_prev := v_prev / p_period;
    v_out[p_seed_end] := v_prev;
    for v_i in p_seed_end + 1..v_n loop
        v_prev := case
            when abs(v_prev) >= 1e-280 then (p_x[v_i] - v_prev) * v_k + v_prev
            else ta._mul(p_x[v_i] - v_prev, v_k) + v_prev
        end;
        v_out[v_i] := v_prev;
    end loop;
    return v_out;
end;
$$;

comment on function ta._ema_core(float8[], integer, integer) is
'Private: TA-Lib EMA of p_x whose SMA seed window ends at index p_seed_end (outputs from there on). '
'k = 2/(period+1); period 1 copies the input. A NULL makes every later output NULL.';

create or replace function ta.ema(x float8[], timeperiod integer default 30)
returns float8[]
language plpgsql
immutable strict parallel safe security invoker
as $$
declare
    v_x float8[] := ta._prep('ta.ema', 'x', x);
    v_n integer := cardinality(v_x);
begin
    -- Exponential moving average, TA-Lib EMA (SMA seed).
    perform ta._check_period('ta.ema', 'timeperiod', timeperiod, 1);
    if v_n = 0 then
        return v_x;
    end if;
    return ta._ema_core(v_x, timeperiod, ta._first_valid(v_x) + timeperiod - 1);
end;
$$;

comment on function ta.ema(float8[], integer) is
'Exponential moving average, TA-Lib 0.8.x EMA(real, timeperiod=30). k = 2/(n+1); '
'ema_{n-1} = mean(x_0..x_{n-1}); ema_t = ema_{t-1} + k (x_t - ema_{t-1}). timeperiod 1..100000 '
'(1 = copy of the input). Lookback n-1 (NULL there). NULL/NaN: leading NULLs skipped; an interior '
'NULL makes every later output NULL (period 1: only that row). Oracle: TA-Lib 0.8.x EMA.';
