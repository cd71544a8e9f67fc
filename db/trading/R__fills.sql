-- Fills are the truth: trading.record_fill stores an execution and derives from it the order's
-- fill state, the instrument's position and round trip (average-cost method) and a computed
-- portfolio snapshot; trading.rebuild_positions recomputes every derived row from the fills.

-- Section: applying one fill (average cost) -----------------------------------------------------
create or replace function trading._apply_fill(p_fill_id bigint)
returns numeric
language plpgsql
security invoker
set search_path = ''
as $function$
declare
    v_fill trading.fills;
    v_order trading.orders;
    v_pos trading.positions;
    v_cs numeric;
    v_sign integer;
    v_open numeric;       -- |position| before the fill
    v_close numeric;      -- part of the fill that closes the position
    v_rest numeric;       -- part that opens or adds
    v_pnl numeric := 0;   -- gross P/L realized by the closing part
    v_close_fee numeric;
    v_trade_id bigint;
begin
    -- Average cost: adding to a position moves its average entry price; reducing realizes
    -- (fill price − average entry) × quantity × contract size; a fill larger than the position
    -- closes it and opens the opposite one at the fill price (a flip). Fees are charged to
    -- realized P/L when paid; a flip fill's fee is split pro rata between the two round trips.
    -- Returns the change of realized P/L (net of the fee).
    select * into strict v_fill from trading.fills as f where f.fill_id = p_fill_id;
    select * into strict v_order from trading.orders as o where o.order_id = v_fill.order_id;
    select coalesce(s.contract_size, 1) into v_cs
    from market.instrument_trading_specs as s where s.instrument_id = v_fill.instrument_id;
    v_cs := coalesce(v_cs, 1);
    v_sign := case v_fill.side when 'buy' then 1 else -1 end;

    insert into trading.positions (instrument_id) values (v_fill.instrument_id)
    on conflict (instrument_id) do nothing;
    select * into strict v_pos from trading.positions as p where p.instrument_id = v_fill.instrument_id for update;

    v_open := abs(v_pos.quantity);
    if v_pos.quantity <> 0 and pg_catalog.sign(v_pos.quantity) <> v_sign then
        v_close := least(v_fill.quantity, v_open);
    else
        v_close := 0;
    end if;
    v_rest := v_fill.quantity - v_close;
    v_close_fee := v_fill.fee * v_close / v_fill.quantity;

    if v_close > 0 then
        v_pnl := v_close * (v_fill.price - v_pos.average_entry_price) * pg_catalog.sign(v_pos.quantity) * v_cs;
        update trading.round_trips as t
        set exit_quantity = t.exit_quantity + v_close,
            exit_notional = t.exit_notional + v_close * v_fill.price,
            exit_price = (t.exit_notional + v_close * v_fill.price) / (t.exit_quantity + v_close),
            pnl = t.pnl + v_pnl - v_close_fee,
            fees = t.fees + v_close_fee,
            status = case when v_close = v_open then 'CLOSED' else t.status end,
            exit_time = case when v_close = v_open then v_fill.filled_at else t.exit_time end,
            exit_order_id = case when v_close = v_open then v_order.order_id else t.exit_order_id end,
            pnl_percent = (t.pnl + v_pnl - v_close_fee) / nullif(t.entry_notional * v_cs, 0) * 100,
            updated_at = v_fill.filled_at
        where t.trade_id = v_pos.open_trade_id;
        v_pos.quantity := v_pos.quantity + v_sign * v_close;
        if v_pos.quantity = 0 then
            v_pos.average_entry_price := null;
            v_pos.open_trade_id := null;
        end if;
    end if;

    if v_rest > 0 then
        if v_pos.quantity = 0 then
            insert into trading.round_trips (
                instrument_id, strategy_id, direction, entry_time, stop_loss, take_profit,
                validator_score, entry_order_id, updated_at
            )
            values (
                v_fill.instrument_id, v_order.strategy_id, case v_sign when 1 then 'long' else 'short' end,
                v_fill.filled_at, v_order.stop_loss, v_order.take_profit, v_order.validator_score,
                v_order.order_id, v_fill.filled_at
            )
            returning trade_id into v_trade_id;
            v_pos.open_trade_id := v_trade_id;
            v_pos.average_entry_price := v_fill.price;
        else
            v_pos.average_entry_price :=
                (v_open * v_pos.average_entry_price + v_rest * v_fill.price) / (v_open + v_rest);
        end if;
        v_pos.quantity := v_pos.quantity + v_sign * v_rest;
        update trading.round_trips as t
        set quantity = t.quantity + v_rest,
            entry_notional = t.entry_notional + v_rest * v_fill.price,
            entry_price = (t.entry_notional + v_rest * v_fill.price) / (t.quantity + v_rest),
            pnl = t.pnl - (v_fill.fee - v_close_fee),
            fees = t.fees + (v_fill.fee - v_close_fee),
            pnl_percent = (t.pnl - (v_fill.fee - v_close_fee)) / nullif((t.entry_notional + v_rest * v_fill.price) * v_cs, 0) * 100,
            updated_at = v_fill.filled_at
        where t.trade_id = v_pos.open_trade_id;
    end if;

    update trading.positions as p
    set quantity = v_pos.quantity,
        average_entry_price = v_pos.average_entry_price,
        realized_pnl = p.realized_pnl + v_pnl - v_fill.fee,
        fees = p.fees + v_fill.fee,
        open_trade_id = v_pos.open_trade_id,
        last_fill_id = v_fill.fill_id,
        updated_at = v_fill.filled_at
    where p.instrument_id = v_fill.instrument_id;
    return v_pnl - v_fill.fee;
