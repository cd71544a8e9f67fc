-- tsquant:requires db/ta/R__helpers.sql
-- VWAP: cumulative volume-weighted average price (TA-Lib 0.8.x VWAP).

create or replace function ta.vwap(high float8[], low float8[], close float8[], volume float8[])
returns float8[]
language plpgsql
immutable strict parallel safe security invoker
as $$
declare
    v_high float8[] := ta._prep('ta.vwap', 'high', high);
    v_low float8[] := ta._prep('ta.vwap', 'low', low);
    v_close float8[] := ta._prep('ta.vwap', 'close', close);
    v_volume float8[] := ta._prep('ta.vwap', 'volume', volume);
    v_n integer := cardinality(v_close);
    v_out float8[];
    v_tp float8;
    v_sum_pv float8 := 0::float8;
    v_sum_v float8 := 0::float8;
    v_vwap float8 := 0::float8;
begin
    -- sum(TP*V)/sum(V) from the first bar on, never reset; 0 until the first bar with volume;
    -- a bar whose TP or volume is not a finite number (NULL, NaN, infinity) is skipped.
    perform ta._check_lengths('ta.vwap', 'high, low, close and volume',
        cardinality(v_high), cardinality(v_low), v_n, cardinality(v_volume));
    if v_n = 0 then
        return v_close;
    end if;
    v_out := array_fill(null::float8, array[v_n]);
    for v_i in ta._first_valid(v_high, v_low, v_close, v_volume)..v_n loop
        v_tp := (v_high[v_i] + v_low[v_i] + v_close[v_i]) / 3.0;
        if abs(v_tp) < 'Infinity'::float8 and abs(v_volume[v_i]) < 'Infinity'::float8 then
            v_sum_pv := v_sum_pv + v_tp * v_volume[v_i];
            v_sum_v := v_sum_v + v_volume[v_i];
        end if;
        if v_sum_v > 0 then
            v_vwap := v_sum_pv / v_sum_v;
        end if;
        v_out[v_i] := v_vwap;
    end loop;
    return v_out;
end;
$$;

comment on function ta.vwap(float8[], float8[], float8[], float8[]) is
'Volume-weighted average price, TA-Lib 0.8.x VWAP(high, low, close, volume): '
'sum(TP V)/sum(V) with TP = (h+l+c)/3, cumulative from the first bar of the input and never '
'reset (call it per session for a session VWAP); 0 until the first bar with non-zero volume. '
'Lookback 0. NULL/NaN: leading rows with any NULL skipped; a later bar with a NULL, NaN or '
'infinite price or volume is skipped (the previous value repeats). Oracle: TA-Lib 0.8.x VWAP.';
