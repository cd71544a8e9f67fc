-- tsquant:requires db/risk/R__position_size.sql
-- The backtest simulation over arrays: perf._simulate (every option perf.backtest offers) and the
-- public kernel perf.backtest_kernel (long only, all in, no stops). Fill conventions:
-- docs/trading-and-risk.md, "Backtests".

create or replace function perf._simulate(
    p_open float8[],
    p_high float8[],
    p_low float8[],
    p_close float8[],
    p_entries boolean[],
    p_exits boolean[],
    p_init_cash float8,
    p_fees float8,
    p_slippage float8,
    p_fraction float8,
    p_stop_loss float8,
    p_take_profit float8,
    p_risk float8,
    p_specs numeric[],
    out "position" float8[],
    out cash float8[],
    out equity float8[],
    out trade_entry integer[],
    out trade_exit integer[],
    out trade_quantity float8[],
    out trade_cost float8[],
    out trade_entry_price float8[],
    out trade_exit_price float8[],
    out trade_fees float8[],
    out trade_pnl float8[],
    out trade_exit_reason text[]
)
language plpgsql
immutable
parallel safe
security invoker
set search_path = ''
as $function$
declare
    v_n integer := coalesce(cardinality(p_open), 0);
    v_position float8[];
    v_cash_out float8[];
    v_equity float8[];
    v_cash float8 := p_init_cash;
    v_qty float8 := 0;
    v_pending integer := 0;     -- order for the next bar's open: 1 buy, -1 sell, 0 none
    v_stops boolean := p_stop_loss is not null or p_take_profit is not null;
    v_price float8;
    v_spend float8;
    v_max_qty float8;
    v_stop float8;
    v_target float8;
    v_exit float8;
    v_reason text;
    v_proceeds float8;
    v_entry_fee float8;
    v_cost float8;
    v_k integer := 0;