end;
$function$;

comment on function trading._apply_fill(bigint) is
'Private: applies one fill to its instrument''s position and round trip (average cost, fees '
'charged when paid, flips split pro rata) and returns the change of realized P/L net of the fee.';

-- Section: marking to market -----------------------------------------------------------------------
create or replace function trading.unrealized_pnl()
returns numeric
language sql
stable
security invoker
set search_path = ''
begin atomic
    -- Open positions at the latest candle close: quantity × (close − average entry) × contract size.
    select coalesce(sum(
        p.quantity * (lc.price::numeric - p.average_entry_price) * coalesce(s.contract_size, 1)
    ), 0)
    from trading.positions as p
    cross join lateral market.latest_close(p.instrument_id) as lc
    left join market.instrument_trading_specs as s on p.instrument_id = s.instrument_id
    where p.quantity <> 0 and lc.price is not null;
end;

comment on function trading.unrealized_pnl() is
'Unrealized P/L of every open position at its latest candle close (positions without a candle count 0).';

-- Section: portfolio snapshots ---------------------------------------------------------------------
create or replace function trading.record_portfolio_snapshot(
    p_balance numeric,
    p_equity numeric,
    p_taken_at timestamptz default now(),
    p_source text default 'broker',
    p_margin_used numeric default null,
    p_details jsonb default '{}'::jsonb
)
returns bigint
language plpgsql
security definer
set search_path = ''
as $function$
declare
    v_id bigint;
begin
    -- Store balance and equity, then let the drawdown kill switch see the new equity.
    insert into trading.portfolio_snapshots (taken_at, balance, equity, margin_used, source, details)
    values (p_taken_at, p_balance, p_equity, p_margin_used, p_source, coalesce(p_details, '{}'::jsonb))
    returning snapshot_id into v_id;
    perform risk._track_equity(p_equity, p_taken_at);
    return v_id;
end;
$function$;

comment on function trading.record_portfolio_snapshot(numeric, numeric, timestamptz, text, numeric, jsonb) is
'Record the account''s balance and equity (a broker account query, or manual); updates the equity '
'peak and trips the drawdown kill switch (risk.trading_state) when the limit is reached. Returns the snapshot id.';

-- Section: recording a fill -----------------------------------------------------------------------
create or replace function trading.record_fill(
    p_client_order_id text,
    p_quantity numeric,
    p_price numeric,
    p_fee numeric default 0,
    p_filled_at timestamptz default now(),
    p_broker_fill_id text default null,
    p_fee_currency text default null
)
returns bigint
language plpgsql
security definer
set search_path = ''
as $function$
declare
    v_order trading.orders;
    v_fill_id bigint;
    v_delta numeric;
    v_balance numeric;
