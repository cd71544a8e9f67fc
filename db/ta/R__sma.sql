-- tsquant:requires db/ta/R__helpers.sql
-- SMA: simple moving average (TA-Lib 0.8.x SMA), and the SMA core shared with STOCH, STOCHRSI.

create or replace function ta._sma_step(
    p_state float8[], p_x float8[], p_timeperiod integer, out sma float8[], out state float8[]
)
language plpgsql
immutable parallel safe security invoker
as $$
declare
    v_m integer := cardinality(p_x);
    v_l integer := p_timeperiod - 1;
    v_count bigint := 0;
    v_total float8 := 0::float8;
    v_w float8[];
    v_j integer;
begin
    -- The native kernel when installed (db/ta/native/sma.c): the same bits, faster.
    perform 'PRAGMA:DISABLE:CHECK';  -- plpgsql_check: ta_native exists only with the extension
    if ta._native() then
        select n.sma, n.state into sma, state from ta_native.sma_step(p_state, p_x, p_timeperiod) as n;
        return;
    end if;
    perform 'PRAGMA:ENABLE:CHECK';
    -- Resumable TA-Lib SMA kernel: consumes the chunk p_x after the bars summarised by p_state
    -- (NULL or '{}' = no bar yet) and returns the chunk's outputs and the new state. The running
    -- total is carried exactly as TA_SMA carries it (total += x_t; out = total/n; total -= x_{t-n+1}),
    -- so any split of a series into chunks gives the same bits as one call.
    if cardinality(p_state) > 0 then
        v_count := p_state[1]::bigint;
        v_total := p_state[2];
        v_w := p_state[3:2 + v_l];
    else
        v_w := array_fill(null::float8, array[v_l]);
    end if;
    v_w := array_cat(v_w, p_x);
    sma := array_fill(null::float8, array[v_m]);
    v_j := greatest(v_l - v_count, 0)::integer;  -- chunk bars still inside the lookback
    for v_i in 1..least(v_j, v_m) loop
        v_total := v_total + v_w[v_l + v_i];
    end loop;
    for v_i in v_j + 1..v_m loop
        v_total := v_total + v_w[v_l + v_i];
        sma[v_i] := v_total / p_timeperiod;
        v_total := v_total - v_w[v_i];
    end loop;
    state := array_cat(array[(v_count + v_m)::float8, v_total], v_w[v_m + 1:v_m + v_l]);
end;
$$;

comment on function ta._sma_step(float8[], float8[], integer) is
'Private: resumable TA-Lib SMA kernel. State float8[]: [1] bars consumed, [2] running total '
'(after the last bar''s subtraction), [3 .. n+1] the last n-1 inputs (NULL-padded in front while '
'fewer). ta.sma is this kernel run from the empty state; chunked runs give identical bits.';

create or replace function ta._sma_core(p_x float8[], p_period integer, p_start integer)
returns float8[]
language plpgsql
immutable parallel safe security invoker
as $$
declare
    v_out float8[];
begin
    -- TA-Lib TA_SMA over p_x[p_start..] (ta._sma_step from the empty state): a running sum, so
    -- a NULL inside the series makes every later output NULL. Outputs start at p_start + p_period - 1.
    if cardinality(p_x) - p_start < p_period - 1 then
        return array_fill(null::float8, array[cardinality(p_x)]);
    end if;
    if p_start = 1 then
        -- no leading NULL: return the kernel's array as is (no copy, no padding)
        return (select s.sma from ta._sma_step(null, p_x, p_period) as s);
    end if;
    select s.sma into v_out from ta._sma_step(null, p_x[p_start:], p_period) as s;
    return array_cat(array_fill(null::float8, array[p_start - 1]), v_out);
end;
$$;

comment on function ta._sma_core(float8[], integer, integer) is
'Private: TA-Lib SMA (running sum / period) of p_x starting at index p_start; NULL before '
'p_start + period - 1. A NULL in the series makes every later output NULL. Runs ta._sma_step.';

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
    v_x float8[];
    v_n integer;
begin
    -- Simple moving average, TA-Lib SMA.
    perform 'PRAGMA:DISABLE:CHECK';  -- plpgsql_check: ta_native exists only with the extension
    if ta._native() then
        return ta_native.sma(x, timeperiod);  -- db/ta/native/sma.c: the same checks and bits
    end if;
    perform 'PRAGMA:ENABLE:CHECK';
    v_x := ta._prep('ta.sma', 'x', x);
    v_n := cardinality(v_x);
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
