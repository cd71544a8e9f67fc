-- tsquant:requires db/ta/R__helpers.sql
-- CCI: commodity channel index (TA-Lib 0.8.x CCI).

create or replace function ta.cci(high float8[], low float8[], close float8[], timeperiod integer default 14)
returns float8[]
language plpgsql
immutable strict parallel safe security invoker
as $$
declare
    v_high float8[] := ta._prep('ta.cci', 'high', high);
    v_low float8[] := ta._prep('ta.cci', 'low', low);
    v_close float8[] := ta._prep('ta.cci', 'close', close);
    v_n integer := cardinality(v_close);
    v_p integer := timeperiod;
    v_out float8[];
    v_tp float8[];
    v_start integer;
    v_slot integer;
    v_mean float8;
    v_dev float8;
    v_diff float8;
begin
    -- CCI = (TP - mean_n(TP)) / (0.015 * mean_n|TP - mean_n(TP)|), TP = (h+l+c)/3; 0 when the
    -- numerator or the mean deviation is within 1e-14 |mean| of zero (flat window).
    -- TA-Lib keeps the last n TP in a circular buffer and sums it in buffer-slot order; the sums
    -- below walk the window in that same order so that rounding (and the flat-window test) match.
    perform ta._check_period('ta.cci', 'timeperiod', timeperiod, 2);
    perform ta._check_lengths('ta.cci', 'high, low and close', cardinality(v_high), cardinality(v_low), v_n);
    if v_n = 0 then
        return v_close;
    end if;
    v_out := array_fill(null::float8, array[v_n]);
    v_start := ta._first_valid(v_high, v_low, v_close);
    if v_n - v_start < v_p - 1 then
        return v_out;
    end if;
    v_tp := array_fill(null::float8, array[v_n]);
    for v_i in v_start..v_n loop
        v_tp[v_i] := (v_high[v_i] + v_low[v_i] + v_close[v_i]) / 3;
    end loop;
    for v_today in v_start + v_p - 1..v_n loop
        -- the bar in buffer slot 0 is v_today - v_slot; slots 0..v_slot hold bars
        -- v_today - v_slot..v_today, slots v_slot+1..p-1 hold v_today - p + 1..v_today - v_slot - 1
        v_slot := (v_today - v_start) % v_p;
        v_mean := 0;
        for v_j in v_today - v_slot..v_today loop
            v_mean := v_mean + v_tp[v_j];
        end loop;
        for v_j in v_today - v_p + 1..v_today - v_slot - 1 loop
            v_mean := v_mean + v_tp[v_j];
        end loop;
        v_mean := v_mean / v_p;
        v_dev := 0;
        for v_j in v_today - v_slot..v_today loop
            v_dev := v_dev + abs(v_tp[v_j] - v_mean);
        end loop;
        for v_j in v_today - v_p + 1..v_today - v_slot - 1 loop
            v_dev := v_dev + abs(v_tp[v_j] - v_mean);
        end loop;
        v_dev := v_dev / v_p;
        v_diff := v_tp[v_today] - v_mean;
        v_out[v_today] := case
            when ta._is_zero_scaled(v_diff, abs(v_mean)) or ta._is_zero_scaled(v_dev, abs(v_mean)) then 0
            else v_diff / (0.015 * v_dev)
        end;
    end loop;
    return v_out;
end;
$$;

comment on function ta.cci(float8[], float8[], float8[], integer) is
'Commodity channel index, TA-Lib 0.8.x CCI(high, low, close, timeperiod=14). TP = (h+l+c)/3; '
'CCI = (TP - mean_n TP) / (0.015 * mean_n |TP - mean_n TP|), and 0 when either part is within '
'1e-14 |mean_n TP| of zero (flat window). timeperiod 2..100000. Lookback n-1 (NULL there). '
'Cost O(rows * n). NULL/NaN: leading rows with any NULL skipped; a NULL in any input makes the '
'outputs of the n windows that contain it NULL, later ones are unaffected. Oracle: TA-Lib 0.8.x CCI.';
