create function stoch_step(
    p_state float8[],
    p_high float8[],
    p_low float8[],
    p_close float8[],
    p_fastk_period integer,
    p_slowk_period integer,
    p_slowd_period integer,
    out slowk float8[],
    out slowd float8[],
    out state float8[]
)
language c immutable parallel safe
as 'MODULE_PATHNAME', 'ta_native_stoch_step';

comment on function stoch_step(float8[], float8[], float8[], float8[], integer, integer, integer) is
'Private: C port of ta._stoch_step (same arguments, outputs, state and bits).';

create function stoch(
    high float8[],
    low float8[],
    close float8[],
    fastk_period integer,
    slowk_period integer,
    slowd_period integer,
    out slowk float8[],
    out slowd float8[]
)
language c immutable strict parallel safe
as 'MODULE_PATHNAME', 'ta_native_stoch';

comment on function stoch(float8[], float8[], float8[], integer, integer, integer) is
'Private: C port of ta.stoch (same checks, messages and bits); ta.stoch calls it when installed.';

create function stoch_fastk(
    p_high float8[], p_low float8[], p_close float8[], p_kperiod integer, p_start integer
)
returns float8[]
language c immutable parallel safe
as 'MODULE_PATHNAME', 'ta_native_stoch_fastk';

comment on function stoch_fastk(float8[], float8[], float8[], integer, integer) is
'Private: C port of ta._stoch_fastk for p_kperiod >= 1 and p_start >= 1 (same bits); '
'ta._stoch_fastk (STOCHRSI''s raw %K) calls it when installed.';
