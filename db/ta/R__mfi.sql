-- tsquant:requires db/ta/R__helpers.sql
-- MFI: money flow index (TA-Lib 0.8.x MFI).

create or replace function ta.mfi(
    high float8[], low float8[], close float8[], volume float8[], timeperiod integer default 14
)
returns float8[]
language plpgsql
immutable strict parallel safe security invoker
as $$
declare
    v_high float8[] := ta._prep('ta.mfi', 'high', high);
    v_low float8[] := ta._prep('ta.mfi', 'low', low);
    v_close float8[] := ta._prep('ta.mfi', 'close', close);
    v_volume float8[] := ta._prep('ta.mfi', 'volume', volume);
    v_n integer := cardinality(v_close);
    v_p integer := timeperiod;
    v_out float8[];
    v_pos float8[];
    v_neg float8[];
    v_slot integer := 1;
    v_start integer;
    v_prev float8;
    v_tp float8;
    v_change float8;
    v_scale float8;
    v_flow float8;
    v_pos_sum float8 := 0::float8;
    v_neg_sum float8 := 0::float8;
    v_total float8;
    v_null_run integer := 0;
begin
    -- Money flow TP*V is positive when TP rose, negative when it fell, none when TP is unchanged
    -- within a 1e-14 relative dead-zone; MFI = 100 pos/(pos+neg) over the last n flows, 0 when
    -- there is no flow. The n flows live in a ring with running sums that TA-Lib 0.8 resets to 0
    -- after n flow-less bars (issue #244); the ratio is clamped into [0, 100].
    perform ta._check_period('ta.mfi', 'timeperiod', timeperiod, 2);
    perform ta._check_lengths('ta.mfi', 'high, low, close and volume',
        cardinality(v_high), cardinality(v_low), v_n, cardinality(v_volume));
    if v_n = 0 then
        return v_close;
    end if;
    v_out := array_fill(null::float8, array[v_n]);
    v_start := ta._first_valid(v_high, v_low, v_close, v_volume);
    if v_n - v_start < v_p then
        return v_out;
    end if;
    v_pos := array_fill(0::float8, array[v_p]);
    v_neg := v_pos;
    v_prev := (v_high[v_start] + v_low[v_start] + v_close[v_start]) / 3.0;
    for v_today in v_start + 1..v_n loop
        if v_today > v_start + v_p then
            v_pos_sum := v_pos_sum - v_pos[v_slot];
            v_neg_sum := v_neg_sum - v_neg[v_slot];
        end if;
        v_tp := (v_high[v_today] + v_low[v_today] + v_close[v_today]) / 3.0;
        v_change := v_tp - v_prev;
        v_scale := abs(v_tp) + abs(v_prev);
        v_prev := v_tp;
        v_flow := case when ta._is_zero_scaled(v_change, v_scale) then 0 else v_tp * v_volume[v_today] end;
        v_pos[v_slot] := case when v_change < 0 then 0 else v_flow end;
        v_neg[v_slot] := case when v_change < 0 then v_flow else 0 end;
        v_pos_sum := v_pos_sum + v_pos[v_slot];
        v_neg_sum := v_neg_sum + v_neg[v_slot];
        v_null_run := case when v_flow = 0 then v_null_run + 1 else 0 end;
        if v_null_run >= v_p then
            v_null_run := v_p;
            v_pos_sum := 0;
            v_neg_sum := 0;
        end if;
        if v_today >= v_start + v_p then
            v_total := v_pos_sum + v_neg_sum;
            v_out[v_today] := case
                when v_total <= 0 then 0
                else 100.0 * (case when v_pos_sum < 0 then 0 when v_pos_sum > v_total then v_total else v_pos_sum end
                    / v_total)
            end;
        end if;
        v_slot := v_slot % v_p + 1;
    end loop;
    return v_out;
end;
$$;

comment on function ta.mfi(float8[], float8[], float8[], float8[], integer) is
'Money flow index, TA-Lib 0.8.x MFI(high, low, close, volume, timeperiod=14). TP = (h+l+c)/3, '
'MF = TP*V, positive when TP rose, negative when it fell, none when unchanged (relative dead-zone '
'1e-14 (|TP_t|+|TP_{t-1}|)); MFI = 100 sum(pos)/(sum(pos)+sum(neg)) over the last n flows, 0 when '
'that total is 0 (flat prices or zero volume), clamped into [0, 100]. timeperiod 2..100000. '
'Lookback n (NULL there). NULL/NaN: leading rows with any NULL skipped; an interior NULL makes the '
'running sums NULL, so outputs stay NULL until n consecutive flow-less bars reset the sums, as in '
'TA-Lib 0.8. Oracle: TA-Lib 0.8.x MFI.';
