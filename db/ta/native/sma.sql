create function sma_step(
    p_state float8[], p_x float8[], p_timeperiod integer, out sma float8[], out state float8[]
)
language c immutable parallel safe
as 'MODULE_PATHNAME', 'ta_native_sma_step';

comment on function sma_step(float8[], float8[], integer) is
'Private: C port of ta._sma_step (same arguments, outputs, state and bits).';

create function sma(x float8[], timeperiod integer)
returns float8[]
language c immutable strict parallel safe
as 'MODULE_PATHNAME', 'ta_native_sma';

comment on function sma(float8[], integer) is
'Private: C port of ta.sma (same checks, messages and bits); ta.sma calls it when installed.';
