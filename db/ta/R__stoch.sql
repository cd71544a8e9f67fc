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
    v_n integer;
    v_out float8[];
    v_trailing integer;
    v_lowest float8 := 0::float8;
    v_highest float8 := 0::float8;
    v_lowest_idx integer := p_start - 1;
    v_highest_idx integer := p_start - 1;
begin
    -- The native kernel when installed (db/ta/native/stoch.c): the same bits, faster. It takes
    -- the cases STOCHRSI passes (p_kperiod, p_start >= 1); anything else runs the PL/pgSQL.
    perform 'PRAGMA:DISABLE:CHECK';  -- plpgsql_check: ta_native exists only with the extension
    if ta._native() and p_kperiod >= 1 and p_start >= 1 then
        return ta_native.stoch_fastk(p_high, p_low, p_close, p_kperiod, p_start);
    end if;
    perform 'PRAGMA:ENABLE:CHECK';
    v_n := cardinality(p_close);
    v_out := array_fill(null::float8, array[v_n]);
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

create or replace function ta._stoch_step(
    p_state float8[],
    p_high float8[],
    p_low float8[],
    p_close float8[],
    p_fastk_period integer,
    p_slowk_period integer,
    p_slowd_period integer,
    out slowk float8[],
    out slowd float8[],
    out state float8[]
)
language plpgsql
immutable parallel safe security invoker
as $$
declare
    v_m integer := cardinality(p_close);
    v_lf integer := p_fastk_period - 1;
    v_lk integer := p_slowk_period - 1;
    v_ld integer := p_slowd_period - 1;
    v_count bigint := 0;
    v_lowest float8 := 0::float8;
    v_lowest_t bigint := -1;
    v_highest float8 := 0::float8;
    v_highest_t bigint := -1;
    v_kstate float8[];
    v_dstate float8[];
    v_wh float8[];
    v_wl float8[];
    v_raw float8[];
    v_k float8[];
    v_d float8[];
    v_base bigint;
    v_first integer;
    v_kfirst integer;
    v_dfirst integer;
    v_trailing bigint;
    v_j integer;
    v_t bigint;
    v_o integer;
begin
    -- The native kernel when installed (db/ta/native/stoch.c): the same bits, faster.
    perform 'PRAGMA:DISABLE:CHECK';  -- plpgsql_check: ta_native exists only with the extension
    if ta._native() then
        select n.slowk, n.slowd, n.state into slowk, slowd, state
        from ta_native.stoch_step(
            p_state, p_high, p_low, p_close, p_fastk_period, p_slowk_period, p_slowd_period
        ) as n;
        return;
    end if;
    perform 'PRAGMA:ENABLE:CHECK';
    -- Resumable TA-Lib STOCH kernel (SMA smoothing; state NULL or '{}' = no bar yet). Raw %K over
    -- fastk_period bars with TA-Lib's cached-extreme scan (the extremes are kept with their bar
    -- number and the window rescanned only when the extreme leaves it), then slow %K =
    -- ta._sma_step(raw %K) and slow %D = ta._sma_step(slow %K) (period 1: a copy); outputs from
    -- bar (fastk-1)+(slowk-1)+(slowd-1).
    if cardinality(p_state) > 0 then
        v_count := p_state[1]::bigint;
        v_lowest := p_state[2];
        v_lowest_t := p_state[3]::bigint;
        v_highest := p_state[4];
        v_highest_t := p_state[5]::bigint;
        v_wh := p_state[6:5 + v_lf];
        v_wl := p_state[6 + v_lf:5 + 2 * v_lf];
        v_kstate := p_state[6 + 2 * v_lf:7 + 2 * v_lf + v_lk];
        v_dstate := p_state[8 + 2 * v_lf + v_lk:9 + 2 * v_lf + v_lk + v_ld];
    else
        v_wh := array_fill(null::float8, array[v_lf]);
        v_wl := v_wh;
        v_kstate := (select s.state from ta._sma_step(null, '{}'::float8[], p_slowk_period) as s);
        v_dstate := (select s.state from ta._sma_step(null, '{}'::float8[], p_slowd_period) as s);
    end if;
    slowk := array_fill(null::float8, array[v_m]);
    slowd := slowk;
    v_wh := array_cat(v_wh, p_high);
    v_wl := array_cat(v_wl, p_low);
    v_base := v_count - v_lf - 1;  -- bar t is at v_wh[t - v_base]
    v_first := greatest(v_lf - v_count, 0)::integer + 1;  -- first chunk bar with a raw %K
    if v_first <= v_m then
        v_raw := array_fill(null::float8, array[v_m - v_first + 1]);
        for v_i in v_first..v_m loop
            v_t := v_count + v_i - 1;
            v_j := v_lf + v_i;
            v_trailing := v_t - v_lf;
            if v_lowest_t < v_trailing then
                v_lowest_t := v_trailing;
                v_lowest := v_wl[v_trailing - v_base];
                for v_q in v_trailing - v_base + 1..v_j loop
                    if v_wl[v_q] < v_lowest then
                        v_lowest_t := v_q + v_base;
                        v_lowest := v_wl[v_q];
                    end if;
                end loop;
            elsif v_wl[v_j] <= v_lowest then
                v_lowest_t := v_t;
                v_lowest := v_wl[v_j];
            end if;
            if v_highest_t < v_trailing then
                v_highest_t := v_trailing;
                v_highest := v_wh[v_trailing - v_base];
                for v_q in v_trailing - v_base + 1..v_j loop
                    if v_wh[v_q] > v_highest then
                        v_highest_t := v_q + v_base;
                        v_highest := v_wh[v_q];
                    end if;
                end loop;
            elsif v_wh[v_j] >= v_highest then
                v_highest_t := v_t;
                v_highest := v_wh[v_j];
            end if;
            v_raw[v_i - v_first + 1] := case
                when ta._is_zero_scaled(v_highest - v_lowest, abs(v_highest) + abs(v_lowest)) then 0
                else (p_close[v_i] - v_lowest) / ((v_highest - v_lowest) / 100.0)
            end;
        end loop;
        -- slow %K over the raw %K of this chunk; its first v_lk values overall are lookback
        if v_lk = 0 then
            v_k := v_raw;
        else
            select s.sma, s.state into v_k, v_kstate from ta._sma_step(v_kstate, v_raw, p_slowk_period) as s;
        end if;
        v_kfirst := greatest(v_lk - greatest(v_count - v_lf, 0), 0)::integer + 1;  -- first slow %K in v_k
        if v_kfirst <= cardinality(v_k) then
            if v_ld = 0 then
                v_d := v_k[v_kfirst:];
            else
                select s.sma, s.state into v_d, v_dstate
                from ta._sma_step(v_dstate, v_k[v_kfirst:], p_slowd_period) as s;
            end if;
            v_dfirst := greatest(v_ld - greatest(v_count - v_lf - v_lk, 0), 0)::integer + 1;  -- first slow %D in v_d
            v_o := v_first + v_kfirst - 2;  -- chunk index of v_d[q] is v_o + q
            for v_q in v_dfirst..cardinality(v_d) loop
                slowk[v_o + v_q] := v_k[v_kfirst + v_q - 1];
                slowd[v_o + v_q] := v_d[v_q];
            end loop;
        end if;
    end if;
    state := array[(v_count + v_m)::float8, v_lowest, v_lowest_t::float8, v_highest, v_highest_t::float8]
    || v_wh[v_m + 1:v_m + v_lf] || v_wl[v_m + 1:v_m + v_lf] || v_kstate || v_dstate;
