-- tsquant:requires db/ta/R__helpers.sql
-- VWAP: cumulative volume-weighted average price (TA-Lib 0.8.x VWAP).

create or replace function ta._vwap_step(
    p_state float8[], p_high float8[], p_low float8[], p_close float8[], p_volume float8[],
    out vwap float8[], out state float8[]
)
language plpgsql
immutable parallel safe security invoker
as $$
declare
    v_m integer := cardinality(p_close);
    v_count bigint := 0;
    v_tp float8;
    v_sum_pv float8 := 0::float8;
    v_sum_v float8 := 0::float8;
    v_vwap float8 := 0::float8;
begin
    -- The native kernel when installed (db/ta/native/vwap.c): the same bits, faster.
    perform 'PRAGMA:DISABLE:CHECK';  -- plpgsql_check: ta_native exists only with the extension
    if ta._native() then
        select n.vwap, n.state into vwap, state
        from ta_native.vwap_step(p_state, p_high, p_low, p_close, p_volume) as n;
        return;
    end if;
    perform 'PRAGMA:ENABLE:CHECK';
    -- Resumable VWAP kernel (state NULL or '{}' = no bar yet): sum(TP*V)/sum(V), never reset;
    -- 0 until the first bar with volume; a bar whose TP or volume is not a finite number (NULL,
    -- NaN, infinity) is skipped.
    if cardinality(p_state) > 0 then
        v_count := p_state[1]::bigint;
        v_sum_pv := p_state[2];
        v_sum_v := p_state[3];
        v_vwap := p_state[4];
    end if;
    vwap := array_fill(null::float8, array[v_m]);
    for v_i in 1..v_m loop
        v_tp := (p_high[v_i] + p_low[v_i] + p_close[v_i]) / 3.0;
        if abs(v_tp) < 'Infinity'::float8 and abs(p_volume[v_i]) < 'Infinity'::float8 then
            v_sum_pv := v_sum_pv + v_tp * p_volume[v_i];
            v_sum_v := v_sum_v + p_volume[v_i];
        end if;
        if v_sum_v > 0 then
            v_vwap := v_sum_pv / v_sum_v;
        end if;
        vwap[v_i] := v_vwap;
    end loop;
    state := array[(v_count + v_m)::float8, v_sum_pv, v_sum_v, v_vwap];
end;
$$;

comment on function ta._vwap_step(float8[], float8[], float8[], float8[], float8[]) is
'Private: resumable TA-Lib VWAP kernel. State float8[]: [1] bars consumed, [2] sum of TP*V, '
'[3] sum of V, [4] last VWAP. ta.vwap is this kernel run from the empty state; chunked runs give '
'identical bits.';

create or replace function ta.vwap(high float8[], low float8[], close float8[], volume float8[])
returns float8[]
language plpgsql
immutable strict parallel safe security invoker
as $$
declare
    v_out float8[];
    v_high float8[];
    v_low float8[];
    v_close float8[];
    v_volume float8[];
    v_n integer;
    v_start integer;
begin
    -- VWAP: ta._vwap_step from the empty state after the leading rows with a NULL.
    perform 'PRAGMA:DISABLE:CHECK';  -- plpgsql_check: ta_native exists only with the extension
    if ta._native() then
        return ta_native.vwap(high, low, close, volume);  -- db/ta/native/vwap.c: the same checks and bits
    end if;
    perform 'PRAGMA:ENABLE:CHECK';
    v_high := ta._prep('ta.vwap', 'high', high);
    v_low := ta._prep('ta.vwap', 'low', low);
    v_close := ta._prep('ta.vwap', 'close', close);
    v_volume := ta._prep('ta.vwap', 'volume', volume);
    v_n := cardinality(v_close);
    perform ta._check_lengths('ta.vwap', 'high, low, close and volume',
        cardinality(v_high), cardinality(v_low), v_n, cardinality(v_volume));
    if v_n = 0 then
        return v_close;
    end if;
    v_start := ta._first_valid(v_high, v_low, v_close, v_volume);
    if v_start = 1 then
        -- no leading NULL: return the kernel's array as is (no copy, no padding)
        return (select s.vwap from ta._vwap_step(null, v_high, v_low, v_close, v_volume) as s);
    end if;
    select s.vwap into v_out from ta._vwap_step(null, v_high[v_start:], v_low[v_start:], v_close[v_start:], v_volume[v_start:]) as s;
    return array_cat(array_fill(null::float8, array[v_start - 1]), v_out);
end;
$$;

comment on function ta.vwap(float8[], float8[], float8[], float8[]) is
'Volume-weighted average price, TA-Lib 0.8.x VWAP(high, low, close, volume): '
'sum(TP V)/sum(V) with TP = (h+l+c)/3, cumulative from the first bar of the input and never '
'reset (call it per session for a session VWAP); 0 until the first bar with non-zero volume. '
'Lookback 0. NULL/NaN: leading rows with any NULL skipped; a later bar with a NULL, NaN or '
'infinite price or volume is skipped (the previous value repeats). Oracle: TA-Lib 0.8.x VWAP.';
