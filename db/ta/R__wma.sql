-- tsquant:requires db/ta/R__helpers.sql
-- WMA: linearly weighted moving average (TA-Lib 0.8.x WMA).

create or replace function ta.wma(x float8[], timeperiod integer default 30)
returns float8[]
language plpgsql
immutable strict parallel safe security invoker
as $$
declare
    v_x float8[] := ta._prep('ta.wma', 'x', x);
    v_n integer := cardinality(v_x);
    v_out float8[];
    v_start integer;
    v_divider float8;
    v_sum float8 := 0::float8;
    v_sub float8 := 0::float8;
    v_trailing float8 := 0::float8;
    v_reseed integer;
begin
    -- Weighted moving average with weights 1..n, TA-Lib WMA: two running sums (the weighted sum
    -- and the plain sum of the window), re-anchored from the window every 8*n bars as TA-Lib 0.8
    -- does (issue #255), so rounding residue does not pile up.
    perform ta._check_period('ta.wma', 'timeperiod', timeperiod, 1);
    if v_n = 0 then
        return v_x;
    end if;
    v_out := array_fill(null::float8, array[v_n]);
    v_start := ta._first_valid(v_x);
    if v_n - v_start < timeperiod - 1 then
        return v_out;
    end if;
    if timeperiod = 1 then
        return array_cat(array_fill(null::float8, array[v_start - 1]), v_x[v_start:]);
    end if;
    v_divider := timeperiod::float8 * (timeperiod + 1) / 2.0;
    for v_i in v_start..v_start + timeperiod - 2 loop
        v_sub := v_sub + v_x[v_i];
        v_sum := v_sum + v_x[v_i] * (v_i - v_start + 1);
    end loop;
    v_reseed := 8 * timeperiod;
    for v_i in v_start + timeperiod - 1..v_n loop
        v_sub := v_sub + v_x[v_i] - v_trailing;
        v_sum := v_sum + v_x[v_i] * timeperiod;
        v_reseed := v_reseed - 1;
        if v_reseed <= 0 then
            -- Re-anchor: rebuild both sums from the window, oldest first.
            v_reseed := 8 * timeperiod;
            v_sub := 0;
            v_sum := 0;
            for v_j in v_i - timeperiod + 1..v_i loop
                v_sub := v_sub + v_x[v_j];
                v_sum := v_sum + v_x[v_j] * (v_j - v_i + timeperiod);
            end loop;
        end if;
        v_trailing := v_x[v_i - timeperiod + 1];
        v_out[v_i] := v_sum / v_divider;
        v_sum := v_sum - v_sub;
    end loop;
    return v_out;
end;
$$;

comment on function ta.wma(float8[], integer) is
'Weighted moving average, TA-Lib 0.8.x WMA(real, timeperiod=30): weights 1..n (newest n), '
'divisor n(n+1)/2. timeperiod 1..100000 (1 = copy). Lookback n-1 (NULL there). NULL/NaN: leading '
'NULLs skipped; an interior NULL makes later outputs NULL until TA-Lib''s periodic re-anchoring '
'(every 8n bars) rebuilds the sums from a window without it. Oracle: TA-Lib 0.8.x WMA.';
