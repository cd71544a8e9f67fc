create function bbands_step(
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
language c immutable parallel safe
as 'MODULE_PATHNAME', 'ta_native_bbands_step';

comment on function bbands_step(float8[], float8[], integer, float8, float8) is
'Private: C port of ta._bbands_step (same arguments, outputs, state and bits).';

create function bbands(
    x float8[],
    timeperiod integer,
    nbdevup float8,
    nbdevdn float8,
    out upperband float8[],
    out middleband float8[],
    out lowerband float8[]
)
language c immutable strict parallel safe
as 'MODULE_PATHNAME', 'ta_native_bbands';

comment on function bbands(float8[], integer, float8, float8) is
'Private: C port of ta.bbands (same checks, messages and bits); ta.bbands calls it when installed.';
