-- tsquant:requires db/ta/R__helpers.sql
-- ATR and NATR: Wilder's average true range and its normalized form (TA-Lib 0.8.x ATR, NATR).

create or replace function ta._atr_step(
    p_state float8[], p_high float8[], p_low float8[], p_close float8[], p_timeperiod integer,
    out atr float8[], out state float8[]
)
language plpgsql
immutable parallel safe security invoker
as $$
declare
    v_m integer := cardinality(p_close);
    v_beta float8 := (p_timeperiod - 1)::float8 / p_timeperiod;
    v_alpha float8 := 1 - (p_timeperiod - 1)::float8 / p_timeperiod;
    v_count bigint := 0;
    v_prev_close float8;
    v_atr float8 := 0::float8;
    v_t bigint;
    v_w float8[];
    v_first integer;
begin
    -- The native kernel when installed (db/ta/native/atr.c): the same bits, faster.
    perform 'PRAGMA:DISABLE:CHECK';  -- plpgsql_check: ta_native exists only with the extension
    if ta._native() then
        select n.atr, n.state into atr, state
        from ta_native.atr_step(p_state, p_high, p_low, p_close, p_timeperiod) as n;
        return;
    end if;
    perform 'PRAGMA:ENABLE:CHECK';
    -- Resumable Wilder ATR kernel (state NULL or '{}' = no bar yet): bar 0 only provides a
    -- previous close; seed = mean of the true ranges of bars 1..n, then
    -- atr = alpha*tr + beta*atr with beta = (n-1)/n, alpha = 1 - beta (TA-Lib 0.8 #338).
    if cardinality(p_state) > 0 then
        v_count := p_state[1]::bigint;
        v_prev_close := p_state[2];
        v_atr := p_state[3];
    end if;
    atr := array_fill(null::float8, array[v_m]);
    if v_m = 0 then
        state := array[v_count::float8, v_prev_close, v_atr];
        return;
    end if;
    v_w := array_cat(array[v_prev_close], p_close);  -- v_w[i] is the close before chunk bar i
    v_first := case when v_count = 0 then 2 else 1 end;  -- bar 0 only provides a close
    v_t := p_timeperiod - v_count + 1;  -- chunk index of bar n (the seed)
    for v_i in v_first..least(v_t - 1, v_m) loop
        v_atr := v_atr + ta._true_range(p_high[v_i], p_low[v_i], v_w[v_i]);
    end loop;
    if v_t between v_first and v_m then
        v_atr := (v_atr + ta._true_range(p_high[v_t], p_low[v_t], v_w[v_t])) / p_timeperiod;
        atr[v_t] := v_atr;
    end if;
    for v_i in greatest(v_t + 1, v_first)..v_m loop
        v_atr := v_alpha * ta._true_range(p_high[v_i], p_low[v_i], v_w[v_i])
            + case when v_atr >= 1e-280 then v_beta * v_atr else ta._mul(v_atr, v_beta) end;
        atr[v_i] := v_atr;
    end loop;
    v_prev_close := p_close[v_m];
    state := array[(v_count + v_m)::float8, v_prev_close, v_atr];
end;
$$;

comment on function ta._atr_step(float8[], float8[], float8[], float8[], integer) is
'Private: resumable TA-Lib ATR kernel. State float8[]: [1] bars consumed, [2] previous close, '
'[3] ATR (the running true-range sum until bar n). ta.atr and ta.natr run this kernel from the '
'empty state; chunked runs give identical bits.';

create or replace function ta._atr_core(p_high float8[], p_low float8[], p_close float8[], p_period integer)
returns float8[]
language plpgsql
immutable parallel safe security invoker
as $$
declare
    v_out float8[];
    v_start integer;
begin
    -- TA-Lib ATR over prepared, equal-length series: ta._atr_step from the empty state after the
    -- leading rows with a NULL.
    if cardinality(p_close) = 0 then
        return p_close;
    end if;
    v_start := ta._first_valid(p_high, p_low, p_close);
    if v_start = 1 then
        -- no leading NULL: return the kernel's array as is (no copy, no padding)
        return (select s.atr from ta._atr_step(null, p_high, p_low, p_close, p_period) as s);
    end if;
    select s.atr into v_out from ta._atr_step(null, p_high[v_start:], p_low[v_start:], p_close[v_start:], p_period) as s;
    return array_cat(array_fill(null::float8, array[v_start - 1]), v_out);
end;
$$;

comment on function ta._atr_core(float8[], float8[], float8[], integer) is
'Private: TA-Lib ATR over prepared, equal-length series (leading NULL rows skipped). Shared by '
'ta.atr and ta.natr; runs ta._atr_step.';

create or replace function ta.atr(high float8[], low float8[], close float8[], timeperiod integer default 14)
returns float8[]
language plpgsql
immutable strict parallel safe security invoker
as $$
declare
    v_high float8[];
    v_low float8[];
    v_close float8[];
begin
    -- Average true range, TA-Lib ATR.
    perform 'PRAGMA:DISABLE:CHECK';  -- plpgsql_check: ta_native exists only with the extension
    if ta._native() then
        return ta_native.atr(high, low, close, timeperiod);  -- db/ta/native/atr.c: the same checks and bits
    end if;
    perform 'PRAGMA:ENABLE:CHECK';
    v_high := ta._prep('ta.atr', 'high', high);
    v_low := ta._prep('ta.atr', 'low', low);
    v_close := ta._prep('ta.atr', 'close', close);
    perform ta._check_period('ta.atr', 'timeperiod', timeperiod, 1);
    perform ta._check_lengths('ta.atr', 'high, low and close',
        cardinality(v_high), cardinality(v_low), cardinality(v_close));
    return ta._atr_core(v_high, v_low, v_close, timeperiod);
end;
$$;

comment on function ta.atr(float8[], float8[], float8[], integer) is
'Average true range, TA-Lib 0.8.x ATR(high, low, close, timeperiod=14). TR_t = max(h_t - l_t, '
'|c_{t-1} - h_t|, |c_{t-1} - l_t|) for t >= 1 (bar 0 has none); ATR_n = mean(TR_1..TR_n); then '
'ATR_t = (ATR_{t-1}(n-1) + TR_t)/n. timeperiod 1..100000. Lookback n (NULL there). NULL/NaN: '
'leading rows with any NULL skipped; a NULL high or low makes every later output NULL; a NULL close '
'only makes the next true range h - l. Oracle: TA-Lib 0.8.x ATR.';

create or replace function ta.natr(high float8[], low float8[], close float8[], timeperiod integer default 14)
returns float8[]
language plpgsql
immutable strict parallel safe security invoker
as $$
declare
    v_high float8[];
    v_low float8[];
    v_close float8[];
    v_atr float8[];
    v_first_out integer;
begin
    -- Normalized ATR: 100 * ATR / close of the same bar (0 when close = 0); period 1 is the raw
    -- true range, not normalized, as in TA-Lib.
    perform 'PRAGMA:DISABLE:CHECK';  -- plpgsql_check: ta_native exists only with the extension
    if ta._native() then
        return ta_native.natr(high, low, close, timeperiod);  -- db/ta/native/atr.c: the same checks and bits
    end if;
    perform 'PRAGMA:ENABLE:CHECK';
    v_high := ta._prep('ta.natr', 'high', high);
    v_low := ta._prep('ta.natr', 'low', low);
    v_close := ta._prep('ta.natr', 'close', close);
    perform ta._check_period('ta.natr', 'timeperiod', timeperiod, 1);
    perform ta._check_lengths('ta.natr', 'high, low and close',
        cardinality(v_high), cardinality(v_low), cardinality(v_close));
    v_atr := ta._atr_core(v_high, v_low, v_close, timeperiod);
    if timeperiod = 1 then
        return v_atr;
    end if;
    v_first_out := ta._first_valid(v_high, v_low, v_close) + timeperiod;
    for v_i in v_first_out..cardinality(v_atr) loop
        v_atr[v_i] := case when v_close[v_i] = 0 then 0 when v_atr[v_i] >= 1e-280 then (v_atr[v_i] / v_close[v_i]) * 100
            else ta._div(v_atr[v_i], v_close[v_i]) * 100 end;
    end loop;
    return v_atr;
end;
$$;

comment on function ta.natr(float8[], float8[], float8[], integer) is
'Normalized average true range, TA-Lib 0.8.x NATR(high, low, close, timeperiod=14): '
'100 * ATR_t / close_t, 0 when close_t = 0; timeperiod 1 returns the raw true range (not '
'normalized, as TA-Lib does). timeperiod 1..100000. Lookback n (NULL there). NULL/NaN: as ATR, '
'and a NULL close makes that row NULL. Oracle: TA-Lib 0.8.x NATR.';
