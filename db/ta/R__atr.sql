-- tsquant:requires db/ta/R__helpers.sql
-- ATR and NATR: Wilder's average true range and its normalized form (TA-Lib 0.8.x ATR, NATR).

create or replace function ta._atr_core(p_high float8[], p_low float8[], p_close float8[], p_period integer)
returns float8[]
language plpgsql
immutable parallel safe security invoker
as $$
declare
    v_n integer := cardinality(p_close);
    v_out float8[] := array_fill(null::float8, array[v_n]);
    v_start integer;
    v_beta float8 := (p_period - 1)::float8 / p_period;
    v_alpha float8 := 1 - (p_period - 1)::float8 / p_period;
    v_atr float8 := 0::float8;
begin
    -- Wilder smoothing of the true range: seed = mean of the first n true ranges (bars 1..n after
    -- the first valid bar, which only provides a previous close), then
    -- atr = alpha*tr + beta*atr with beta = (n-1)/n, alpha = 1 - beta (TA-Lib 0.8 #338).
    if v_n = 0 then
        return v_out;
    end if;
    v_start := ta._first_valid(p_high, p_low, p_close);
    if v_n - v_start < p_period then
        return v_out;
    end if;
    for v_i in v_start + 1..v_start + p_period loop
        v_atr := v_atr + ta._true_range(p_high[v_i], p_low[v_i], p_close[v_i - 1]);
    end loop;
    v_atr := v_atr / p_period;
    v_out[v_start + p_period] := v_atr;
    for v_i in v_start + p_period + 1..v_n loop
        v_atr := v_alpha * ta._true_range(p_high[v_i], p_low[v_i], p_close[v_i - 1])
            + case when v_atr >= 1e-280 then v_beta * v_atr else ta._mul(v_atr, v_beta) end;
        v_out[v_i] := v_atr;
    end loop;
    return v_out;
end;
$$;

comment on function ta._atr_core(float8[], float8[], float8[], integer) is
'Private: TA-Lib ATR over prepared, equal-length series (leading NULL rows skipped). Shared by '
'ta.atr and ta.natr.';

create or replace function ta.atr(high float8[], low float8[], close float8[], timeperiod integer default 14)
returns float8[]
language plpgsql
immutable strict parallel safe security invoker
as $$
declare
    v_high float8[] := ta._prep('ta.atr', 'high', high);
    v_low float8[] := ta._prep('ta.atr', 'low', low);
    v_close float8[] := ta._prep('ta.atr', 'close', close);
begin
    -- Average true range, TA-Lib ATR.
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
    v_high float8[] := ta._prep('ta.natr', 'high', high);
    v_low float8[] := ta._prep('ta.natr', 'low', low);
    v_close float8[] := ta._prep('ta.natr', 'close', close);
    v_atr float8[];
    v_first_out integer;
begin
    -- Normalized ATR: 100 * ATR / close of the same bar (0 when close = 0); period 1 is the raw
    -- true range, not normalized, as in TA-Lib.
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
