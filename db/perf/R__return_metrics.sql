-- Return-based performance metrics over an array of period returns, with empyrical's names,
-- parameters and definitions (empyrical-reloaded 0.7, REFERENCE.md §2), so a user can check one
-- against the other. NULL (and NaN) elements are skipped as empyrical skips NaN; where empyrical
-- returns NaN these return NULL, where it returns ±inf they return ±Infinity.

-- Section: helpers ----------------------------------------------------------------------------------
create or replace function perf._ratio(p_numerator float8, p_denominator float8)
returns float8
language sql
immutable
parallel safe
security invoker
set search_path = ''
begin atomic
    -- IEEE division as numpy does it: x/0 is ±inf, 0/0 (and anything NaN) is undefined (NULL).
    select case
        when p_numerator is null or p_denominator is null or p_numerator = 'NaN' or p_denominator = 'NaN' then null
        when p_denominator = 0 then
            case when p_numerator > 0 then 'Infinity'::float8 when p_numerator < 0 then '-Infinity'::float8 end
        else p_numerator / p_denominator
    end;
end;

comment on function perf._ratio(float8, float8) is
'Private: numerator / denominator with numpy''s rules: x/0 = ±Infinity, 0/0 and NaN = NULL.';

create or replace function perf._cumulative(
    p_returns float8[],
    out ending_value float8,
    out max_drawdown float8,
    out max_drawdown_duration integer
)
language plpgsql
immutable
parallel safe
security invoker
set search_path = ''
as $function$
declare
    v_r float8;
    v_growth float8 := 1;
    v_value float8;
    v_peak float8 := 100;
    v_drawdown float8;
    v_under integer := 0;
