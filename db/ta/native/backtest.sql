create function backtest_simulate(
    p_open float8[], p_high float8[], p_low float8[], p_close float8[], p_entries boolean[], p_exits boolean[],
    p_init_cash float8, p_fees float8, p_slippage float8, p_fraction float8, p_stop_loss float8,
    p_take_profit float8, p_risk float8, p_specs numeric[],
    out "position" float8[], out cash float8[], out equity float8[], out trade_entry integer[],
    out trade_exit integer[], out trade_quantity float8[], out trade_cost float8[], out trade_entry_price float8[],
    out trade_exit_price float8[], out trade_fees float8[], out trade_pnl float8[], out trade_exit_reason text[]
)
language c immutable parallel safe
as 'MODULE_PATHNAME', 'ta_native_backtest_simulate';

comment on function backtest_simulate(
    float8[], float8[], float8[], float8[], boolean[], boolean[], float8, float8, float8, float8, float8, float8, float8, numeric[]
) is
'Private: C port of the loop of perf._simulate (same arguments, outputs and bits; risk sizing calls risk.position_size).';
