-- Private helpers shared by the ta indicator functions (TA-Lib 0.8.x semantics).
--
-- Conventions of every ta.* indicator:
-- * Inputs are float8[] price/volume series, oldest first. NaN inputs are treated as NULL.
-- * NULL stands for TA-Lib's NaN: leading NULLs are skipped (the lookback counts from the
--   first row where every input is non-NULL, as the Python wrapper of TA-Lib does), and an
--   interior NULL goes through the algorithm exactly as a NaN goes through TA-Lib's C code.
--   The PL/pgSQL mirrors the C comparisons so that a NULL comparison is false where an IEEE
--   NaN comparison is false; which outputs a NULL then poisons depends on the indicator and is
--   documented in each function's comment.
-- * Outputs have the input's length; positions inside the lookback are NULL.

-- ---------------------------------------------------------------------------
-- Argument checking and input preparation
-- ---------------------------------------------------------------------------

create or replace function ta._check_period(
    p_func text, p_arg text, p_value integer, p_min integer, p_max integer default 100000
)
returns void
language plpgsql
immutable parallel safe security invoker
as $$
begin
    -- Raise 22023 when an integer parameter is outside TA-Lib's accepted range.
    if p_value < p_min or p_value > p_max then
        raise exception '%: % must be between % and % (got %)', p_func, p_arg, p_min, p_max, p_value
            using errcode = 'invalid_parameter_value';
    end if;
end;
$$;

comment on function ta._check_period(text, text, integer, integer, integer) is
'Private: raises SQLSTATE 22023 "<func>: <arg> must be between <min> and <max> (got <value>)" '
'when an integer parameter is outside the range TA-Lib accepts.';

create or replace function ta._check_lengths(p_func text, p_names text, variadic p_lengths integer[])
returns void
language plpgsql
immutable parallel safe security invoker
as $$
begin
    -- Raise 22023 when the input series of one call do not have the same length.
    if (select count(distinct l.len) from unnest(p_lengths) as l (len)) > 1 then
        raise exception '%: % must have the same length (got %)', p_func, p_names, array_to_string(p_lengths, ', ')
            using errcode = 'invalid_parameter_value';
    end if;
end;
$$;

comment on function ta._check_lengths(text, text, integer[]) is
'Private: raises SQLSTATE 22023 "<func>: <names> must have the same length (got n1, n2, …)" '
'when the input arrays of one call differ in length.';

create or replace function ta._prep(p_func text, p_arg text, p_x float8[])
returns float8[]
language plpgsql
immutable parallel safe security invoker
as $$
begin
    -- One-dimensional, 1-based, NaN replaced by NULL: the form every indicator loop expects.
    if array_ndims(p_x) > 1 then
        raise exception '%: % must be a one-dimensional array', p_func, p_arg
            using errcode = 'invalid_parameter_value';
    end if;
    if array_lower(p_x, 1) <> 1 then
        p_x := p_x[array_lower(p_x, 1):array_upper(p_x, 1)];
    end if;
    return array_replace(p_x, 'NaN'::float8, null);
end;
$$;

comment on function ta._prep(text, text, float8[]) is
'Private: checks that an input series is one-dimensional, rebases it to index 1 and replaces NaN '
'by NULL (NaN and NULL mean the same thing to the ta functions).';

create or replace function ta._first_valid(
    p_a float8[], p_b float8[] default null, p_c float8[] default null, p_d float8[] default null
)
returns integer
language plpgsql
immutable parallel safe security invoker
as $$
declare
    v_n integer := cardinality(p_a);
