create function atr_step(
    p_state float8[], p_high float8[], p_low float8[], p_close float8[], p_timeperiod integer,
    out atr float8[], out state float8[]
)
language c immutable parallel safe
as 'MODULE_PATHNAME', 'ta_native_atr_step';

comment on function atr_step(float8[], float8[], float8[], float8[], integer) is
'Private: C port of ta._atr_step (same arguments, outputs, state and bits).';

create function atr(high float8[], low float8[], close float8[], timeperiod integer)
returns float8[]
language c immutable strict parallel safe
as 'MODULE_PATHNAME', 'ta_native_atr';

comment on function atr(float8[], float8[], float8[], integer) is
'Private: C port of ta.atr (same checks, messages and bits); ta.atr calls it when installed.';

create function natr(high float8[], low float8[], close float8[], timeperiod integer)
returns float8[]
language c immutable strict parallel safe
as 'MODULE_PATHNAME', 'ta_native_natr';

comment on function natr(float8[], float8[], float8[], integer) is
'Private: C port of ta.natr (same checks, messages and bits); ta.natr calls it when installed.';
