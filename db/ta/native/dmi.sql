create function dmi_step(
    p_state float8[], p_high float8[], p_low float8[], p_close float8[], p_timeperiod integer,
    p_output text, out vals float8[], out state float8[]
)
language c immutable parallel safe
as 'MODULE_PATHNAME', 'ta_native_dmi_step';

comment on function dmi_step(float8[], float8[], float8[], float8[], integer, text) is
'Private: C port of ta._dmi_step (same arguments, outputs, state and bits).';

create function plus_di(high float8[], low float8[], close float8[], timeperiod integer)
returns float8[]
language c immutable strict parallel safe
as 'MODULE_PATHNAME', 'ta_native_plus_di';

comment on function plus_di(float8[], float8[], float8[], integer) is
'Private: C port of ta.plus_di (same checks, messages and bits); ta.plus_di calls it when installed.';

create function minus_di(high float8[], low float8[], close float8[], timeperiod integer)
returns float8[]
language c immutable strict parallel safe
as 'MODULE_PATHNAME', 'ta_native_minus_di';

comment on function minus_di(float8[], float8[], float8[], integer) is
'Private: C port of ta.minus_di (same checks, messages and bits); ta.minus_di calls it when installed.';

create function adx(high float8[], low float8[], close float8[], timeperiod integer)
returns float8[]
language c immutable strict parallel safe
as 'MODULE_PATHNAME', 'ta_native_adx';

comment on function adx(float8[], float8[], float8[], integer) is
'Private: C port of ta.adx (same checks, messages and bits); ta.adx calls it when installed.';
