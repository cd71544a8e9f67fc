-- tsquant:requires db/ta/R__helpers.sql
-- ROC: rate of change in percent (TA-Lib 0.8.x ROC), and the ROC core shared with TRIX.

create or replace function ta._roc_core(p_x float8[], p_period integer, p_start integer)
returns float8[]
language plpgsql
immutable parallel safe security invoker
as $$
declare
    v_n integer := cardinality(p_x);
    v_out float8[] := array_fill(null::float8, array[v_n]);
begin
    -- roc_t = 100 (x_t / x_{t-n} - 1), 0 when x_{t-n} = 0; outputs from p_start + p_period.
    for v_i in p_start + p_period..v_n loop
        v_out[v_i] := case when p_x[v_i - p_period] = 0 then 0 else ((p_x[v_i] / p_x[v_i - p_period]) - 1.0) * 100.0 end;
    end loop;
    return v_out;
end;
$$;

comment on function ta._roc_core(float8[], integer, integer) is
'Private: TA-Lib ROC of p_x from index p_start: 100 (x_t/x_{t-n} - 1), 0 when x_{t-n} = 0. '
'Shared by ta.roc and ta.trix.';

create or replace function ta.roc(x float8[], timeperiod integer default 10)
returns float8[]
language plpgsql
immutable strict parallel safe security invoker
as $$
declare
    v_x float8[] := ta._prep('ta.roc', 'x', x);
begin
    -- Rate of change in percent, TA-Lib ROC.
    perform ta._check_period('ta.roc', 'timeperiod', timeperiod, 1);
    if cardinality(v_x) = 0 then
        return v_x;
    end if;
    return ta._roc_core(v_x, timeperiod, ta._first_valid(v_x));
end;
$$;

comment on function ta.roc(float8[], integer) is
'Rate of change, TA-Lib 0.8.x ROC(real, timeperiod=10): 100 (x_t / x_{t-n} - 1), 0 when '
'x_{t-n} = 0. timeperiod 1..100000. Lookback n (NULL there). NULL/NaN: leading NULLs skipped; an '
'interior NULL at t makes only the outputs at t and t+n NULL. Oracle: TA-Lib 0.8.x ROC.';
