-- tsquant:requires db/ta/R__helpers.sql
-- BBANDS: Bollinger bands with an SMA middle band (TA-Lib 0.8.x BBANDS, matype 0).

create or replace function ta.bbands(
    x float8[],
    timeperiod integer default 20,
    nbdevup float8 default 2,
    nbdevdn float8 default 2,
    out upperband float8[],
    out middleband float8[],
    out lowerband float8[]
)
language plpgsql
immutable strict parallel safe security invoker
as $$
declare
    v_x float8[] := ta._prep('ta.bbands', 'x', x);
    v_n integer := cardinality(v_x);
    v_p integer := timeperiod;
    v_inv float8 := 1::float8 / timeperiod;
    v_start integer;
    v_shift float8;
    v_new float8;
    v_old float8 := 0::float8;
    v_old_dev float8 := 0::float8;
    v_mid float8;
    v_ma_total float8 := 0::float8;
    v_total1 float8 := 0::float8;
    v_total2 float8 := 0::float8;
    v_variance float8;
    v_dev float8;
    v_reseed integer;
begin
    -- One pass, as TA-Lib 0.8 does: the SMA running sum for the middle band and a shifted-data
    -- variance (population) for the deviation. The variance sums are rebuilt from the window
    -- when cancellation threatens or every 32*n bars (TA-Lib issues #118, #243), which also
    -- decides when a NULL stops affecting the deviation.
    perform ta._check_period('ta.bbands', 'timeperiod', timeperiod, 2);
    if nbdevup < -3e37 or nbdevup > 3e37 then
        raise exception 'ta.bbands: nbdevup must be between -3e+37 and 3e+37 (got %)', nbdevup
            using errcode = 'invalid_parameter_value';
    end if;
    if nbdevdn < -3e37 or nbdevdn > 3e37 then
        raise exception 'ta.bbands: nbdevdn must be between -3e+37 and 3e+37 (got %)', nbdevdn
            using errcode = 'invalid_parameter_value';
    end if;
    upperband := array_fill(null::float8, array[v_n]);
    middleband := upperband;
    lowerband := upperband;
    if v_n = 0 then
        return;
    end if;
    v_start := ta._first_valid(v_x);
    if v_n - v_start < v_p - 1 then
        return;
    end if;
    -- The subtraction of a window's oldest value is carried into the next bar's addition
    -- (total := total - old + new), which is the same sequence of roundings as TA-Lib's.
    v_shift := v_x[v_start];
    for v_j in v_start..v_start + v_p - 2 loop
        v_ma_total := v_ma_total + v_x[v_j];
        v_total1 := v_total1 + (v_x[v_j] - v_shift);
        v_total2 := v_total2 + (v_x[v_j] - v_shift) * (v_x[v_j] - v_shift);
    end loop;
    v_reseed := 32 * v_p;
    for v_i in v_start + v_p - 1..v_n loop
        v_new := v_x[v_i];
        v_dev := v_new - v_shift;
        v_ma_total := v_ma_total - v_old + v_new;
        v_total1 := v_total1 - v_old_dev + v_dev;
        v_total2 := v_total2 - v_old_dev * v_old_dev + v_dev * v_dev;
        v_variance := v_total2 * v_inv - (v_total1 * v_inv) * (v_total1 * v_inv);
        v_mid := v_ma_total / v_p;
        v_old := v_x[v_i - v_p + 1];
        v_old_dev := v_old - v_shift;
        v_reseed := v_reseed - 1;
        if v_variance < 0.000001 * ((v_total2 - v_old_dev * v_old_dev) * v_inv)
            or v_old_dev * v_old_dev > 1000000.0 * (v_total2 - v_old_dev * v_old_dev)
            or v_reseed <= 0 then
            -- Re-anchor the variance on the window's own mean.
            v_reseed := 32 * v_p;
            v_shift := 0;
            for v_j in v_i - v_p + 1..v_i loop
                v_shift := v_shift + v_x[v_j];
            end loop;
            v_shift := v_shift * v_inv;
            v_total1 := 0;
            v_total2 := 0;
            for v_j in v_i - v_p + 1..v_i loop
                v_total1 := v_total1 + (v_x[v_j] - v_shift);
                v_total2 := v_total2 + (v_x[v_j] - v_shift) * (v_x[v_j] - v_shift);
            end loop;
            v_variance := v_total2 * v_inv - (v_total1 * v_inv) * (v_total1 * v_inv);
            if v_variance < 0.000000000001 * (v_total2 * v_inv) then
                v_variance := 0;
            end if;
            v_old_dev := v_old - v_shift;
        end if;
        -- sqrt of a (rounding-)negative variance is NaN in C: NULL here.
        v_dev := case when v_variance = 0 then 0 when v_variance > 0 then sqrt(v_variance) end;
        middleband[v_i] := v_mid;
        upperband[v_i] := v_mid + v_dev * nbdevup;
        lowerband[v_i] := v_mid - v_dev * nbdevdn;
    end loop;
end;
$$;

comment on function ta.bbands(float8[], integer, float8, float8) is
'Bollinger bands, TA-Lib 0.8.x BBANDS(real, timeperiod=20, nbdevup=2, nbdevdn=2, matype=0) -> '
'(upperband, middleband, lowerband). Only matype 0 (SMA middle band) is implemented. '
'middle = SMA(n); sigma = population standard deviation of the same n values (TA-Lib''s shifted, '
'periodically re-anchored variance; 0 for a flat window); upper = middle + nbdevup*sigma, '
'lower = middle - nbdevdn*sigma. timeperiod 2..100000, nbdev -3e37..3e37. Lookback n-1 (NULL '
'there). NULL/NaN: leading NULLs skipped; an interior NULL makes every later output NULL (the '
'middle band is a running sum). Oracle: TA-Lib 0.8.x BBANDS.';
