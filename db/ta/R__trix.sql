-- tsquant:requires db/ta/R__ema.sql
-- tsquant:requires db/ta/R__roc.sql
-- TRIX: 1-bar rate of change of a triple EMA (TA-Lib 0.8.x TRIX).

create or replace function ta.trix(x float8[], timeperiod integer default 30)
returns float8[]
language plpgsql
immutable strict parallel safe security invoker
as $$
declare
    v_x float8[] := ta._prep('ta.trix', 'x', x);
    v_n integer := cardinality(v_x);
    v_lb integer := timeperiod - 1;
    v_start integer;
    v_ema float8[];
    v_out float8[];
begin
    -- Three chained EMA, each seeded by the SMA of the previous stage's first n values, then
    -- 100 (E3_t / E3_{t-1} - 1).
    perform ta._check_period('ta.trix', 'timeperiod', timeperiod, 1);
    if v_n = 0 then
        return v_x;
    end if;
    v_start := ta._first_valid(v_x);
    v_ema := ta._ema_core(v_x, timeperiod, v_start + v_lb);
    v_ema := ta._ema_core(v_ema, timeperiod, v_start + 2 * v_lb);
    v_ema := ta._ema_core(v_ema, timeperiod, v_start + 3 * v_lb);
    v_out := ta._roc_core(v_ema, 1, v_start + 3 * v_lb);
    if timeperiod = 1 then
        -- TA-Lib runs period 1 through k = 1, beta = 0: 0 * NaN keeps a NaN forever.
        for v_i in v_start..v_n loop
            if v_x[v_i] is null then
                v_out[v_i:v_n] := array_fill(null::float8, array[v_n - v_i + 1]);
                exit;
            end if;
        end loop;
    end if;
    return v_out;
end;
$$;

comment on function ta.trix(float8[], integer) is
'TRIX, TA-Lib 0.8.x TRIX(real, timeperiod=30): E1 = EMA_n(x), E2 = EMA_n(E1), E3 = EMA_n(E2), '
'each SMA-seeded on the previous stage''s first n values; TRIX = 100 (E3_t / E3_{t-1} - 1), 0 '
'when E3_{t-1} = 0. timeperiod 1..100000. Lookback 3(n-1)+1 (NULL there). NULL/NaN: leading NULLs '
'skipped; an interior NULL makes every later output NULL. Oracle: TA-Lib 0.8.x TRIX.';
