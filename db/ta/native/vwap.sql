create function vwap_step(
    p_state float8[], p_high float8[], p_low float8[], p_close float8[], p_volume float8[],
    out vwap float8[], out state float8[]
)
language c immutable parallel safe
as 'MODULE_PATHNAME', 'ta_native_vwap_step';

comment on function vwap_step(float8[], float8[], float8[], float8[], float8[]) is
'Private: C port of ta._vwap_step (same arguments, outputs, state and bits).';

create function vwap(high float8[], low float8[], close float8[], volume float8[])
returns float8[]
language c immutable strict parallel safe
as 'MODULE_PATHNAME', 'ta_native_vwap';

comment on function vwap(float8[], float8[], float8[], float8[]) is
'Private: C port of ta.vwap (same checks, messages and bits); ta.vwap calls it when installed.';
