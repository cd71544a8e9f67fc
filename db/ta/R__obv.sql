-- tsquant:requires db/ta/R__helpers.sql
-- OBV: on-balance volume (TA-Lib 0.8.x OBV).

create or replace function ta.obv(close float8[], volume float8[])
returns float8[]
language plpgsql
immutable strict parallel safe security invoker
as $$
declare
    v_close float8[] := ta._prep('ta.obv', 'close', close);
    v_volume float8[] := ta._prep('ta.obv', 'volume', volume);
    v_n integer := cardinality(v_close);
    v_out float8[];
    v_start integer;
    v_obv float8;
begin
    -- Cumulative volume signed by the close-to-close direction, starting at the first bar's volume.
    perform ta._check_lengths('ta.obv', 'close and volume', v_n, cardinality(v_volume));
    if v_n = 0 then
        return v_close;
    end if;
    v_out := array_fill(null::float8, array[v_n]);
    v_start := ta._first_valid(v_close, v_volume);
    v_obv := v_volume[v_start];
    v_out[v_start] := v_obv;
    for v_i in v_start + 1..v_n loop
        v_obv := v_obv + case
            when v_close[v_i] > v_close[v_i - 1] then v_volume[v_i]
            when v_close[v_i] < v_close[v_i - 1] then -v_volume[v_i]
            else 0
        end;
        v_out[v_i] := v_obv;
    end loop;
    return v_out;
end;
$$;

comment on function ta.obv(float8[], float8[]) is
'On-balance volume, TA-Lib 0.8.x OBV(close, volume). OBV_0 = V_0 (the first bar''s volume, as '
'TA-Lib); OBV_t = OBV_{t-1} + V_t if c_t > c_{t-1}, - V_t if c_t < c_{t-1}, unchanged if equal. '
'Lookback 0. NULL/NaN: leading rows with a NULL close or volume skipped; a NULL close leaves OBV '
'unchanged on that bar and the next (comparisons with NaN are false); a NULL volume on a bar whose '
'close moved makes every later output NULL. Oracle: TA-Lib 0.8.x OBV.';
