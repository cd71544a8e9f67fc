-- tsquant:requires db/ta/R__helpers.sql
-- Directional movement: PLUS_DI, MINUS_DI and ADX (TA-Lib 0.8.x), one shared core.

create or replace function ta._dmi_step(
    p_state float8[],
    p_high float8[],
    p_low float8[],
    p_close float8[],
    p_timeperiod integer,
    p_output text,
    out vals float8[],
    out state float8[]
)
language plpgsql
immutable parallel safe security invoker
as $$
declare
    v_m integer := cardinality(p_close);
    v_period float8 := p_timeperiod::float8;
    v_count bigint := 0;
    v_prev_high float8;
    v_prev_low float8;
    v_prev_close float8;
    v_plus_dm float8 := 0::float8;
    v_minus_dm float8 := 0::float8;
    v_tr float8 := 0::float8;
    v_sum_dx float8 := 0::float8;
    v_adx float8;
    v_first_adx bigint := 2 * p_timeperiod - 1;
    v_t bigint;
    v_high float8;
    v_low float8;
    v_up float8;
    v_down float8;
    v_plus float8;
    v_minus float8;
    v_dx float8;
    v_want_adx boolean := p_output = 'adx';
    v_want_plus boolean := p_output = 'plus_di';
begin
    -- The native kernel when installed (db/ta/native/dmi.c): the same bits, faster.
    perform 'PRAGMA:DISABLE:CHECK';  -- plpgsql_check: ta_native exists only with the extension
    if ta._native() then
        select n.vals, n.state into vals, state
        from ta_native.dmi_step(p_state, p_high, p_low, p_close, p_timeperiod, p_output) as n;
        return;
    end if;
    perform 'PRAGMA:ENABLE:CHECK';
    -- Resumable kernel of Wilder's directional movement (state NULL or '{}' = no bar yet);
    -- p_output is 'plus_di', 'minus_di' or 'adx':
    --   up = h_t - h_{t-1}, down = l_{t-1} - l_t; +DM1 = up if up > 0 and up > down, else 0
    --   (-DM1 symmetric); TR1 = true range.
    --   +DM, -DM, TR: sums over bars 1..n-1, then S = S - S/n + x1 (Wilder sums).
    --   +DI = 100 +DM/TR, -DI = 100 -DM/TR (0 while TR is not > 0);
    --   DX = 100 |+DI - -DI| / (+DI + -DI); ADX = mean of the DX of bars n..2n-1, then
    --   ADX = ADX - (ADX - DX)/n. A bar whose TR sum is not > 0 (or whose DI sum is ~0) leaves
    --   ADX unchanged, as in TA-Lib; that is also what a NULL high/low does.
    -- Period 1 (DI only): +DI1 = up/TR1 (a fraction, not a percentage), as TA-Lib.
    -- TA-Lib 0.8.x divides by n in these smoothing steps (where RSI multiplies by 1/n); the
    -- difference shows once the sums have decayed to subnormal numbers, so it is kept.
    if cardinality(p_state) > 0 then
        v_count := p_state[1]::bigint;
        v_prev_high := p_state[2];
        v_prev_low := p_state[3];
        v_prev_close := p_state[4];
        v_plus_dm := p_state[5];
        v_minus_dm := p_state[6];
        v_tr := p_state[7];
        v_sum_dx := p_state[8];
        v_adx := p_state[9];
    end if;
    vals := array_fill(null::float8, array[v_m]);
    for v_i in 1..v_m loop
        v_t := v_count + v_i - 1;
        v_high := p_high[v_i];
        v_low := p_low[v_i];
        if v_t > 0 then
            v_up := v_high - v_prev_high;
            v_down := v_prev_low - v_low;
            if p_timeperiod = 1 then
                v_tr := ta._true_range(v_high, v_low, v_prev_close);
                if v_want_plus then
                    vals[v_i] := case
                        when v_up > 0 and v_up > v_down then case when v_tr <= 0 then 0 else v_up / v_tr end
                        else 0
                    end;
                else
                    vals[v_i] := case
                        when v_down > 0 and v_down > v_up then case when v_tr <= 0 then 0 else v_down / v_tr end
                        else 0
                    end;
                end if;
            elsif v_t < p_timeperiod then
                v_plus_dm := v_plus_dm + case when v_up > 0 and v_up - v_down > 0 then v_up else 0 end;
                v_minus_dm := v_minus_dm + case when v_down > 0 and v_down - v_up > 0 then v_down else 0 end;
                v_tr := v_tr + ta._true_range(v_high, v_low, v_prev_close);
            else
                v_plus_dm := v_plus_dm
                    - case when v_plus_dm >= 1e-280 then v_plus_dm / v_period else ta._div(v_plus_dm, v_period) end
                    + case when v_up > 0 and v_up - v_down > 0 then v_up else 0 end;
                v_minus_dm := v_minus_dm
                    - case when v_minus_dm >= 1e-280 then v_minus_dm / v_period else ta._div(v_minus_dm, v_period) end
                    + case when v_down > 0 and v_down - v_up > 0 then v_down else 0 end;
                v_tr := v_tr - case when v_tr >= 1e-280 then v_tr / v_period else ta._div(v_tr, v_period) end
                    + ta._true_range(v_high, v_low, v_prev_close);
                if v_want_adx then
                    if v_tr > 0 then
                        v_plus := 100.0
                            * case when v_plus_dm >= 1e-280 then v_plus_dm / v_tr else ta._div(v_plus_dm, v_tr) end;
                        v_minus := 100.0
                            * case when v_minus_dm >= 1e-280 then v_minus_dm / v_tr else ta._div(v_minus_dm, v_tr) end;
                        if abs(v_minus + v_plus) >= 1e-14 then
                            v_dx := 100.0 * (abs(v_minus - v_plus) / (v_minus + v_plus));
                            if v_t <= v_first_adx then
                                v_sum_dx := v_sum_dx + v_dx;
                            else
                                v_adx := v_adx
                                    - case when v_adx >= 1e-280 then (v_adx - v_dx) / v_period
                                        else ta._div(v_adx - v_dx, v_period) end;
                            end if;
                        end if;
                    end if;
                    if v_t = v_first_adx then
                        v_adx := v_sum_dx / v_period;
                    end if;
                    vals[v_i] := v_adx;  -- NULL until the first ADX
                elsif v_want_plus then
                    vals[v_i] := case
                        when v_tr > 0 then
                            100.0 * case when v_plus_dm >= 1e-280 then v_plus_dm / v_tr else ta._div(v_plus_dm, v_tr) end
                        else 0
                    end;
                else
                    vals[v_i] := case
                        when v_tr > 0 then
                            100.0
                            * case when v_minus_dm >= 1e-280 then v_minus_dm / v_tr else ta._div(v_minus_dm, v_tr) end
                        else 0
                    end;
                end if;
            end if;
        end if;
        v_prev_high := v_high;
        v_prev_low := v_low;
        v_prev_close := p_close[v_i];
    end loop;
    state := array[
        (v_count + v_m)::float8, v_prev_high, v_prev_low, v_prev_close, v_plus_dm, v_minus_dm, v_tr,
        v_sum_dx, v_adx
    ];