begin
    -- One pass over the returns, with empyrical's arithmetic: growth = Π(1 + r) (NULL/NaN = 0 %),
    -- value = growth × 100 against a running peak that starts at the value 100 (a starting peak,
    -- as empyrical's drawdown_series anchors it); drawdown = (value − peak) / peak. Duration is the
    -- longest run of periods below the running peak.
    max_drawdown_duration := 0;
    if coalesce(cardinality(p_returns), 0) = 0 then
        return;
    end if;
    foreach v_r in array p_returns loop
        if v_r is not null and v_r <> 'NaN'::float8 then
            v_growth := v_growth * (1 + v_r);
        end if;
        v_value := v_growth * 100;
        v_peak := greatest(v_peak, v_value);
        v_drawdown := (v_value - v_peak) / v_peak;
        if max_drawdown is null or v_drawdown < max_drawdown then
            max_drawdown := v_drawdown;
        end if;
        if v_value < v_peak then
            v_under := v_under + 1;
            max_drawdown_duration := greatest(max_drawdown_duration, v_under);
        else
            v_under := 0;
        end if;
    end loop;
    ending_value := v_growth;
end;
$function$;

comment on function perf._cumulative(float8[]) is
'Private: one pass over period returns: ending value Π(1 + r), max drawdown (empyrical, with a '
'starting peak) and the longest drawdown in periods.';

-- Section: metrics ------------------------------------------------------------------------------------
create or replace function perf.total_return(returns float8[])
returns float8
language sql
immutable
parallel safe
security invoker
set search_path = ''
begin atomic
    select c.ending_value - 1 from perf._cumulative(returns) as c;  -- noqa: RF02, RF03
end;

comment on function perf.total_return(float8[]) is
'Total compounded return Π(1 + r) − 1 (empyrical cum_returns_final). NULL for no returns.';

create or replace function perf._annual_return(p_ending float8, p_periods integer, p_annualization integer)
returns float8
language plpgsql
immutable
parallel safe
security invoker
set search_path = ''
as $function$
declare
    v_exponent float8;
begin
    -- CAGR from the ending value Π(1 + r) of p_periods periods: ending ^ (annualization / n) − 1.
    if p_ending is null or coalesce(p_periods, 0) = 0 then
        return null;
    end if;
    v_exponent := 1 / (p_periods::float8 / p_annualization);
    if p_ending < 0 and v_exponent <> pg_catalog.trunc(v_exponent) then
        return null;  -- a negative base with a fractional power is NaN in numpy
    end if;
    begin
        return pg_catalog.power(p_ending, v_exponent) - 1;
    exception when numeric_value_out_of_range then
        -- numpy's power overflows to ±inf and underflows to 0 where PostgreSQL's raises (a short
        -- run annualised with many bars per year, e.g. 525600 for 1m bars)
        if abs(p_ending) > 1 then
            return case when p_ending < 0 and pg_catalog.mod(v_exponent::numeric, 2) = 1 then '-Infinity'::float8 else 'Infinity'::float8 end;
        end if;
        return -1;
    end;
end;
$function$;

comment on function perf._annual_return(float8, integer, integer) is
'Private: CAGR from an ending value Π(1 + r) over p_periods periods (perf.annual_return, and the '
'run metrics that already have the ending value).';

create or replace function perf.annual_return(returns float8[], annualization int default 252)
returns float8
language sql
immutable
parallel safe
security invoker
set search_path = ''
begin atomic
    -- CAGR (empyrical annual_return): ending_value ^ (1 / (n / annualization)) − 1, n counting
    -- every element (NULL/NaN periods are 0 % returns, as in empyrical).
    select perf._annual_return(c.ending_value, cardinality(returns), annualization)  -- noqa: RF02, RF03
    from perf._cumulative(returns) as c;  -- noqa: RF02, RF03
end;

comment on function perf.annual_return(float8[], integer) is
'Compound annual growth rate, empyrical annual_return: (Π(1 + r))^(annualization / n) − 1 with n = '
'number of periods (NULL/NaN periods count, as 0 %). annualization: 252 daily (default), 365 for '
'24/7 crypto days, 52 weekly, 12 monthly, bars per year for intraday. Overflows to Infinity and '
'underflows to −1 as numpy does.';

create or replace function perf.annual_volatility(returns float8[], annualization int default 252)
returns float8
language sql
immutable
parallel safe
security invoker
set search_path = ''
begin atomic
    select case when coalesce(cardinality(returns), 0) >= 2  -- noqa: RF02, RF03
        then stddev_samp(r.v) * pg_catalog.power(annualization::float8, 0.5) end  -- noqa: RF02, RF03
    from unnest(returns) as r (v)  -- noqa: RF02, RF03
    where r.v is not null and r.v <> 'NaN'::float8;
end;

comment on function perf.annual_volatility(float8[], integer) is
'Annualised volatility, empyrical annual_volatility: sample standard deviation (ddof 1) of the '
'returns × annualization^(1/2). NULL with fewer than 2 periods.';

create or replace function perf.sharpe_ratio(returns float8[], risk_free float8 default 0, annualization int default 252)
returns float8
language sql
immutable
parallel safe
security invoker
set search_path = ''
begin atomic
    -- A constant series has no dispersion: its std is exactly 0 (empyrical _zero_dispersion_std).
    select case when coalesce(cardinality(returns), 0) >= 2 then  -- noqa: RF02, RF03
        perf._ratio(
            avg(r.v - risk_free),  -- noqa: RF02, RF03
            case when count(*) >= 2 and max(r.v - risk_free) = min(r.v - risk_free) then 0  -- noqa: RF02, RF03
                else stddev_samp(r.v - risk_free) end  -- noqa: RF02, RF03
        ) * pg_catalog.sqrt(annualization::float8)  -- noqa: RF02, RF03
    end
    from unnest(returns) as r (v)  -- noqa: RF02, RF03
    where r.v is not null and r.v <> 'NaN'::float8;
end;

comment on function perf.sharpe_ratio(float8[], float8, integer) is
'Sharpe ratio, empyrical sharpe_ratio: mean(r − risk_free) / std(r − risk_free, ddof 1) × '
'√annualization; risk_free is per period; NULL with fewer than 2 periods; ±Infinity for a '
'constant non-zero excess return, NULL for a constant zero.';

create or replace function perf.sortino_ratio(
    returns float8[], required_return float8 default 0, annualization int default 252
)
returns float8
language sql
immutable
parallel safe
security invoker
set search_path = ''
begin atomic
    -- Downside deviation averages the squared shortfalls over ALL periods (not only the losing ones).
    select case when coalesce(cardinality(returns), 0) >= 2 then  -- noqa: RF02, RF03
        perf._ratio(
            avg(r.v - required_return) * annualization,  -- noqa: RF02, RF03
            pg_catalog.sqrt(avg(least(r.v - required_return, 0) * least(r.v - required_return, 0)))  -- noqa: RF02, RF03
            * pg_catalog.sqrt(annualization::float8)  -- noqa: RF02, RF03
        )
    end
    from unnest(returns) as r (v)  -- noqa: RF02, RF03
    where r.v is not null and r.v <> 'NaN'::float8;
end;

comment on function perf.sortino_ratio(float8[], float8, integer) is
'Sortino ratio, empyrical sortino_ratio: mean(r − required_return) × annualization / '
'(√mean(min(r − required_return, 0)²) × √annualization), the downside averaged over all periods; '
'NULL with fewer than 2 periods; +Infinity without any shortfall.';

create or replace function perf.max_drawdown(returns float8[])
returns float8
language sql
immutable
parallel safe
security invoker
set search_path = ''
begin atomic
    select c.max_drawdown from perf._cumulative(returns) as c;  -- noqa: RF02, RF03
end;

comment on function perf.max_drawdown(float8[]) is
'Maximum drawdown, empyrical max_drawdown: min over periods of (value − running peak) / running '
'peak, the starting value counting as a peak; a negative fraction (0 without a drawdown); NULL for no returns.';

create or replace function perf.max_drawdown_duration(returns float8[])
returns integer
language sql
immutable
parallel safe
security invoker
set search_path = ''
begin atomic
    select case when coalesce(cardinality(returns), 0) > 0 then c.max_drawdown_duration end  -- noqa: RF02, RF03
    from perf._cumulative(returns) as c;  -- noqa: RF02, RF03
end;

comment on function perf.max_drawdown_duration(float8[]) is
'Longest drawdown in periods: the most consecutive periods spent below the running peak (the '
'starting value counts as a peak; recovery = back at or above the peak). 0 without a drawdown.';

create or replace function perf._calmar(p_annual_return float8, p_max_drawdown float8)
returns float8
language sql
immutable
parallel safe
security invoker
set search_path = ''
return case
    when p_max_drawdown < 0 and abs(p_annual_return / abs(p_max_drawdown)) <> 'Infinity'::float8
        then p_annual_return / abs(p_max_drawdown)
end;

comment on function perf._calmar(float8, float8) is
'Private: annual return / |max drawdown|, NULL without a drawdown or when infinite (empyrical).';

create or replace function perf.calmar_ratio(returns float8[], annualization int default 252)
returns float8
language sql
immutable
parallel safe
security invoker
set search_path = ''
begin atomic
    -- one pass of perf._cumulative for both the ending value and the drawdown
    select perf._calmar(perf._annual_return(c.ending_value, cardinality(returns), annualization), c.max_drawdown)  -- noqa: RF02, RF03
    from perf._cumulative(returns) as c;  -- noqa: RF02, RF03
end;

comment on function perf.calmar_ratio(float8[], integer) is
'Calmar ratio, empyrical calmar_ratio: annual_return / |max_drawdown|; NULL without a drawdown.';

create or replace function perf.exposure(p_position float8[])
returns float8
language sql
immutable
parallel safe
security invoker
set search_path = ''
begin atomic
    select (count(*) filter (where p.v <> 0))::float8 / nullif(count(*), 0)
    from unnest(exposure.p_position) as p (v);  -- noqa: RF01
end;

comment on function perf.exposure(float8[]) is
'Exposure: fraction of bars with a non-zero position (backtesting.py "Exposure Time").';

-- Section: one pass over a run's equity curve ---------------------------------------------------------
create or replace function perf._equity_return_metrics(
    p_equity float8[],
    p_start_value float8,
    p_position float8[],
    p_annualization integer,
    out total_return float8,
    out annual_return float8,
    out annual_volatility float8,
    out sharpe_ratio float8,
    out sortino_ratio float8,
    out max_drawdown float8,
    out max_drawdown_duration integer,
    out calmar_ratio float8,
    out exposure float8
)
language plpgsql
immutable
parallel safe
security invoker
set search_path = ''
as $function$
declare
    v_n integer := coalesce(cardinality(p_equity), 0);
    v_previous float8 := p_start_value;
    v_e float8;
    v_r float8;
    v_growth float8 := 1;
    v_peak float8 := 100;
    v_under integer := 0;
    v_count float8 := 0;
    v_sum float8 := 0;
    v_sxx float8 := 0;
    v_down float8 := 0;
    v_max float8;
    v_min float8;
    v_std float8;
    v_mean float8;
begin
    -- The return metrics of an equity curve (bar returns r = equity / previous − 1, the first
    -- against p_start_value) in one pass, the same arithmetic in the same order as
    -- perf._cumulative, perf.annual_volatility, perf.sharpe_ratio and perf.sortino_ratio (zero risk
    -- free and required return) over those returns: a 1M-bar run builds no returns array and
    -- reads it once, not five times. The sums follow PostgreSQL's float8 avg / stddev_samp
    -- (Youngs-Cramer, float8_accum; at the first value the increment is 0 / 1 = 0, as the C code
    -- skips it), so each value equals the public function's bit for bit (checked in
    -- tests/perf/test_metrics_oracles.py). Few statements per bar: each one costs as much as the
    -- arithmetic in it.
    max_drawdown_duration := 0;
    foreach v_e in array coalesce(p_equity, '{}') loop
        v_r := v_e / v_previous - 1;
        v_previous := v_e;
        if v_r is not null and v_r <> 'NaN'::float8 then
            v_growth := v_growth * (1 + v_r);
            v_count := v_count + 1;
            v_sum := v_sum + v_r;
            v_sxx := v_sxx + (v_r * v_count - v_sum) * (v_r * v_count - v_sum) / greatest(v_count * (v_count - 1), 1);
            v_down := v_down + least(v_r, 0) * least(v_r, 0);
            v_max := greatest(v_max, v_r);
            v_min := least(v_min, v_r);
        end if;
        -- value = growth × 100 against the running peak (perf._cumulative)
        v_peak := greatest(v_peak, v_growth * 100);
        max_drawdown := least(max_drawdown, (v_growth * 100 - v_peak) / v_peak);
        v_under := case when v_growth * 100 < v_peak then v_under + 1 else 0 end;
        max_drawdown_duration := greatest(max_drawdown_duration, v_under);
    end loop;
    exposure := perf.exposure(p_position);
    if v_n = 0 then
        max_drawdown_duration := null;
        return;
    end if;
    total_return := v_growth - 1;
    annual_return := perf._annual_return(v_growth, v_n, p_annualization);
    calmar_ratio := perf._calmar(annual_return, max_drawdown);
    if v_n >= 2 then
        v_mean := case when v_count > 0 then v_sum / v_count end;
        v_std := case when v_count > 1 then pg_catalog.sqrt(v_sxx / (v_count - 1)) end;
        annual_volatility := v_std * pg_catalog.power(p_annualization::float8, 0.5);
        sharpe_ratio := perf._ratio(v_mean, case when v_count >= 2 and v_max = v_min then 0 else v_std end)
            * pg_catalog.sqrt(p_annualization::float8);
        sortino_ratio := perf._ratio(
            v_mean * p_annualization,
            pg_catalog.sqrt(case when v_count > 0 then v_down / v_count end) * pg_catalog.sqrt(p_annualization::float8)
        );
    end if;
end;
$function$;

comment on function perf._equity_return_metrics(float8[], float8, float8[], integer) is
'Private: the return metrics of an equity curve in one pass (bar returns equity / previous − 1, '
'the first against p_start_value): total and annual return, annual volatility, Sharpe and Sortino '
'(zero risk free / required return), max drawdown and its duration, Calmar, and the exposure of '
'p_position (perf.exposure); each equals the public function of the same name over those returns.';
