-- tsquant:requires db/ta/R__ema.sql
-- MACD: moving average convergence/divergence (TA-Lib 0.8.x MACD).

create or replace function ta.macd(
    x float8[],
    fastperiod integer default 12,
    slowperiod integer default 26,
    signalperiod integer default 9,
    out macd float8[],
    out macdsignal float8[],
    out macdhist float8[]
)
language plpgsql
immutable strict parallel safe security invoker
as $$
declare
    v_x float8[] := ta._prep('ta.macd', 'x', x);
    v_n integer := cardinality(v_x);
    v_fast integer := least(fastperiod, slowperiod);
    v_slow integer := greatest(fastperiod, slowperiod);
    v_seed_end integer;
    v_first_out integer;
    v_fast_ema float8[];
    v_slow_ema float8[];
begin
    -- MACD line = EMA(fast) - EMA(slow), both SMA-seeded on windows ending on the same bar
    -- (bar slow-1); signal = EMA(signalperiod) of the line seeded on its first signalperiod
    -- values; hist = line - signal. All three start at bar (slow-1) + (signal-1).
    perform ta._check_period('ta.macd', 'fastperiod', fastperiod, 2);
    perform ta._check_period('ta.macd', 'slowperiod', slowperiod, 2);
    perform ta._check_period('ta.macd', 'signalperiod', signalperiod, 1);
    macd := array_fill(null::float8, array[v_n]);
    macdsignal := macd;
    macdhist := macd;
    if v_n = 0 then
        return;
    end if;
    v_seed_end := ta._first_valid(v_x) + v_slow - 1;
    v_first_out := v_seed_end + signalperiod - 1;
    if v_first_out > v_n then
        return;
    end if;
    v_fast_ema := ta._ema_core(v_x, v_fast, v_seed_end);
    v_slow_ema := ta._ema_core(v_x, v_slow, v_seed_end);
    for v_i in v_seed_end..v_n loop
        macd[v_i] := v_fast_ema[v_i] - v_slow_ema[v_i];
    end loop;
    macdsignal := ta._ema_core(macd, signalperiod, v_first_out);
    for v_i in v_first_out..v_n loop
        macdhist[v_i] := macd[v_i] - macdsignal[v_i];
    end loop;
    if v_first_out > v_seed_end then
        macd[v_seed_end:v_first_out - 1] := array_fill(null::float8, array[v_first_out - v_seed_end]);
    end if;
end;
$$;

comment on function ta.macd(float8[], integer, integer, integer) is
'Moving average convergence/divergence, TA-Lib 0.8.x MACD(real, fastperiod=12, slowperiod=26, '
'signalperiod=9) -> (macd, macdsignal, macdhist). macd = EMA_fast - EMA_slow (k = 2/(p+1), both '
'seeded by SMAs whose windows end on bar slow-1, so the fast seed is mean(x[slow-fast..slow-1])); '
'macdsignal = EMA_signal(macd) seeded by the mean of its first signalperiod values; macdhist = '
'macd - macdsignal. fast/slow 2..100000 (swapped if slow < fast), signal 1..100000. Lookback '
'(slow-1)+(signal-1) for all three outputs. NULL/NaN: leading NULLs skipped; an interior NULL makes '
'every later output NULL (signalperiod 1: the signal line is a copy of macd). Oracle: TA-Lib 0.8.x MACD.';