end;
$$;

comment on function ta._dmi_step(float8[], float8[], float8[], float8[], integer, text) is
'Private: resumable TA-Lib PLUS_DI, MINUS_DI or ADX kernel (p_output ''plus_di'', ''minus_di'', '
'''adx''). State float8[]: [1] bars consumed, [2..4] previous high, low, close, [5] +DM sum, '
'[6] -DM sum, [7] TR sum, [8] DX sum of the ADX seed, [9] ADX (NULL before bar 2n-1). The public '
'functions run this kernel from the empty state; chunked runs give identical bits.';

create or replace function ta._dmi_core(
    p_high float8[], p_low float8[], p_close float8[], p_period integer, p_output text
)
returns float8[]
language plpgsql
immutable parallel safe security invoker
as $$
declare
    v_out float8[];
    v_start integer;
begin
    -- Directional movement over prepared, equal-length series: ta._dmi_step from the empty state
    -- after the leading rows with a NULL.
    if cardinality(p_close) = 0 then
        return p_close;
    end if;
    v_start := ta._first_valid(p_high, p_low, p_close);
    if v_start = 1 then
        -- no leading NULL: return the kernel's array as is (no copy, no padding)
        return (select s.vals from ta._dmi_step(null, p_high, p_low, p_close, p_period, p_output) as s);
    end if;
    select s.vals into v_out from ta._dmi_step(null, p_high[v_start:], p_low[v_start:], p_close[v_start:], p_period, p_output) as s;
    return array_cat(array_fill(null::float8, array[v_start - 1]), v_out);
end;
$$;

comment on function ta._dmi_core(float8[], float8[], float8[], integer, text) is
'Private: TA-Lib PLUS_DI, MINUS_DI or ADX (p_output ''plus_di'', ''minus_di'', ''adx'') over '
'prepared, equal-length series. Shared by ta.plus_di, ta.minus_di and ta.adx; runs ta._dmi_step.';

create or replace function ta.plus_di(high float8[], low float8[], close float8[], timeperiod integer default 14)
returns float8[]
language plpgsql
immutable strict parallel safe security invoker
as $$
declare
    v_high float8[];
    v_low float8[];
    v_close float8[];
begin
    -- Plus directional indicator, TA-Lib PLUS_DI.
    perform 'PRAGMA:DISABLE:CHECK';  -- plpgsql_check: ta_native exists only with the extension
    if ta._native() then
        return ta_native.plus_di(high, low, close, timeperiod);  -- db/ta/native/dmi.c: the same checks and bits
    end if;
    perform 'PRAGMA:ENABLE:CHECK';
    v_high := ta._prep('ta.plus_di', 'high', high);
    v_low := ta._prep('ta.plus_di', 'low', low);
    v_close := ta._prep('ta.plus_di', 'close', close);
    perform ta._check_period('ta.plus_di', 'timeperiod', timeperiod, 1);
    perform ta._check_lengths('ta.plus_di', 'high, low and close',
        cardinality(v_high), cardinality(v_low), cardinality(v_close));
    return ta._dmi_core(v_high, v_low, v_close, timeperiod, 'plus_di');
end;
$$;

comment on function ta.plus_di(float8[], float8[], float8[], integer) is
'Plus directional indicator, TA-Lib 0.8.x PLUS_DI(high, low, close, timeperiod=14). '
'+DM1 = h_t - h_{t-1} when that is > 0 and > l_{t-1} - l_t, else 0; +DM and TR are summed over '
'bars 1..n-1, then S = S - S/n + x1; +DI = 100 +DM/TR, 0 when TR = 0. timeperiod 1..100000 '
'(1: +DM1/TR1 as a fraction, as TA-Lib). Lookback n (NULL there). NULL/NaN: leading rows with any '
'NULL skipped; a NULL high or low makes the TR sum NULL, so every later output is 0 (TA-Lib''s '
'"TR > 0" test is false for NaN); a NULL close only makes the next true range h - l. '
'Oracle: TA-Lib 0.8.x PLUS_DI.';

create or replace function ta.minus_di(high float8[], low float8[], close float8[], timeperiod integer default 14)
returns float8[]
language plpgsql
immutable strict parallel safe security invoker
as $$
declare
    v_high float8[];
    v_low float8[];
    v_close float8[];
begin
    -- Minus directional indicator, TA-Lib MINUS_DI.
    perform 'PRAGMA:DISABLE:CHECK';  -- plpgsql_check: ta_native exists only with the extension
    if ta._native() then
        return ta_native.minus_di(high, low, close, timeperiod);  -- db/ta/native/dmi.c: the same checks and bits
    end if;
    perform 'PRAGMA:ENABLE:CHECK';
    v_high := ta._prep('ta.minus_di', 'high', high);
    v_low := ta._prep('ta.minus_di', 'low', low);
    v_close := ta._prep('ta.minus_di', 'close', close);
    perform ta._check_period('ta.minus_di', 'timeperiod', timeperiod, 1);
    perform ta._check_lengths('ta.minus_di', 'high, low and close',
        cardinality(v_high), cardinality(v_low), cardinality(v_close));
    return ta._dmi_core(v_high, v_low, v_close, timeperiod, 'minus_di');
end;
$$;

comment on function ta.minus_di(float8[], float8[], float8[], integer) is
'Minus directional indicator, TA-Lib 0.8.x MINUS_DI(high, low, close, timeperiod=14). '
'-DM1 = l_{t-1} - l_t when that is > 0 and > h_t - h_{t-1}, else 0; -DM and TR are summed over '
'bars 1..n-1, then S = S - S/n + x1; -DI = 100 -DM/TR, 0 when TR = 0. timeperiod 1..100000 '
'(1: -DM1/TR1 as a fraction, as TA-Lib). Lookback n (NULL there). NULL/NaN: as ta.plus_di. '
'Oracle: TA-Lib 0.8.x MINUS_DI.';

create or replace function ta.adx(high float8[], low float8[], close float8[], timeperiod integer default 14)
returns float8[]
language plpgsql
immutable strict parallel safe security invoker
as $$
declare
    v_high float8[];
    v_low float8[];
    v_close float8[];
begin
    -- Average directional movement index, TA-Lib ADX.
    perform 'PRAGMA:DISABLE:CHECK';  -- plpgsql_check: ta_native exists only with the extension
    if ta._native() then
        return ta_native.adx(high, low, close, timeperiod);  -- db/ta/native/dmi.c: the same checks and bits
    end if;
    perform 'PRAGMA:ENABLE:CHECK';
    v_high := ta._prep('ta.adx', 'high', high);
    v_low := ta._prep('ta.adx', 'low', low);
    v_close := ta._prep('ta.adx', 'close', close);
    perform ta._check_period('ta.adx', 'timeperiod', timeperiod, 2);
    perform ta._check_lengths('ta.adx', 'high, low and close',
        cardinality(v_high), cardinality(v_low), cardinality(v_close));
    return ta._dmi_core(v_high, v_low, v_close, timeperiod, 'adx');
end;
$$;

comment on function ta.adx(float8[], float8[], float8[], integer) is
'Average directional movement index, TA-Lib 0.8.x ADX(high, low, close, timeperiod=14). '
'+DI/-DI as ta.plus_di/ta.minus_di; DX = 100 |+DI - -DI|/(+DI + -DI); first ADX = mean of the '
'n DX of bars n..2n-1 (a bar with TR = 0 or +DI + -DI ~ 0 contributes 0), then '
'ADX = ADX - (ADX - DX)/n, unchanged on such bars. timeperiod 2..100000. Lookback 2n-1 (NULL '
'there). NULL/NaN: leading rows with any NULL skipped; after a NULL high or low the TR sum is '
'NULL and ADX keeps its last value; a NULL close only makes the next true range h - l. '
'Oracle: TA-Lib 0.8.x ADX.';
