-- tsquant:requires db/ta/R__helpers.sql
-- RSI: Wilder's relative strength index (TA-Lib 0.8.x RSI).

create or replace function ta._rsi_step(
    p_state float8[], p_x float8[], p_timeperiod integer, out rsi float8[], out state float8[]
)
language plpgsql
immutable parallel safe security invoker
as $$
declare
    v_m integer := cardinality(p_x);
    v_inv float8 := 1::float8 / p_timeperiod;
    v_keep float8 := (p_timeperiod - 1)::float8;
    v_count bigint := 0;
    v_prev float8;
    v_gain float8 := 0::float8;
    v_loss float8 := 0::float8;
    v_diff float8;
    v_t bigint;
    v_w float8[];
    v_first integer;
begin
    -- The native kernel when installed (db/ta/native/rsi.c): the same bits, faster.
    perform 'PRAGMA:DISABLE:CHECK';  -- plpgsql_check: ta_native exists only with the extension
    if ta._native() then
        select n.rsi, n.state into rsi, state from ta_native.rsi_step(p_state, p_x, p_timeperiod) as n;
        return;
    end if;
    perform 'PRAGMA:ENABLE:CHECK';
    -- Resumable Wilder RSI kernel (state NULL or '{}' = no bar yet): gains/losses of bars 1..n
    -- summed then multiplied by 1/n (the seed), then avg = (avg*(n-1) + change)/n;
    -- rsi = 100*gain/(gain+loss), 0 when gain+loss = 0. A NULL change counts as no gain and a
    -- NULL loss, as TA-Lib 0.8 treats NaN, so the loss average stays NULL and later RSI are 0.
    if cardinality(p_state) > 0 then
        v_count := p_state[1]::bigint;
        v_prev := p_state[2];
        v_gain := p_state[3];
        v_loss := p_state[4];
    end if;
    rsi := array_fill(null::float8, array[v_m]);
    if v_m = 0 then
        state := array[v_count::float8, v_prev, v_gain, v_loss];
        return;
    end if;
    v_w := array_cat(array[v_prev], p_x);  -- v_w[i] is the input before chunk bar i
    v_first := case when v_count = 0 then 2 else 1 end;  -- bar 0 has no change
    v_t := p_timeperiod - v_count + 1;  -- chunk index of bar n (the seed)
    for v_i in v_first..least(v_t, v_m) loop
        v_diff := v_w[v_i + 1] - v_w[v_i];
        v_gain := v_gain + case when v_diff > 0 then v_diff else 0 end;
        v_loss := v_loss + case when v_diff > 0 then 0 else -v_diff end;
    end loop;
    if v_t between 1 and v_m then
        v_gain := v_gain * v_inv;
        v_loss := v_loss * v_inv;
        rsi[v_t] := case when v_gain + v_loss > 0 then 100 * (v_gain / (v_gain + v_loss)) else 0 end;
    end if;
    for v_i in greatest(v_t + 1, v_first)..v_m loop
        v_diff := v_w[v_i + 1] - v_w[v_i];
        v_gain := case
            when v_gain >= 1e-280 then (v_gain * v_keep + case when v_diff > 0 then v_diff else 0 end) * v_inv
            else ta._mul(v_gain * v_keep + case when v_diff > 0 then v_diff else 0 end, v_inv)
        end;
        v_loss := case
            when v_loss >= 1e-280 then (v_loss * v_keep + case when v_diff > 0 then 0 else -v_diff end) * v_inv
            else ta._mul(v_loss * v_keep + case when v_diff > 0 then 0 else -v_diff end, v_inv)
        end;
        rsi[v_i] := case
            when v_gain + v_loss > 0 then
                case
                    when v_gain >= 1e-280 then 100 * (v_gain / (v_gain + v_loss))
                    else 100 * ta._div(v_gain, v_gain + v_loss)
                end
            else 0
        end;
    end loop;
    v_prev := p_x[v_m];
    state := array[(v_count + v_m)::float8, v_prev, v_gain, v_loss];
end;
$$;

comment on function ta._rsi_step(float8[], float8[], integer) is
'Private: resumable TA-Lib RSI kernel. State float8[]: [1] bars consumed, [2] previous input, '
'[3] average gain, [4] average loss (running sums until bar n). ta.rsi is this kernel run from '
'the empty state; chunked runs give identical bits.';

create or replace function ta.rsi(x float8[], timeperiod integer default 14)
returns float8[]
language plpgsql
immutable strict parallel safe security invoker
as $$
declare
    v_out float8[];
    v_x float8[];
    v_n integer;
    v_start integer;
begin
    -- Wilder RSI: ta._rsi_step from the empty state after the leading NULLs.
    perform 'PRAGMA:DISABLE:CHECK';  -- plpgsql_check: ta_native exists only with the extension
    if ta._native() then
        return ta_native.rsi(x, timeperiod);  -- db/ta/native/rsi.c: the same checks and bits
    end if;
    perform 'PRAGMA:ENABLE:CHECK';
    v_x := ta._prep('ta.rsi', 'x', x);
    v_n := cardinality(v_x);
    perform ta._check_period('ta.rsi', 'timeperiod', timeperiod, 2);
    if v_n = 0 then
        return v_x;
    end if;
    v_start := ta._first_valid(v_x);
    if v_start = 1 then
        -- no leading NULL: return the kernel's array as is (no copy, no padding)
        return (select s.rsi from ta._rsi_step(null, v_x, timeperiod) as s);
    end if;
    select s.rsi into v_out from ta._rsi_step(null, v_x[v_start:], timeperiod) as s;
    return array_cat(array_fill(null::float8, array[v_start - 1]), v_out);
end;
$$;

comment on function ta.rsi(float8[], integer) is
'Relative strength index, TA-Lib 0.8.x RSI(real, timeperiod=14), Wilder smoothing: '
'AG, AL seeded with the mean gain/loss of the first n changes, then AG = (AG(n-1) + gain)/n '
'(same for AL); RSI = 100 AG/(AG+AL), and 0 when AG+AL = 0 (flat prices). timeperiod 2..100000. '
'Lookback n (NULL there). NULL/NaN: leading NULLs skipped; an interior NULL makes the loss average '
'NULL, so every later output is 0 (TA-Lib 0.8 behaviour with NaN). Oracle: TA-Lib 0.8.x RSI.';