begin
    -- Store the execution, then derive everything that depends on it in the same transaction:
    -- the order's filled quantity and status, the position and round trip, and a computed
    -- portfolio snapshot (previous balance + realized change, equity marked at the latest
    -- closes), which is what "update after trade" means for the risk state.
    select * into v_order from trading.orders as o where o.client_order_id = p_client_order_id for update;
    if not found then
        raise exception 'trading.record_fill: no order with client_order_id %', pg_catalog.quote_literal(p_client_order_id)
            using errcode = 'no_data_found';
    end if;
    if p_broker_fill_id is not null then
        select f.fill_id into v_fill_id from trading.fills as f
        where f.order_id = v_order.order_id and f.broker_fill_id = p_broker_fill_id;
        if found then
            return v_fill_id;  -- the same execution reported again: already recorded
        end if;
    end if;
    if v_order.status not in ('submitted', 'partially_filled') then
        raise exception 'trading.record_fill: order % is %, only submitted or partially filled orders take fills',
            p_client_order_id, v_order.status
            using errcode = 'object_not_in_prerequisite_state';
    end if;
    if p_quantity is null or p_quantity <= 0 or p_price is null or p_price <= 0 or coalesce(p_fee, 0) < 0 then
        raise exception 'trading.record_fill: quantity and price must be positive and the fee not negative'
            using errcode = 'invalid_parameter_value';
    end if;
    if v_order.filled_quantity + p_quantity > v_order.quantity then
        raise exception 'trading.record_fill: fill of % would overfill order % (% of % filled)',
            p_quantity, p_client_order_id, v_order.filled_quantity, v_order.quantity
            using errcode = 'invalid_parameter_value';
    end if;
    insert into trading.fills (order_id, instrument_id, side, quantity, price, fee, fee_currency, filled_at, broker_fill_id)
    values (v_order.order_id, v_order.instrument_id, v_order.side, p_quantity, p_price, coalesce(p_fee, 0),
            p_fee_currency, p_filled_at, p_broker_fill_id)
    returning fill_id into v_fill_id;
    update trading.orders as o
    set filled_quantity = o.filled_quantity + p_quantity,
        average_fill_price = (coalesce(o.average_fill_price * o.filled_quantity, 0) + p_price * p_quantity)
            / (o.filled_quantity + p_quantity),
        fees = o.fees + coalesce(p_fee, 0),
        status = case when o.filled_quantity + p_quantity = o.quantity then 'filled' else 'partially_filled' end
    where o.order_id = v_order.order_id;
    v_delta := trading._apply_fill(v_fill_id);
    select s.balance into v_balance from trading.portfolio_snapshots as s
    order by s.taken_at desc, s.snapshot_id desc limit 1;
    if found then
        perform trading.record_portfolio_snapshot(
            v_balance + v_delta, v_balance + v_delta + trading.unrealized_pnl(),
            greatest(p_filled_at, pg_catalog.now()), 'fill', null,
            pg_catalog.jsonb_build_object('fill_id', v_fill_id)
        );
    end if;
    return v_fill_id;
end;
$function$;

comment on function trading.record_fill(text, numeric, numeric, numeric, timestamptz, text, text) is
'Record an execution of an order (submitted or partially filled; overfills refused; the same '
'broker_fill_id twice is recorded once) and derive the order status, position, round trip and a '
'portfolio snapshot from it. Returns the fill id.';

-- Section: rebuild ----------------------------------------------------------------------------------
create or replace function trading.rebuild_positions()
returns integer
language plpgsql
security definer
set search_path = ''
as $function$
declare
    v_fill_id bigint;
    v_order_id bigint;
    v_count integer := 0;
begin
    -- Positions and round trips are derived data: throw them away and replay every fill in
    -- the order it was recorded; then the CANCELLED round trips of unfilled entry orders.
    delete from trading.positions;
    delete from trading.round_trips;
    for v_fill_id in select f.fill_id from trading.fills as f order by f.fill_id loop
        perform trading._apply_fill(v_fill_id);
        v_count := v_count + 1;
    end loop;
    for v_order_id in select o.order_id from trading.orders as o order by o.order_id loop
        perform trading._record_cancelled_entry(v_order_id);
    end loop;
    return v_count;
end;
$function$;

comment on function trading.rebuild_positions() is
'Recompute trading.positions and trading.round_trips from trading.fills (and the unfilled entry '
'orders); returns the number of fills replayed. The maintained rows always equal a rebuild.';

revoke execute on function trading._apply_fill(bigint) from tsq_trader;
revoke execute on function trading.rebuild_positions() from tsq_trader;
