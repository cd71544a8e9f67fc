create function macd_step(
    p_state float8[],
    p_x float8[],
    p_fastperiod integer,
    p_slowperiod integer,
    p_signalperiod integer,
    out macd float8[],
    out macdsignal float8[],
    out macdhist float8[],
    out state float8[]
)
language c immutable parallel safe
as 'MODULE_PATHNAME', 'ta_native_macd_step';

comment on function macd_step(float8[], float8[], integer, integer, integer) is
'Private: C port of ta._macd_step (same arguments, outputs, state and bits).';

create function macd(
    x float8[],
    fastperiod integer,
    slowperiod integer,
    signalperiod integer,
    out macd float8[],
    out macdsignal float8[],
    out macdhist float8[]
)
language c immutable strict parallel safe
as 'MODULE_PATHNAME', 'ta_native_macd';

comment on function macd(float8[], integer, integer, integer) is
'Private: C port of ta.macd (same checks, messages and bits); ta.macd calls it when installed.';