begin
    -- Long-only simulation, one pass over the bars. At bar i, in this order: the order decided at
    -- bar i-1's close fills at bar i's open (a buy at open × (1 + slippage), a sell at open × (1 −
    -- slippage)); then, while long, the stop loss / take profit (p_stop_loss, p_take_profit:
    -- fractions of the entry fill price) are checked against bar i: an open already through a level
    -- fills there, else the low reaching the stop fills at the stop, else the high reaching the
    -- target at the target (the stop first when both are inside the bar), sells with slippage; then
    -- position, cash and equity = cash + position × close are recorded; then bar i's signals
    -- decide the order for bar i+1: an entry (and no exit) while flat buys, an exit (and no entry)
    -- while long sells; the last bar's signals never fill. Fees are p_fees × the fill's notional.
    -- Buy size: p_fraction of the cash (1 = all in: quantity = cash / (price × (1 + fees)), cash
    -- becomes 0); or, with p_risk, risk.position_size(cash, p_risk, price, stop) lots × contract
    -- size, from p_specs = [tick_size, tick_value, volume_step, volume_min, volume_max,
    -- commission_per_lot, contract_size], at most what the cash buys; a size of 0 skips the entry.
    if p_init_cash is null or p_init_cash <= 0 or p_init_cash = 'Infinity'::float8 or p_init_cash = 'NaN'::float8 then
        raise exception 'perf.backtest_kernel: init_cash must be a positive amount (got %)', coalesce(p_init_cash::text, 'NULL')
            using errcode = 'invalid_parameter_value';
    end if;
    if p_fees is null or not (p_fees >= 0 and p_fees < 1) or p_slippage is null or not (p_slippage >= 0 and p_slippage < 1) then
        raise exception 'perf.backtest_kernel: fees and slippage are fractions in [0, 1) (got fees %, slippage %)',
            coalesce(p_fees::text, 'NULL'), coalesce(p_slippage::text, 'NULL')
            using errcode = 'invalid_parameter_value';
    end if;
    if coalesce(cardinality(p_close), 0) <> v_n or coalesce(cardinality(p_entries), 0) <> v_n
        or coalesce(cardinality(p_exits), 0) <> v_n
        or (v_stops and (coalesce(cardinality(p_high), 0) <> v_n or coalesce(cardinality(p_low), 0) <> v_n)) then
        raise exception 'perf.backtest_kernel: the arrays must have one element per bar (open %, close %, entries %, exits %)',
            v_n, coalesce(cardinality(p_close), 0), coalesce(cardinality(p_entries), 0), coalesce(cardinality(p_exits), 0)
            using errcode = 'array_subscript_error';
    end if;
    if v_n > 0 and (
        array_ndims(p_open) <> 1 or array_ndims(p_close) <> 1 or array_ndims(p_entries) <> 1 or array_ndims(p_exits) <> 1
        or array_lower(p_open, 1) <> 1 or array_lower(p_close, 1) <> 1 or array_lower(p_entries, 1) <> 1
        or array_lower(p_exits, 1) <> 1
        or (v_stops and (array_ndims(p_high) <> 1 or array_ndims(p_low) <> 1
                         or array_lower(p_high, 1) <> 1 or array_lower(p_low, 1) <> 1))
    ) then
        raise exception 'perf.backtest_kernel: the arrays must be one-dimensional and start at index 1'
            using errcode = 'array_subscript_error';
    end if;
    -- array_position, = any and >= any run in C: a NULL or NaN price would make every later
    -- equity unknown, an open at or below 0 cannot be bought
    if array_position(p_open, null) is not null or array_position(p_close, null) is not null
        or 'NaN'::float8 = any(p_open) or 'NaN'::float8 = any(p_close) then
        raise exception 'perf.backtest_kernel: open and close must not contain NULL or NaN'
            using errcode = 'invalid_parameter_value';
    end if;
    if 0::float8 >= any(p_open) or 'Infinity'::float8 = any(p_open) or 'Infinity'::float8 = any(p_close)
        or '-Infinity'::float8 = any(p_close) then
        raise exception 'perf.backtest_kernel: every open must be a positive price and every close finite'
            using errcode = 'invalid_parameter_value';
    end if;
    if v_stops and (array_position(p_high, null) is not null or array_position(p_low, null) is not null
        or 'NaN'::float8 = any(p_high) or 'NaN'::float8 = any(p_low)) then
        raise exception 'perf.backtest_kernel: high and low must not contain NULL or NaN when stops are set'
            using errcode = 'invalid_parameter_value';
    end if;
    if (
        ((p_risk is null and p_fraction > 0 and p_fraction <= 1)
            or (p_risk is not null and p_stop_loss is not null and cardinality(p_specs) = 7 and p_specs[7] is not null))
        and coalesce(p_stop_loss, 0.5) > 0 and coalesce(p_stop_loss, 0.5) < 1
        and coalesce(p_take_profit, 1) > 0 and coalesce(p_take_profit, 1) < 'Infinity'::float8
    ) is not true then
        raise exception 'perf._simulate: sizing needs a fraction in (0, 1] or a risk with a stop loss and 7 specs; stops are positive fractions'
            using errcode = 'invalid_parameter_value';
    end if;
    trade_entry := '{}';
    trade_exit := '{}';
    trade_quantity := '{}';
    trade_cost := '{}';
    trade_entry_price := '{}';
    trade_exit_price := '{}';
    trade_fees := '{}';
    trade_pnl := '{}';
    trade_exit_reason := '{}';
    if v_n = 0 then
        "position" := '{}';
        cash := '{}';
        equity := '{}';
        return;
    end if;
    -- The native loop when installed (db/ta/native/backtest.c): the same bits, faster. (A
    -- tsquant_ta built before it existed has no backtest_simulate: then this loop runs.)
    perform 'PRAGMA:DISABLE:CHECK';  -- plpgsql_check: ta_native exists only with the extension
    if ta._native() and pg_catalog.to_regprocedure(
        'ta_native.backtest_simulate(float8[], float8[], float8[], float8[], boolean[], boolean[], float8, float8, '
        'float8, float8, float8, float8, float8, numeric[])'
    ) is not null then
        select n.* into
            "position", cash, equity, trade_entry, trade_exit, trade_quantity, trade_cost, trade_entry_price,
            trade_exit_price, trade_fees, trade_pnl, trade_exit_reason
        from ta_native.backtest_simulate(
            p_open, p_high, p_low, p_close, p_entries, p_exits, p_init_cash, p_fees, p_slippage, p_fraction,
            p_stop_loss, p_take_profit, p_risk, p_specs
        ) as n;
        return;
    end if;
    perform 'PRAGMA:ENABLE:CHECK';
    -- Preallocated outputs: element assignment into an expanded array is then O(1).
    v_position := array_fill(0::float8, array[v_n]);
    v_cash_out := v_position;
    v_equity := v_position;
    for v_i in 1..v_n loop
        v_exit := null;
        if v_pending = 1 then
            v_price := p_open[v_i] * (1 + p_slippage);
            v_max_qty := v_cash / (v_price * (1 + p_fees));
            if p_risk is null then
                v_spend := v_cash * p_fraction;
                v_qty := v_spend / (v_price * (1 + p_fees));
            else
                v_qty := risk.position_size(
                    v_cash::numeric, p_risk::numeric, v_price::numeric, (v_price * (1 - p_stop_loss))::numeric,
                    p_specs[1], p_specs[2], p_specs[3], p_specs[4], p_specs[5], p_specs[6]
                )::float8 * p_specs[7]::float8;
                if v_qty >= v_max_qty then
                    v_qty := v_max_qty;
                    v_spend := v_cash;
                else
                    v_spend := v_qty * v_price * (1 + p_fees);
                end if;
            end if;
            if v_qty > 0 then
                v_cash := v_cash - v_spend;
                v_cost := v_spend;
                v_entry_fee := v_qty * v_price * p_fees;
                v_stop := v_price * (1 - p_stop_loss);
                v_target := v_price * (1 + p_take_profit);
                v_k := v_k + 1;
                trade_entry[v_k] := v_i;
                trade_quantity[v_k] := v_qty;
                trade_cost[v_k] := v_spend;
                trade_entry_price[v_k] := v_price;
            else
                v_qty := 0;
            end if;
        elsif v_pending = -1 then
            v_exit := p_open[v_i] * (1 - p_slippage);
            v_reason := 'signal';
        end if;
        if v_stops and v_qty > 0 and v_exit is null then
            if p_open[v_i] <= v_stop then
                v_exit := p_open[v_i];
                v_reason := 'stop_loss';
            elsif p_open[v_i] >= v_target then
                v_exit := p_open[v_i];
                v_reason := 'take_profit';
            elsif p_low[v_i] <= v_stop then
                v_exit := v_stop;
                v_reason := 'stop_loss';
            elsif p_high[v_i] >= v_target then
                v_exit := v_target;
                v_reason := 'take_profit';
            end if;
            v_exit := v_exit * (1 - p_slippage);
        end if;
        if v_exit is not null then
            v_proceeds := v_qty * v_exit * (1 - p_fees);
            v_cash := v_cash + v_proceeds;
            trade_exit[v_k] := v_i;
            trade_exit_price[v_k] := v_exit;
            trade_fees[v_k] := v_entry_fee + v_qty * v_exit * p_fees;
            trade_pnl[v_k] := v_proceeds - v_cost;
            trade_exit_reason[v_k] := v_reason;
            v_qty := 0;
        end if;
        v_position[v_i] := v_qty;
        v_cash_out[v_i] := v_cash;
        v_equity[v_i] := v_cash + v_qty * p_close[v_i];
        v_pending := 0;
        if v_i < v_n then
            if v_qty = 0 then
                if p_entries[v_i] and p_exits[v_i] is not true then
                    v_pending := 1;
                end if;
            elsif p_exits[v_i] and p_entries[v_i] is not true then
                v_pending := -1;
            end if;
        end if;
    end loop;
    if v_qty > 0 then
        -- the last trade is still open: its exit fields are NULL (one element per trade)
        trade_exit[v_k] := null;
        trade_exit_price[v_k] := null;
        trade_fees[v_k] := v_entry_fee;
        trade_pnl[v_k] := null;
        trade_exit_reason[v_k] := null;
    end if;
    "position" := v_position;
    cash := v_cash_out;
    equity := v_equity;
