create function obv_step(
    p_state float8[], p_close float8[], p_volume float8[], out obv float8[], out state float8[]
)
language c immutable parallel safe
as 'MODULE_PATHNAME', 'ta_native_obv_step';

comment on function obv_step(float8[], float8[], float8[]) is
'Private: C port of ta._obv_step (same arguments, outputs, state and bits).';

create function obv(close float8[], volume float8[])
returns float8[]
language c immutable strict parallel safe
as 'MODULE_PATHNAME', 'ta_native_obv';

comment on function obv(float8[], float8[]) is
'Private: C port of ta.obv (same checks, messages and bits); ta.obv calls it when installed.';