end;
$$;

comment on function ta._stoch_step(float8[], float8[], float8[], float8[], integer, integer, integer) is
'Private: resumable TA-Lib STOCH kernel (matype 0). State float8[]: [1] bars consumed, [2] lowest '
'low, [3] its bar number, [4] highest high, [5] its bar number, then the last fastk-1 highs and '
'the last fastk-1 lows (NULL-padded in front while fewer), then the ta._sma_step state of slow %K '
'(2 + slowk-1 values) and of slow %D (2 + slowd-1 values). ta.stoch is this kernel run from the '
'empty state; chunked runs give identical bits.';

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
    v_native record;
    v_high float8[];
    v_low float8[];
    v_close float8[];
    v_n integer;
    v_start integer;
    v_pad float8[];
begin
    -- Slow stochastic: ta._stoch_step from the empty state after the leading rows with a NULL.
    perform 'PRAGMA:DISABLE:CHECK';  -- plpgsql_check: ta_native exists only with the extension
    if ta._native() then
        -- db/ta/native/stoch.c: the same checks and bits
        v_native := ta_native.stoch(high, low, close, fastk_period, slowk_period, slowd_period);  -- a record: fewer copies
        slowk := v_native.slowk;
        slowd := v_native.slowd;
        return;
    end if;
    perform 'PRAGMA:ENABLE:CHECK';
    v_high := ta._prep('ta.stoch', 'high', high);
    v_low := ta._prep('ta.stoch', 'low', low);
    v_close := ta._prep('ta.stoch', 'close', close);
    v_n := cardinality(v_close);
    perform ta._check_period('ta.stoch', 'fastk_period', fastk_period, 1);
    perform ta._check_period('ta.stoch', 'slowk_period', slowk_period, 1);
    perform ta._check_period('ta.stoch', 'slowd_period', slowd_period, 1);
    perform ta._check_lengths('ta.stoch', 'high, low and close',
        cardinality(v_high), cardinality(v_low), v_n);
    if v_n = 0 then
        slowk := v_close;
        slowd := v_close;
        return;
    end if;
    v_start := ta._first_valid(v_high, v_low, v_close);
    v_pad := array_fill(null::float8, array[v_start - 1]);
    select s.slowk, s.slowd
    into slowk, slowd
    from ta._stoch_step(
        null, v_high[v_start:], v_low[v_start:], v_close[v_start:], fastk_period, slowk_period, slowd_period
    ) as s;
    if v_start > 1 then
        slowk := array_cat(v_pad, slowk);
        slowd := array_cat(v_pad, slowd);
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
