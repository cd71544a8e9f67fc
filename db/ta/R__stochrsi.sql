-- tsquant:requires db/ta/R__rsi.sql
-- tsquant:requires db/ta/R__stoch.sql
-- STOCHRSI: stochastic oscillator applied to RSI (TA-Lib 0.8.x STOCHRSI, SMA smoothing).

create or replace function ta.stochrsi(
    x float8[],
    timeperiod integer default 14,
    fastk_period integer default 5,
    fastd_period integer default 3,
    out fastk float8[],
    out fastd float8[]
)
language plpgsql
immutable strict parallel safe security invoker
as $$
declare
    v_x float8[] := ta._prep('ta.stochrsi', 'x', x);
    v_n integer := cardinality(v_x);
    v_rsi float8[];
    v_first_rsi integer;
    v_first_k integer;
begin
    -- Fast stochastic (STOCHF) of RSI(timeperiod): fastk = raw %K of the RSI over fastk_period,
    -- fastd = SMA(fastk, fastd_period); both outputs start where fastd does.
    perform ta._check_period('ta.stochrsi', 'timeperiod', timeperiod, 2);
    perform ta._check_period('ta.stochrsi', 'fastk_period', fastk_period, 1);
    perform ta._check_period('ta.stochrsi', 'fastd_period', fastd_period, 1);
    fastk := array_fill(null::float8, array[v_n]);
    fastd := fastk;
    if v_n = 0 then
        return;
    end if;
    v_first_rsi := ta._first_valid(v_x) + timeperiod;
    v_first_k := v_first_rsi + fastk_period - 1;
    if v_first_k + fastd_period - 1 > v_n then
        return;
    end if;
    v_rsi := ta.rsi(v_x, timeperiod);
    fastk := ta._stoch_fastk(v_rsi, v_rsi, v_rsi, fastk_period, v_first_rsi);
    fastd := ta._ma_sma(fastk, fastd_period, v_first_k);
    if fastd_period > 1 then
        -- fast %K is reported only where fast %D exists
        fastk[v_first_k:v_first_k + fastd_period - 2] := array_fill(null::float8, array[fastd_period - 1]);
    end if;
end;
$$;

comment on function ta.stochrsi(float8[], integer, integer, integer) is
'Stochastic RSI, TA-Lib 0.8.x STOCHRSI(real, timeperiod=14, fastk_period=5, fastd_period=3, '
'fastd_matype=0) -> (fastk, fastd). Only matype 0 (SMA) is implemented. R = RSI(timeperiod); '
'fastk = 100 (R - min_k R)/(max_k R - min_k R), 0 when the RSI window is flat (relative dead-zone '
'1e-14); fastd = SMA(fastk, fastd_period) (1 = no smoothing). timeperiod 2..100000, other periods '
'1..100000. Lookback timeperiod + (fastk-1) + (fastd-1) for both outputs. NULL/NaN: leading NULLs '
'skipped; after an interior NULL the RSI is 0 (see ta.rsi), and fastk/fastd follow from that. '
'Oracle: TA-Lib 0.8.x STOCHRSI.';
