-- tsquant:requires db/ta/R__helpers.sql
-- EMA: exponential moving average seeded by an SMA (TA-Lib 0.8.x EMA), and the EMA core shared
-- with MACD and TRIX.

create or replace function ta._ema_step(
    p_state float8[], p_x float8[], p_timeperiod integer, out ema float8[], out state float8[]
)
language plpgsql
immutable parallel safe security invoker
as $$
declare
    v_m integer := cardinality(p_x);
    v_k float8 := 2::float8 / (p_timeperiod + 1);
    v_count bigint := 0;
    v_prev float8 := 0::float8;
    v_g bigint;
begin
    -- The native kernel when installed (db/ta/native/ema.c): the same bits, faster.
    perform 'PRAGMA:DISABLE:CHECK';  -- plpgsql_check: ta_native exists only with the extension
    if ta._native() then
        select n.ema, n.state into ema, state from ta_native.ema_step(p_state, p_x, p_timeperiod) as n;
        return;
    end if;
    perform 'PRAGMA:ENABLE:CHECK';
    -- Resumable TA-Lib EMA kernel (state NULL or '{}' = no bar yet): the first n inputs are
    -- summed and divided by n (the SMA seed), then ema_t = (x_t - ema_{t-1}) * k + ema_{t-1},
    -- k = 2/(n+1); period 1 copies the input. Chunked runs give the bits of one run.
    if cardinality(p_state) > 0 then
        v_count := p_state[1]::bigint;
        v_prev := p_state[2];
    end if;
    if p_timeperiod = 1 then
        ema := p_x;
        state := array[(v_count + v_m)::float8, 0::float8];
        return;
    end if;
    ema := array_fill(null::float8, array[v_m]);
    v_g := p_timeperiod - v_count;  -- chunk index of the seed bar (bar n-1)
    for v_i in 1..least(v_g - 1, v_m) loop
        v_prev := v_prev + p_x[v_i];
    end loop;
    if v_g between 1 and v_m then
        v_prev := (v_prev + p_x[v_g]) / p_timeperiod;
        ema[v_g] := v_prev;
    end if;
    for v_i in greatest(v_g + 1, 1)..v_m loop
        v_prev := case
            when abs(v_prev) >= 1e-280 then (p_x[v_i] - v_prev) * v_k + v_prev
            else ta._mul(p_x[v_i] - v_prev, v_k) + v_prev
        end;
        ema[v_i] := v_prev;
    end loop;
    state := array[(v_count + v_m)::float8, v_prev];
end;
$$;

comment on function ta._ema_step(float8[], float8[], integer) is
'Private: resumable TA-Lib EMA kernel. State float8[]: [1] bars consumed, [2] the running sum of '
'the seed window while fewer than n bars, then the last EMA. ta.ema (and MACD''s EMAs, TRIX) run '
'the same recurrence; chunked runs give identical bits.';

create or replace function ta._ema_core(p_x float8[], p_period integer, p_seed_end integer)
returns float8[]
language plpgsql
immutable parallel safe security invoker
as $$
declare
    v_n integer := cardinality(p_x);
    v_out float8[];
begin
    -- TA-Lib EMA whose SMA seed window ends at p_seed_end: ta._ema_step from the empty state over
    -- p_x[p_seed_end - p_period + 1 ..]. MACD seeds its fast and slow EMA on windows that end on
    -- the same bar, hence p_seed_end.
    if p_seed_end > v_n or p_seed_end < p_period then
        return array_fill(null::float8, array[v_n]);
    end if;
    if p_seed_end = p_period then
        -- no leading NULL: return the kernel's array as is (no copy, no padding)
        return (select s.ema from ta._ema_step(null, p_x, p_period) as s);
    end if;
    select s.ema into v_out from ta._ema_step(null, p_x[p_seed_end - p_period + 1:], p_period) as s;
    return array_cat(array_fill(null::float8, array[p_seed_end - p_period]), v_out);
end;
$$;

comment on function ta._ema_core(float8[], integer, integer) is
'Private: TA-Lib EMA of p_x whose SMA seed window ends at index p_seed_end (outputs from there on). '
'k = 2/(period+1); period 1 copies the input. A NULL makes every later output NULL. Runs ta._ema_step.';

create or replace function ta.ema(x float8[], timeperiod integer default 30)
returns float8[]
language plpgsql
immutable strict parallel safe security invoker
as $$
declare
    v_x float8[];
    v_n integer;
begin
    -- Exponential moving average, TA-Lib EMA (SMA seed).
    perform 'PRAGMA:DISABLE:CHECK';  -- plpgsql_check: ta_native exists only with the extension
    if ta._native() then
        return ta_native.ema(x, timeperiod);  -- db/ta/native/ema.c: the same checks and bits
    end if;
    perform 'PRAGMA:ENABLE:CHECK';
    v_x := ta._prep('ta.ema', 'x', x);
    v_n := cardinality(v_x);
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
