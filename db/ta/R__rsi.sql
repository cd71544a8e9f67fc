-- tsquant:requires db/ta/R__helpers.sql
-- RSI: Wilder's relative strength index (TA-Lib 0.8.x RSI).

create or replace function ta.rsi(x float8[], timeperiod integer default 14)
returns float8[]
language plpgsql
immutable strict parallel safe security invoker
as $$
declare
    v_x float8[] := ta._prep('ta.rsi', 'x', x);
    v_n integer := cardinality(v_x);
    v_out float8[];
    v_start integer;
    v_inv float8 := 1::float8 / timeperiod;
    v_keep float8 := (timeperiod - 1)::float8;
    v_gain float8 := 0::float8;
    v_loss float8 := 0::float8;
    v_diff float8;
begin
    -- Wilder RSI: average gain/loss seeded by the mean of the first n changes, then
    -- avg = (avg*(n-1) + change)/n; rsi = 100*gain/(gain+loss), 0 when gain+loss = 0.
    -- The gain/loss split mirrors TA-Lib 0.8: a NULL change counts as no gain and a NULL loss,
    -- so the loss average stays NULL and every later RSI is 0 (gain+loss is not > 0).
    perform ta._check_period('ta.rsi', 'timeperiod', timeperiod, 2);
    if v_n = 0 then
        return v_x;
    end if;
    v_out := array_fill(null::float8, array[v_n]);
    v_start := ta._first_valid(v_x);
    if v_n - v_start < timeperiod then
        return v_out;
    end if;
    for v_i in v_start + 1..v_start + timeperiod loop
        v_diff := v_x[v_i] - v_x[v_i - 1];
        v_gain := v_gain + case when v_diff > 0 then v_diff else 0 end;
        v_loss := v_loss + case when v_diff > 0 then 0 else -v_diff end;
    end loop;
    v_gain := v_gain * v_inv;
    v_loss := v_loss * v_inv;
    v_out[v_start + timeperiod] := case when v_gain + v_loss > 0 then 100 * (v_gain / (v_gain + v_loss)) else 0 end;
    for v_i in v_start + timeperiod + 1..v_n loop
        v_diff := v_x[v_i] - v_x[v_i - 1];
        v_gain := case
            when v_gain >= 1e-280 then (v_gain * v_keep + case when v_diff > 0 then v_diff else 0 end) * v_inv
            else ta._mul(v_gain * v_keep + case when v_diff > 0 then v_diff else 0 end, v_inv)
        end;
        v_loss := case
            when v_loss >= 1e-280 then (v_loss * v_keep + case when v_diff > 0 then 0 else -v_diff end) * v_inv
            else ta._mul(v_loss * v_keep + case when v_diff > 0 then 0 else -v_diff end, v_inv)
        end;
        v_out[v_i] := case
            when v_gain + v_loss > 0 then
                case
                    when v_gain >= 1e-280 then 100 * (v_gain / (v_gain + v_loss))
                    else 100 * ta._div(v_gain, v_gain + v_loss)
                end
            else 0
        end;
    end loop;
    return v_out;
end;
$$;

comment on function ta.rsi(float8[], integer) is
'Relative strength index, TA-Lib 0.8.x RSI(real, timeperiod=14), Wilder smoothing: '
'AG, AL seeded with the mean gain/loss of the first n changes, then AG = (AG(n-1) + gain)/n '
'(same for AL); RSI = 100 AG/(AG+AL), and 0 when AG+AL = 0 (flat prices). timeperiod 2..100000. '
'Lookback n (NULL there). NULL/NaN: leading NULLs skipped; an interior NULL makes the loss average '
'NULL, so every later output is 0 (TA-Lib 0.8 behaviour with NaN). Oracle: TA-Lib 0.8.x RSI.';