end;
$function$;

comment on function perf._simulate(
    float8[], float8[], float8[], float8[], boolean[], boolean[], float8, float8, float8, float8, float8, float8, float8, numeric[]
) is
'Private: the backtest simulation behind perf.backtest_kernel and perf.backtest: next-bar-open '
'fills with slippage and fees on the notional, optional stop loss / take profit from the entry '
'fill, fixed-fraction or risk.position_size sizing. Returns per bar position, cash, equity and '
'per trade entry/exit bar (1-based), quantity, cost (cash spent, fees included), fill prices, '
'fees, P/L and exit reason.';

create or replace function perf.backtest_kernel(
    open float8[],
    close float8[],
    entries boolean[],
    exits boolean[],
    init_cash float8 default 10000,
    fees float8 default 0,
    slippage float8 default 0,
    out "position" float8[],
    out cash float8[],
    out equity float8[]
)
language sql
immutable
parallel safe
security invoker
set search_path = ''
begin atomic
    -- perf._simulate all in, without stops.
    select s.position, s.cash, s.equity  -- noqa: RF02
    from perf._simulate(
        backtest_kernel.open, null, null, backtest_kernel.close, backtest_kernel.entries, backtest_kernel.exits,  -- noqa: RF01
        backtest_kernel.init_cash, backtest_kernel.fees, backtest_kernel.slippage, 1, null, null, null, null  -- noqa: RF01
    ) as s;
end;

comment on function perf.backtest_kernel(float8[], float8[], boolean[], boolean[], float8, float8, float8) is
'Backtest over arrays, long only and all in. An entry (exit) at bar t fills at bar t+1''s open × '
'(1 + slippage) (× (1 − slippage) for a sell); the fee is fees × the fill''s notional: a buy spends '
'all cash (quantity = cash / (price × (1 + fees))), a sell closes the whole position (cash += '
'quantity × price × (1 − fees)). equity = cash + position × close at each bar. An entry while long, '
'an exit while flat, an entry and exit on the same bar and any signal on the last bar do nothing. '
'NULL signals are false. Returns position, cash and equity per bar (after the bar''s fills).';
