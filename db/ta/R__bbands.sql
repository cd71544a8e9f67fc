-- tsquant:requires db/ta/R__helpers.sql
-- BBANDS: Bollinger bands with an SMA middle band (TA-Lib 0.8.x BBANDS, matype 0).

create or replace function ta._bbands_step(
    p_state float8[],
    p_x float8[],
    p_timeperiod integer,
    p_nbdevup float8,
    p_nbdevdn float8,
    out upperband float8[],
    out middleband float8[],
    out lowerband float8[],
    out state float8[]
)
language plpgsql
immutable parallel safe security invoker
as $$
declare
    v_m integer := cardinality(p_x);
    v_p integer := p_timeperiod;
    v_l integer := p_timeperiod - 1;
    v_inv float8 := 1::float8 / p_timeperiod;
    v_count bigint := 0;
    v_ma_total float8 := 0::float8;
    v_total1 float8 := 0::float8;
    v_total2 float8 := 0::float8;
    v_shift float8;
    v_old float8 := 0::float8;
    v_old_dev float8 := 0::float8;
    v_reseed integer := 32 * p_timeperiod;
    v_w float8[];
    v_j integer;
    v_t bigint;
    v_new float8;
    v_mid float8;
    v_variance float8;
    v_dev float8;
begin
    -- The native kernel when installed (db/ta/native/bbands.c): the same bits, faster.
    perform 'PRAGMA:DISABLE:CHECK';  -- plpgsql_check: ta_native exists only with the extension
    if ta._native() then
        select n.upperband, n.middleband, n.lowerband, n.state
        into upperband, middleband, lowerband, state
        from ta_native.bbands_step(p_state, p_x, p_timeperiod, p_nbdevup, p_nbdevdn) as n;
        return;
    end if;
    perform 'PRAGMA:ENABLE:CHECK';
    -- Resumable TA-Lib BBANDS kernel (state NULL or '{}' = no bar yet), one pass as TA-Lib 0.8:
    -- the SMA running sum for the middle band and a shifted-data variance (population) for the
    -- deviation, rebuilt from the window when cancellation threatens or every 32*n bars (TA-Lib
    -- issues #118, #243). The subtraction of a window's oldest value is carried into the next
    -- bar's addition (total := total - old + new), the same sequence of roundings as TA-Lib's.
    if cardinality(p_state) > 0 then
        v_count := p_state[1]::bigint;
        v_ma_total := p_state[2];
        v_total1 := p_state[3];
        v_total2 := p_state[4];
        v_shift := p_state[5];
        v_old := p_state[6];
        v_old_dev := p_state[7];
        v_reseed := p_state[8]::integer;
        v_w := p_state[9:8 + v_l];
    else
        v_w := array_fill(null::float8, array[v_l]);
    end if;
    v_w := array_cat(v_w, p_x);
    upperband := array_fill(null::float8, array[v_m]);
    middleband := upperband;
    lowerband := upperband;
    for v_i in 1..v_m loop
        v_t := v_count + v_i - 1;
        v_j := v_l + v_i;
        v_new := v_w[v_j];
        if v_t = 0 then
            v_shift := v_new;
        end if;
        if v_t < v_l then
            v_ma_total := v_ma_total + v_new;
            v_total1 := v_total1 + (v_new - v_shift);
            v_total2 := v_total2 + (v_new - v_shift) * (v_new - v_shift);
            continue;
        end if;
        v_dev := v_new - v_shift;
        v_ma_total := v_ma_total - v_old + v_new;
        v_total1 := v_total1 - v_old_dev + v_dev;
        v_total2 := v_total2 - v_old_dev * v_old_dev + v_dev * v_dev;
        v_variance := v_total2 * v_inv - (v_total1 * v_inv) * (v_total1 * v_inv);
        v_mid := v_ma_total / v_p;
        v_old := v_w[v_j - v_l];
        v_old_dev := v_old - v_shift;
        v_reseed := v_reseed - 1;
        if v_variance < 0.000001 * ((v_total2 - v_old_dev * v_old_dev) * v_inv)
            or v_old_dev * v_old_dev > 1000000.0 * (v_total2 - v_old_dev * v_old_dev)
            or v_reseed <= 0 then
            -- Re-anchor the variance on the window's own mean.
            v_reseed := 32 * v_p;
            v_shift := 0;
            for v_k in v_j - v_l..v_j loop
                v_shift := v_shift + v_w[v_k];
            end loop;
            v_shift := v_shift * v_inv;
            v_total1 := 0;
            v_total2 := 0;
            for v_k in v_j - v_l..v_j loop
                v_total1 := v_total1 + (v_w[v_k] - v_shift);
                v_total2 := v_total2 + (v_w[v_k] - v_shift) * (v_w[v_k] - v_shift);
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
        upperband[v_i] := v_mid + v_dev * p_nbdevup;
        lowerband[v_i] := v_mid - v_dev * p_nbdevdn;
    end loop;
    state := array_cat(
        array[(v_count + v_m)::float8, v_ma_total, v_total1, v_total2, v_shift, v_old, v_old_dev, v_reseed::float8],
        v_w[v_m + 1:v_m + v_l]
    );
end;
$$;

comment on function ta._bbands_step(float8[], float8[], integer, float8, float8) is
'Private: resumable TA-Lib BBANDS kernel. State float8[]: [1] bars consumed, [2] SMA running total, '
'[3] shifted sum, [4] shifted sum of squares, [5] shift, [6] previous oldest value, [7] its '
'shifted value, [8] bars until the next re-anchoring, [9 .. n+7] the last n-1 inputs. ta.bbands '
'is this kernel run from the empty state; chunked runs give identical bits.';

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
    v_native record;
    v_x float8[];
    v_n integer;
    v_start integer;
    v_pad float8[];
begin
    -- Bollinger bands: ta._bbands_step from the empty state after the leading NULLs.
    perform 'PRAGMA:DISABLE:CHECK';  -- plpgsql_check: ta_native exists only with the extension
    if ta._native() then
        -- db/ta/native/bbands.c: the same checks and bits
        v_native := ta_native.bbands(x, timeperiod, nbdevup, nbdevdn);  -- a record: fewer copies than select into
        upperband := v_native.upperband;
        middleband := v_native.middleband;
        lowerband := v_native.lowerband;
        return;
    end if;
    perform 'PRAGMA:ENABLE:CHECK';
    v_x := ta._prep('ta.bbands', 'x', x);
    v_n := cardinality(v_x);
    perform ta._check_period('ta.bbands', 'timeperiod', timeperiod, 2);
    if nbdevup < -3e37 or nbdevup > 3e37 then
        raise exception 'ta.bbands: nbdevup must be between -3e+37 and 3e+37 (got %)', nbdevup
            using errcode = 'invalid_parameter_value';
    end if;
    if nbdevdn < -3e37 or nbdevdn > 3e37 then
        raise exception 'ta.bbands: nbdevdn must be between -3e+37 and 3e+37 (got %)', nbdevdn
            using errcode = 'invalid_parameter_value';
    end if;
    if v_n = 0 then
        upperband := v_x;
        middleband := v_x;
        lowerband := v_x;
        return;
    end if;
    v_start := ta._first_valid(v_x);
    v_pad := array_fill(null::float8, array[v_start - 1]);
    select s.upperband, s.middleband, s.lowerband
    into upperband, middleband, lowerband
    from ta._bbands_step(null, v_x[v_start:], timeperiod, nbdevup, nbdevdn) as s;
    if v_start > 1 then
        upperband := array_cat(v_pad, upperband);
        middleband := array_cat(v_pad, middleband);
        lowerband := array_cat(v_pad, lowerband);
    end if;
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