begin
    -- Index of the first row where every given series is non-NULL; the last row when there is
    -- none (TA-Lib's Python wrapper then runs the function on the last row alone).
    for v_i in 1..v_n loop
        if p_a[v_i] is not null
            and (p_b is null or p_b[v_i] is not null)
            and (p_c is null or p_c[v_i] is not null)
            and (p_d is null or p_d[v_i] is not null) then
            return v_i;
        end if;
    end loop;
    return v_n;
end;
$$;

comment on function ta._first_valid(float8[], float8[], float8[], float8[]) is
'Private: first index where all given series are non-NULL (the last index if there is none). '
'Leading NULL rows are skipped this way, as TA-Lib''s Python wrapper skips leading NaN.';

-- ---------------------------------------------------------------------------
-- Scalar formulas (SQL, inlined by the planner into the PL/pgSQL loops)
-- ---------------------------------------------------------------------------

-- IEEE products and ratios without PostgreSQL's underflow error. PostgreSQL raises "value out of
-- range: underflow" when a product or quotient of non-zero operands rounds to 0, where C silently
-- goes subnormal (and eventually to 0). Decaying recursions (EMA, Wilder averages and sums) get
-- there after long flat or one-sided stretches. Operands of normal size take the plain operator;
-- a tiny one goes through ta._tiny_product, which computes C's correctly rounded subnormal result.

create or replace function ta._tiny_product(p_a float8, p_b float8, p_divide boolean)
returns float8
language plpgsql
immutable parallel safe security invoker
as $$
declare
    v_a float8 := abs(p_a) * 4.149515568880993e180;  -- |a| * 2^600, exact
    v_b float8 := abs(p_b);
    v_sign float8 := sign(p_a) * sign(p_b);
    v_r float8;
    v_q float8;
    v_k float8;
    v_x float8;
    v_y float8;
    v_xh float8;
    v_xl float8;
    v_yh float8;
    v_yl float8;
    v_err float8;
begin
    -- a*b or a/b rounded as IEEE double arithmetic does, for |a| so small that the result may be
    -- subnormal: compute it scaled by 2^600 (a normal number), then round to the subnormal grid
    -- (2^-1074) once. A tie on that grid is decided by the exact rounding error of the scaled
    -- result (Dekker's two-product), so there is no double rounding.
    if p_divide then
        v_r := v_a / v_b;
    else
        v_r := v_a * v_b;
    end if;
    if v_r >= 9.232978617785736e-128 then
        -- the result is a normal number: scaling back by 2^-600 is exact
        return v_sign * (v_r * 2.409919865102884e-181);
    end if;
    v_q := v_r * 4.877732109868738e142;  -- the result in units of 2^-1074, exact
    v_k := floor(v_q);
    if v_q - v_k > 0.5 then
        v_k := v_k + 1;
    elsif v_q - v_k = 0.5 then
        -- exact error of the scaled product x*y = v_r (+ v_err), Dekker split with 2^27 + 1
        if p_divide then
            v_x := v_r;
            v_y := v_b;
        else
            v_x := v_a;
            v_y := v_b;
        end if;
        v_xh := 134217729 * v_x - (134217729 * v_x - v_x);
        v_xl := v_x - v_xh;
        v_yh := 134217729 * v_y - (134217729 * v_y - v_y);
        v_yl := v_y - v_yh;
        v_err := (((v_xh * v_yh - v_x * v_y) + v_xh * v_yl) + v_xl * v_yh) + v_xl * v_yl;
        if p_divide then
            -- sign of a - r*b: exact quotient above r when positive
            v_err := (v_a - v_x * v_y) - v_err;
        end if;
        if v_err > 0 or (v_err = 0 and v_k - 2 * floor(v_k / 2) = 1) then
            v_k := v_k + 1;
        end if;
    end if;
    return v_sign * (v_k * 5e-324);
end;
$$;

comment on function ta._tiny_product(float8, float8, boolean) is
'Private: p_a * p_b (or p_a / p_b when p_divide) correctly rounded as C does when the result is '
'subnormal or 0, without PostgreSQL''s underflow error. Slow path of ta._mul and ta._div.';

create or replace function ta._mul(p_a float8, p_b float8)
returns float8
language sql
immutable parallel safe security invoker
return case
    when p_a is null or p_a = 0 or abs(p_a) >= 1e-290 then p_a * p_b
    else ta._tiny_product(p_a, p_b, false)
end;

comment on function ta._mul(float8, float8) is
'Private: p_a * p_b as in C (subnormal or 0 result instead of PostgreSQL''s underflow error) for '
'the decaying state p_a of a recursion; p_b is a smoothing factor of moderate size. NULL stays NULL.';

create or replace function ta._div(p_a float8, p_b float8)
returns float8
language sql
immutable parallel safe security invoker
return case
    when p_a is null or p_a = 0 or (abs(p_a) >= 1e-290 and abs(p_b) <= 1e15) then p_a / p_b
    else ta._tiny_product(p_a, p_b, true)
end;

comment on function ta._div(float8, float8) is
'Private: p_a / p_b as in C (subnormal or 0 result instead of PostgreSQL''s underflow error) for an '
'indicator ratio whose numerator has decayed to a tiny value. NULL stays NULL.';

create or replace function ta._true_range(p_high float8, p_low float8, p_prev_close float8)
returns float8
language sql
immutable parallel safe security invoker
return greatest(p_high - p_low, abs(p_prev_close - p_high), abs(p_prev_close - p_low))
    + (p_high - p_low) * 0;

comment on function ta._true_range(float8, float8, float8) is
'Private: TA-Lib true range max(high - low, |prev_close - high|, |prev_close - low|). A NULL '
'previous close leaves high - low (TA-Lib: NaN comparisons are false); a NULL high or low gives NULL.';

create or replace function ta._is_zero_scaled(p_value float8, p_scale float8)
returns boolean
language sql
immutable parallel safe security invoker
return abs(p_value) <= 1e-14 * p_scale;

comment on function ta._is_zero_scaled(float8, float8) is
'Private: TA-Lib 0.8 TA_IS_ZERO_SCALED: |value| <= 1e-14 * scale, a relative dead-zone used by '
'the flat-window rules of STOCH, STOCHRSI, CCI and MFI. NULL when value is NULL (TA-Lib: false for NaN).';

-- ---------------------------------------------------------------------------
-- Native kernels
-- ---------------------------------------------------------------------------

create or replace function ta._native()
returns boolean
language sql
stable parallel safe security invoker
return coalesce(current_setting('tsquant.native_kernels', true), '') <> 'off'
    and exists (select from pg_catalog.pg_extension as e where e.extname = 'tsquant_ta');

comment on function ta._native() is
'Private: true when the resumable kernels run natively: the tsquant_ta extension is installed '
'(db/ta/R__native.sql) and the setting tsquant.native_kernels is not ''off''. The native and '
'PL/pgSQL kernels give identical bits (tests/ta/test_native.py), so this changes speed only.';

create or replace function ta.kernel_implementation()
returns text
language plpgsql
stable parallel safe security invoker
as $$
declare
    v_version text;
begin
    -- Which kernels ta.* runs in this session, for people and make demo.
    if not ta._native() then
        return 'plpgsql';
    end if;
    execute 'select ta_native.version()' into v_version;  -- the extension may be absent at check time
    return 'native: ' || v_version;
end;
$$;

comment on function ta.kernel_implementation() is
'Which kernels the ta indicator functions run in this session: ''native: tsquant_ta <version> '
'(source <hash>)'' when the C extension is installed and tsquant.native_kernels is not ''off'', '
'else ''plpgsql''. Both give identical bits; native is faster (docs/indicators.md).';
