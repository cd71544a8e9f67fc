-- tsquant:requires db/ta/R__helpers.sql
-- WILLR: Williams' %R (TA-Lib 0.8.x WILLR).

create or replace function ta._willr_value(p_highest float8, p_lowest float8, p_close float8)
returns float8
language sql
immutable parallel safe security invoker
return case
    when p_highest - p_lowest = 0 then 0::float8
    when (p_highest - p_close) / ((p_highest - p_lowest) / (-100.0)) > 0 then 0::float8
    when (p_highest - p_close) / ((p_highest - p_lowest) / (-100.0)) < -100 then -100::float8
    else (p_highest - p_close) / ((p_highest - p_lowest) / (-100.0))
end;

comment on function ta._willr_value(float8, float8, float8) is
'Private: -100 (HH - close)/(HH - LL) clamped into [-100, 0], 0 when HH = LL (TA-Lib 0.8 WILLR).';

create or replace function ta.willr(high float8[], low float8[], close float8[], timeperiod integer default 14)
returns float8[]
language plpgsql
immutable strict parallel safe security invoker
as $$
declare
    v_high float8[] := ta._prep('ta.willr', 'high', high);
    v_low float8[] := ta._prep('ta.willr', 'low', low);
    v_close float8[] := ta._prep('ta.willr', 'close', close);
    v_n integer := cardinality(v_close);
    v_p integer := timeperiod;
    v_out float8[];
    v_suf_high float8[];
    v_suf_low float8[];
    v_pre_high float8[];
    v_pre_low float8[];
    v_today integer;
    v_block integer;
    v_next integer;
    v_avail integer;
    v_i integer;
    v_highest float8;
    v_lowest float8;
begin
    -- HH/LL of each window come from TA-Lib 0.8's van Herk/Gil-Werman block scan: suffix extremes
    -- of the older block combined with prefix extremes of the newer one. Reproduced as is, since
    -- the scan decides which windows a NULL high or low affects.
    perform ta._check_period('ta.willr', 'timeperiod', timeperiod, 2);
    perform ta._check_lengths('ta.willr', 'high, low and close', cardinality(v_high), cardinality(v_low), v_n);
    if v_n = 0 then
        return v_close;
    end if;
    v_out := array_fill(null::float8, array[v_n]);
    v_block := ta._first_valid(v_high, v_low, v_close);
    v_today := v_block + v_p - 1;
    v_suf_high := array_fill(null::float8, array[v_p]);
    v_suf_low := v_suf_high;
    v_pre_high := v_suf_high;
    v_pre_low := v_suf_high;
    while v_today <= v_n loop
        -- suffix extremes of the block [v_block, v_block + p - 1], scanned backwards
        v_i := v_block + v_p - 1;
        v_highest := v_high[v_i];
        v_lowest := v_low[v_i];
        v_suf_high[v_p] := v_highest;
        v_suf_low[v_p] := v_lowest;
        while v_i > v_block loop
            v_i := v_i - 1;
            if v_high[v_i] > v_highest then
                v_highest := v_high[v_i];
            end if;
            if v_low[v_i] < v_lowest then
                v_lowest := v_low[v_i];
            end if;
            v_suf_high[v_i - v_block + 1] := v_highest;
            v_suf_low[v_i - v_block + 1] := v_lowest;
        end loop;
        v_out[v_today] := ta._willr_value(v_suf_high[1], v_suf_low[1], v_close[v_today]);
        v_today := v_today + 1;
        exit when v_today > v_n;
        -- prefix extremes of the next block, as far as the data goes
        v_next := v_block + v_p;
        v_avail := least(v_n - v_next + 1, v_p - 1);
        v_highest := v_high[v_next];
        v_lowest := v_low[v_next];
        v_pre_high[1] := v_highest;
        v_pre_low[1] := v_lowest;
        for v_k in 1..v_avail - 1 loop
            if v_high[v_next + v_k] > v_highest then
                v_highest := v_high[v_next + v_k];
            end if;
            if v_low[v_next + v_k] < v_lowest then
                v_lowest := v_low[v_next + v_k];
            end if;
            v_pre_high[v_k + 1] := v_highest;
            v_pre_low[v_k + 1] := v_lowest;
        end loop;
        -- combine: window of bar v_today + m - 1 = suffix from slot m + 1 and prefix up to slot m
        for v_m in 1..v_avail loop
            v_highest := v_suf_high[v_m + 1];
            if v_pre_high[v_m] > v_highest then
                v_highest := v_pre_high[v_m];
            end if;
            v_lowest := v_suf_low[v_m + 1];
            if v_pre_low[v_m] < v_lowest then
                v_lowest := v_pre_low[v_m];
            end if;
            v_out[v_today + v_m - 1] := ta._willr_value(v_highest, v_lowest, v_close[v_today + v_m - 1]);
        end loop;
        v_today := v_today + v_avail;
        v_block := v_next;
    end loop;
    return v_out;
end;
$$;

comment on function ta.willr(float8[], float8[], float8[], integer) is
'Williams'' %R, TA-Lib 0.8.x WILLR(high, low, close, timeperiod=14): -100 (HH_n - c)/(HH_n - LL_n), '
'0 when HH = LL, clamped into [-100, 0] as TA-Lib 0.8 does (a close outside the window''s range). '
'timeperiod 2..100000. Lookback n-1 (NULL there). NULL/NaN: leading rows with any NULL skipped; an '
'interior NULL close makes that row NULL; a NULL high or low affects only windows that contain it, '
'and only as far as TA-Lib''s block scan lets it (it may be ignored, or make the row NULL). '
'Oracle: TA-Lib 0.8.x WILLR.';
