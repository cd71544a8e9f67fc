-- tsquant:requires db/ta/R__helpers.sql
-- OBV: on-balance volume (TA-Lib 0.8.x OBV).

create or replace function ta._obv_step(
    p_state float8[], p_close float8[], p_volume float8[], out obv float8[], out state float8[]
)
language plpgsql
immutable parallel safe security invoker
as $$
declare
    v_m integer := cardinality(p_close);
    v_count bigint := 0;
    v_prev_close float8;
    v_obv float8;
    v_w float8[];
    v_first integer;
begin
    -- The native kernel when installed (db/ta/native/obv.c): the same bits, faster.
    perform 'PRAGMA:DISABLE:CHECK';  -- plpgsql_check: ta_native exists only with the extension
    if ta._native() then
        select n.obv, n.state into obv, state from ta_native.obv_step(p_state, p_close, p_volume) as n;
        return;
    end if;
    perform 'PRAGMA:ENABLE:CHECK';
    -- Resumable OBV kernel (state NULL or '{}' = no bar yet): cumulative volume signed by the
    -- close-to-close direction, starting at the first bar's volume.
    if cardinality(p_state) > 0 then
        v_count := p_state[1]::bigint;
        v_prev_close := p_state[2];
        v_obv := p_state[3];
    end if;
    obv := array_fill(null::float8, array[v_m]);
    if v_m = 0 then
        state := array[v_count::float8, v_prev_close, v_obv];
        return;
    end if;
    v_w := array_cat(array[v_prev_close], p_close);  -- v_w[i] is the close before chunk bar i
    v_first := 1;
    if v_count = 0 then
        v_obv := p_volume[1];
        obv[1] := v_obv;
        v_first := 2;
    end if;
    for v_i in v_first..v_m loop
        v_obv := v_obv + case
            when p_close[v_i] > v_w[v_i] then p_volume[v_i]
            when p_close[v_i] < v_w[v_i] then -p_volume[v_i]
            else 0
        end;
        obv[v_i] := v_obv;
    end loop;
    v_prev_close := p_close[v_m];
    state := array[(v_count + v_m)::float8, v_prev_close, v_obv];
end;
$$;

comment on function ta._obv_step(float8[], float8[], float8[]) is
'Private: resumable TA-Lib OBV kernel. State float8[]: [1] bars consumed, [2] previous close, '
'[3] OBV. ta.obv is this kernel run from the empty state; chunked runs give identical bits.';

create or replace function ta.obv(close float8[], volume float8[])
returns float8[]
language plpgsql
immutable strict parallel safe security invoker
as $$
declare
    v_out float8[];
    v_close float8[];
    v_volume float8[];
    v_n integer;
    v_start integer;
begin
    -- On-balance volume: ta._obv_step from the empty state after the leading rows with a NULL.
    perform 'PRAGMA:DISABLE:CHECK';  -- plpgsql_check: ta_native exists only with the extension
    if ta._native() then
        return ta_native.obv(close, volume);  -- db/ta/native/obv.c: the same checks and bits
    end if;
    perform 'PRAGMA:ENABLE:CHECK';
    v_close := ta._prep('ta.obv', 'close', close);
    v_volume := ta._prep('ta.obv', 'volume', volume);
    v_n := cardinality(v_close);
    perform ta._check_lengths('ta.obv', 'close and volume', v_n, cardinality(v_volume));
    if v_n = 0 then
        return v_close;
    end if;
    v_start := ta._first_valid(v_close, v_volume);
    if v_start = 1 then
        -- no leading NULL: return the kernel's array as is (no copy, no padding)
        return (select s.obv from ta._obv_step(null, v_close, v_volume) as s);
    end if;
    select s.obv into v_out from ta._obv_step(null, v_close[v_start:], v_volume[v_start:]) as s;
    return array_cat(array_fill(null::float8, array[v_start - 1]), v_out);
end;
$$;

comment on function ta.obv(float8[], float8[]) is
'On-balance volume, TA-Lib 0.8.x OBV(close, volume). OBV_0 = V_0 (the first bar''s volume, as '
'TA-Lib); OBV_t = OBV_{t-1} + V_t if c_t > c_{t-1}, - V_t if c_t < c_{t-1}, unchanged if equal. '
'Lookback 0. NULL/NaN: leading rows with a NULL close or volume skipped; a NULL close leaves OBV '
'unchanged on that bar and the next (comparisons with NaN are false); a NULL volume on a bar whose '
'close moved makes every later output NULL. Oracle: TA-Lib 0.8.x OBV.';
