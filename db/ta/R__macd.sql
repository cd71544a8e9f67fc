-- tsquant:requires db/ta/R__ema.sql
-- MACD: moving average convergence/divergence (TA-Lib 0.8.x MACD).

create or replace function ta._macd_step(
    p_state float8[],
    p_x float8[],
    p_fastperiod integer,
    p_slowperiod integer,
    p_signalperiod integer,
    out macd float8[],
    out macdsignal float8[],
    out macdhist float8[],
    out state float8[]
)
language plpgsql
immutable parallel safe security invoker
as $$
declare
    v_m integer := cardinality(p_x);
    v_fast integer := least(p_fastperiod, p_slowperiod);
    v_slow integer := greatest(p_fastperiod, p_slowperiod);
    v_sig integer := p_signalperiod;
    v_kf float8 := 2::float8 / (least(p_fastperiod, p_slowperiod) + 1);
    v_ks float8 := 2::float8 / (greatest(p_fastperiod, p_slowperiod) + 1);
    v_kg float8 := 2::float8 / (p_signalperiod + 1);
    v_count bigint := 0;
    v_f float8 := 0::float8;
    v_s float8 := 0::float8;
    v_g float8 := 0::float8;
    v_t bigint;
    v_x float8;
    v_line float8;
begin
    -- The native kernel when installed (db/ta/native/macd.c): the same bits, faster.
    perform 'PRAGMA:DISABLE:CHECK';  -- plpgsql_check: ta_native exists only with the extension
    if ta._native() then
        select n.macd, n.macdsignal, n.macdhist, n.state
        into macd, macdsignal, macdhist, state
        from ta_native.macd_step(p_state, p_x, p_fastperiod, p_slowperiod, p_signalperiod) as n;
        return;
    end if;
    perform 'PRAGMA:ENABLE:CHECK';
    -- Resumable TA-Lib MACD kernel (state NULL or '{}' = no bar yet). Bar t (0-based): the slow
    -- EMA seed sums bars 0..slow-1, the fast one bars slow-fast..slow-1 (windows ending on the
    -- same bar); line = fast - slow from bar slow-1; the signal EMA is seeded by the mean of the
    -- first signalperiod line values (period 1: a copy); outputs from bar (slow-1)+(signal-1).
    if cardinality(p_state) > 0 then
        v_count := p_state[1]::bigint;
        v_f := p_state[2];
        v_s := p_state[3];
        v_g := p_state[4];
    end if;
    macd := array_fill(null::float8, array[v_m]);
    macdsignal := macd;
    macdhist := macd;
    for v_i in 1..v_m loop
        v_t := v_count + v_i - 1;
        v_x := p_x[v_i];
        if v_t < v_slow - 1 then
            v_s := v_s + v_x;
            if v_t >= v_slow - v_fast then
                v_f := v_f + v_x;
            end if;
            continue;
        elsif v_t = v_slow - 1 then
            v_s := (v_s + v_x) / v_slow;
            v_f := (v_f + v_x) / v_fast;
        else
            v_f := case
                when abs(v_f) >= 1e-280 then (v_x - v_f) * v_kf + v_f
                else ta._mul(v_x - v_f, v_kf) + v_f
            end;
            v_s := case
                when abs(v_s) >= 1e-280 then (v_x - v_s) * v_ks + v_s
                else ta._mul(v_x - v_s, v_ks) + v_s
            end;
        end if;
        v_line := v_f - v_s;
        if v_sig = 1 then
            v_g := v_line;
        elsif v_t < v_slow + v_sig - 2 then
            v_g := v_g + v_line;
            continue;
        elsif v_t = v_slow + v_sig - 2 then
            v_g := (v_g + v_line) / v_sig;
        else
            v_g := case
                when abs(v_g) >= 1e-280 then (v_line - v_g) * v_kg + v_g
                else ta._mul(v_line - v_g, v_kg) + v_g
            end;
        end if;
        macd[v_i] := v_line;
        macdsignal[v_i] := v_g;
        macdhist[v_i] := v_line - v_g;
    end loop;
    state := array[(v_count + v_m)::float8, v_f, v_s, v_g];
end;
$$;

comment on function ta._macd_step(float8[], float8[], integer, integer, integer) is
'Private: resumable TA-Lib MACD kernel. State float8[]: [1] bars consumed, [2] fast EMA, [3] slow '
'EMA, [4] signal EMA (each the running seed sum while inside its seed window). ta.macd is this '
'kernel run from the empty state; chunked runs give identical bits.';

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
    v_native record;
    v_x float8[];
    v_n integer;
    v_start integer;
    v_pad float8[];
begin
    -- MACD line = EMA(fast) - EMA(slow), both SMA-seeded on windows ending on the same bar
    -- (bar slow-1); signal = EMA(signalperiod) of the line seeded on its first signalperiod
    -- values; hist = line - signal. All three start at bar (slow-1) + (signal-1).
    -- ta._macd_step from the empty state after the leading NULLs.
    perform 'PRAGMA:DISABLE:CHECK';  -- plpgsql_check: ta_native exists only with the extension
    if ta._native() then
        -- db/ta/native/macd.c: the same checks and bits
        v_native := ta_native.macd(x, fastperiod, slowperiod, signalperiod);  -- a record: fewer copies than select into
        macd := v_native.macd;
        macdsignal := v_native.macdsignal;
        macdhist := v_native.macdhist;
        return;
    end if;
    perform 'PRAGMA:ENABLE:CHECK';
    v_x := ta._prep('ta.macd', 'x', x);
    v_n := cardinality(v_x);
    perform ta._check_period('ta.macd', 'fastperiod', fastperiod, 2);
    perform ta._check_period('ta.macd', 'slowperiod', slowperiod, 2);
    perform ta._check_period('ta.macd', 'signalperiod', signalperiod, 1);
    if v_n = 0 then
        macd := v_x;
        macdsignal := v_x;
        macdhist := v_x;
        return;
    end if;
    v_start := ta._first_valid(v_x);
    v_pad := array_fill(null::float8, array[v_start - 1]);
    select s.macd, s.macdsignal, s.macdhist
    into macd, macdsignal, macdhist
    from ta._macd_step(null, v_x[v_start:], fastperiod, slowperiod, signalperiod) as s;
    if v_start > 1 then
        macd := array_cat(v_pad, macd);
        macdsignal := array_cat(v_pad, macdsignal);
        macdhist := array_cat(v_pad, macdhist);
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
