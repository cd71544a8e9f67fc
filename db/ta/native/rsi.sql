create function rsi_step(
    p_state float8[], p_x float8[], p_timeperiod integer, out rsi float8[], out state float8[]
)
language c immutable parallel safe
as 'MODULE_PATHNAME', 'ta_native_rsi_step';

comment on function rsi_step(float8[], float8[], integer) is
'Private: C port of ta._rsi_step (same arguments, outputs, state and bits).';

create function rsi(x float8[], timeperiod integer)
returns float8[]
language c immutable strict parallel safe
as 'MODULE_PATHNAME', 'ta_native_rsi';

comment on function rsi(float8[], integer) is
'Private: C port of ta.rsi (same checks, messages and bits); ta.rsi calls it when installed.';
