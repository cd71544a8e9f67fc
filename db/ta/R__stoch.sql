-- tsquant:requires db/ta/R__sma.sql
-- STOCH: slow stochastic oscillator (TA-Lib 0.8.x STOCH, SMA smoothing), and the raw %K core
-- shared with STOCHRSI.

create or replace function ta._stoch_fastk(
    p_high float8[], p_low float8[], p_close float8[], p_kperiod integer, p_start integer
)
returns float8[]
language plpgsql
immutable parallel safe security invoker
as $$
declare
    v_n integer := cardinality(p_close);
    v_out float8[] := array_fill(null::float8, array[v_n]);
    v_trailing integer;
    v_lowest float8 := 0::float8;
    v_highest float8 := 0::float8;
    v_lowest_idx integer := p_start - 1;
    v_highest_idx integer := p_start - 1;
begin
    -- Raw %K = 100 (close - LL)/(HH - LL) over the last p_kperiod bars, 0 when the window is flat
    -- (|HH - LL| <= 1e-14 (|HH| + |LL|)). HH and LL are kept with their index and the window is
    -- rescanned only when the extreme leaves it: TA-Lib's own scan, reproduced step by step
    -- because that scan decides how a NULL high or low affects later values.
    if v_n - p_start < p_kperiod - 1 then
        return v_out;
    end if;
    for v_today in p_start + p_kperiod - 1..v_n loop
        v_trailing := v_today - p_kperiod + 1;
        if v_lowest_idx < v_trailing then
            v_lowest_idx := v_trailing;
            v_lowest := p_low[v_trailing];
            for v_j in v_trailing + 1..v_today loop
                if p_low[v_j] < v_lowest then
                    v_lowest_idx := v_j;
                    v_lowest := p_low[v_j];
                end if;
            end loop;
        elsif p_low[v_today] <= v_lowest then
            v_lowest_idx := v_today;
            v_lowest := p_low[v_today];
        end if;
        if v_highest_idx < v_trailing then
            v_highest_idx := v_trailing;
            v_highest := p_high[v_trailing];
            for v_j in v_trailing + 1..v_today loop
                if p_high[v_j] > v_highest then
                    v_highest_idx := v_j;
                    v_highest := p_high[v_j];
                end if;
            end loop;
        elsif p_high[v_today] >= v_highest then
            v_highest_idx := v_today;
            v_highest := p_high[v_today];
        end if;
        v_out[v_today] := case
            when ta._is_zero_scaled(v_highest - v_lowest, abs(v_highest) + abs(v_lowest)) then 0
            else (p_close[v_today] - v_lowest) / ((v_highest - v_lowest) / 100.0)
        end;
    end loop;
    return v_out;
end;
$$;

comment on function ta._stoch_fastk(float8[], float8[], float8[], integer, integer) is
'Private: TA-Lib raw fast %K from index p_start on: 100 (close - LL_k)/(HH_k - LL_k), 0 for a flat '
'window (relative dead-zone 1e-14). Reproduces TA-Lib''s cached-extreme scan. Shared by STOCH and STOCHRSI.';

create or replace function ta.stoch(
    high float8[],
    low float8[],
    close float8[],
    fastk_period integer default 5,
    slowk_period integer default 3,
    slowd_period integer default 3,
    out slowk float8[],
    out slowd float8[]
)
language plpgsql
immutable strict parallel safe security invoker
as $$
declare
    v_high float8[] := ta._prep('ta.stoch', 'high', high);
    v_low float8[] := ta._prep('ta.stoch', 'low', low);
    v_close float8[] := ta._prep('ta.stoch', 'close', close);
    v_n integer := cardinality(v_close);
    v_start integer;
    v_first_k integer;
begin
    -- Slow stochastic: raw %K, slow %K = SMA(raw %K, slowk_period), slow %D = SMA(slow %K,
    -- slowd_period); both outputs start where slow %D does.
    perform ta._check_period('ta.stoch', 'fastk_period', fastk_period, 1);
    perform ta._check_period('ta.stoch', 'slowk_period', slowk_period, 1);
    perform ta._check_period('ta.stoch', 'slowd_period', slowd_period, 1);
    perform ta._check_lengths('ta.stoch', 'high, low and close',
        cardinality(v_high), cardinality(v_low), v_n);
    slowk := array_fill(null::float8, array[v_n]);
    slowd := slowk;
    if v_n = 0 then
        return;
    end if;
    v_start := ta._first_valid(v_high, v_low, v_close);
    v_first_k := v_start + fastk_period - 1;
    if v_n - v_start < (fastk_period - 1) + (slowk_period - 1) + (slowd_period - 1) then
        return;
    end if;
    slowk := ta._ma_sma(ta._stoch_fastk(v_high, v_low, v_close, fastk_period, v_start), slowk_period, v_first_k);
    slowd := ta._ma_sma(slowk, slowd_period, v_first_k + slowk_period - 1);
    if slowd_period > 1 then
        -- slow %K is reported only where slow %D exists
        slowk[v_first_k:v_first_k + slowk_period + slowd_period - 3] :=
            array_fill(null::float8, array[slowk_period + slowd_period - 2]);
    end if;
end;
$$;

comment on function ta.stoch(float8[], float8[], float8[], integer, integer, integer) is
'Slow stochastic, TA-Lib 0.8.x STOCH(high, low, close, fastk_period=5, slowk_period=3, '
'slowk_matype=0, slowd_period=3, slowd_matype=0) -> (slowk, slowd). Only matype 0 (SMA) is '
'implemented. rawK = 100 (c - LL)/(HH - LL) over fastk_period bars, 0 when HH = LL (relative '
'dead-zone 1e-14 (|HH|+|LL|)); slowk = SMA(rawK, slowk_period); slowd = SMA(slowk, slowd_period) '
'(period 1 = no smoothing). Periods 1..100000. Lookback (fastk-1)+(slowk-1)+(slowd-1) for both '
'outputs. NULL/NaN: leading rows with any NULL skipped; an interior NULL close (or a NULL extreme '
'TA-Lib''s scan picks up) makes rawK NULL, and the SMA running sums (periods > 1) then make every '
'later output NULL; a NULL high or low that the scan never selects has no effect. '
'Oracle: TA-Lib 0.8.x STOCH.';
