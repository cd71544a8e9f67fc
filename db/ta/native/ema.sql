create function ema_step(
    p_state float8[], p_x float8[], p_timeperiod integer, out ema float8[], out state float8[]
)
language c immutable parallel safe
as 'MODULE_PATHNAME', 'ta_native_ema_step';

comment on function ema_step(float8[], float8[], integer) is
'Private: C port of ta._ema_step (same arguments, outputs, state and bits).';

create function ema(x float8[], timeperiod integer)
returns float8[]
language c immutable strict parallel safe
as 'MODULE_PATHNAME', 'ta_native_ema';

comment on function ema(float8[], integer) is
'Private: C port of ta.ema (same checks, messages and bits); ta.ema calls it when installed.';
