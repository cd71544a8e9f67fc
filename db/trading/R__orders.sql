-- Orders: the status state machine (trigger), registration of strategies, trading.submit_order
-- (risk-checked) and trading.set_order_status. Tables: V0400__strategies_orders_fills.sql.

-- Section: state machine ------------------------------------------------------------------------
create or replace function trading._orders_guard()
returns trigger
language plpgsql
security invoker
set search_path = ''
as $function$
begin
    -- Refuse an illegal status transition and any change to what was ordered; stamp the times.
    if new.client_order_id <> old.client_order_id or new.instrument_id <> old.instrument_id
        or new.side <> old.side or new.quantity <> old.quantity or new.order_type <> old.order_type
        or new.created_at <> old.created_at then
        raise exception 'trading.orders: order % cannot change what was ordered (client id, instrument, side, type, quantity)',
            old.client_order_id
            using errcode = 'object_not_in_prerequisite_state';
    end if;
    if (new.status <> old.status or new.status = 'partially_filled')
        and not exists (
            select from trading.order_status_transitions as t
            where t.from_status = old.status and t.to_status = new.status
        ) then
        raise exception 'trading.orders: illegal status transition % -> % for order %',
            old.status, new.status, old.client_order_id
            using errcode = 'object_not_in_prerequisite_state',
            hint = 'Legal transitions are listed in trading.order_status_transitions.';
    end if;
    new.updated_at := pg_catalog.now();
    if new.status = 'submitted' and old.status = 'new' then
        new.submitted_at := coalesce(new.submitted_at, pg_catalog.now());
    end if;
    if new.status in ('filled', 'cancelled', 'rejected', 'expired') then
        new.closed_at := coalesce(new.closed_at, pg_catalog.now());
    end if;
    return new;
end;
$function$;

comment on function trading._orders_guard() is
'Trigger function: enforces trading.order_status_transitions and the immutability of what was ordered.';

drop trigger if exists guard on trading.orders;
create trigger guard
before update on trading.orders
for each row execute function trading._orders_guard();

-- Section: strategies ---------------------------------------------------------------------------
create or replace function trading.register_strategy(
    p_name text,
    p_kind text,
    p_parameters jsonb default '{}'::jsonb,
    p_enabled boolean default true,
    p_timeframe text default null,
    p_dbt_strategy text default null,
    p_description text default ''
)
returns integer
language sql
security definer
set search_path = ''
begin atomic
    insert into trading.strategies as s (name, kind, parameters, enabled, timeframe, dbt_strategy, description)
    values (p_name, p_kind, p_parameters, p_enabled, p_timeframe, p_dbt_strategy, p_description)
    on conflict (name) do update
    set kind = excluded.kind,
        parameters = excluded.parameters,
        enabled = excluded.enabled,
        timeframe = excluded.timeframe,
        dbt_strategy = excluded.dbt_strategy,
        description = excluded.description,
        updated_at = pg_catalog.now()
    returning s.strategy_id;
end;

comment on function trading.register_strategy(text, text, jsonb, boolean, text, text, text) is
'Create or update a strategy by name; returns its strategy_id. A disabled strategy cannot open positions.';

-- Section: submit -------------------------------------------------------------------------------
create or replace function trading.submit_order(
    p_instrument_id integer,
    p_side text,
    p_quantity numeric,
    p_order_type text default 'market',
    p_limit_price numeric default null,
    p_stop_price numeric default null,
    p_stop_loss numeric default null,
    p_take_profit numeric default null,
    p_strategy text default null,
    p_validator_score numeric default null,
    p_signal_ref text default null,
    p_client_order_id text default null
)
returns trading.orders
language plpgsql
security definer
set search_path = ''
as $function$
declare
    v_strategy_id integer;
    v_enabled boolean := true;
    v_allowed boolean;
    v_reason text;
    v_reduces boolean;
    v_window interval;
    v_now timestamptz := pg_catalog.clock_timestamp();
    v_order trading.orders;
begin
    -- Every risk rule runs before the order row exists; a refusal raises and leaves nothing.
    -- The order-rate row is locked first, so concurrent submissions are decided one at a time
    -- (two orders cannot both pass an exposure limit that only one of them fits in).
    perform from risk.order_rate as r where r.id for update;
    if p_strategy is not null then
        select s.strategy_id, s.enabled into v_strategy_id, v_enabled
        from trading.strategies as s where s.name = p_strategy;
        if not found then
            raise exception 'trading.submit_order: unknown strategy %', pg_catalog.quote_literal(p_strategy)
                using errcode = 'invalid_parameter_value', hint = 'Register it with trading.register_strategy().';
        end if;
    end if;
    select c.allowed, c.reason, c.reduces_position into v_allowed, v_reason, v_reduces
    from risk.check_order(p_instrument_id, p_side, p_quantity, coalesce(p_limit_price, p_stop_price)) as c;
    if v_allowed and not v_reduces and not v_enabled then
        v_allowed := false;
        v_reason := format('strategy %s is disabled: it may only reduce positions', p_strategy);
    end if;
    if not v_allowed then
        raise exception 'trading.submit_order: refused by risk: %', v_reason
            using errcode = 'TQR01';
    end if;
    -- Count the order in the current fixed window of the order-rate limit.
    select l.order_rate_window into v_window from risk.limits as l where l.id;
    update risk.order_rate as r
    set window_start = case when v_now >= r.window_start + v_window then v_now else r.window_start end,
        order_count = case when v_now >= r.window_start + v_window then 1 else r.order_count + 1 end
    where r.id;
    insert into trading.orders (
        client_order_id, instrument_id, strategy_id, side, order_type, quantity, limit_price,
        stop_price, stop_loss, take_profit, validator_score, signal_ref, reduces_position
    )
    values (
        coalesce(p_client_order_id, 'tsq-' || pg_catalog.gen_random_uuid()::text), p_instrument_id,
        v_strategy_id, p_side, p_order_type, p_quantity, p_limit_price, p_stop_price, p_stop_loss,
        p_take_profit, p_validator_score, p_signal_ref, v_reduces
    )
    returning * into v_order;
    return v_order;
end;
$function$;

comment on function trading.submit_order(integer, text, numeric, text, numeric, numeric, numeric, numeric, text, numeric, text, text) is
'Create an order (status new) after risk.check_order allowed it; otherwise raise SQLSTATE TQR01 '
'with the reason and create nothing. Generates the client_order_id (tsq-<uuid>) unless given; '
'commit it before sending the order to the broker. Returns the order row.';

-- Section: status changes -----------------------------------------------------------------------
create or replace function trading._record_cancelled_entry(p_order_id bigint)
returns void
language sql
security invoker
set search_path = ''
begin atomic
    -- An entry order that ended without any fill is a trade that never happened: CANCELLED.
    insert into trading.round_trips (
        instrument_id, strategy_id, direction, status, entry_price, quantity, stop_loss,
        take_profit, validator_score, entry_order_id, updated_at
    )
    select
        o.instrument_id, o.strategy_id, case o.side when 'buy' then 'long' else 'short' end as direction,
        'CANCELLED' as status, coalesce(o.limit_price, o.stop_price) as entry_price, o.quantity, o.stop_loss, o.take_profit,
        o.validator_score, o.order_id, o.closed_at
    from trading.orders as o
    where o.order_id = _record_cancelled_entry.p_order_id  -- noqa: RF01
        and o.status in ('cancelled', 'rejected', 'expired')
        and o.filled_quantity = 0
        and not o.reduces_position;
end;

comment on function trading._record_cancelled_entry(bigint) is
'Private: adds the CANCELLED round trip of an entry order that ended cancelled, rejected or expired without a fill.';

create or replace function trading.set_order_status(
    p_client_order_id text,
    p_status text,
    p_reason text default null,
    p_broker_order_id text default null
)
returns trading.orders
language plpgsql
security definer
set search_path = ''
as $function$
declare
    v_order trading.orders;
begin
    -- Broker feedback without a fill: submitted (with the broker id), cancelled, rejected, expired.
    -- Fills change the status through trading.record_fill only.
    if p_status is null or p_status not in ('submitted', 'cancelled', 'rejected', 'expired') then
        raise exception 'trading.set_order_status: status must be submitted, cancelled, rejected or expired (got %)',
            coalesce(p_status, 'NULL')
            using errcode = 'invalid_parameter_value',
            hint = 'partially_filled and filled follow from trading.record_fill.';
    end if;
    update trading.orders as o
    set status = p_status,
        status_reason = coalesce(p_reason, o.status_reason),
        broker_order_id = coalesce(p_broker_order_id, o.broker_order_id)
    where o.client_order_id = p_client_order_id
    returning * into v_order;
    if not found then
        raise exception 'trading.set_order_status: no order with client_order_id %', pg_catalog.quote_literal(p_client_order_id)
            using errcode = 'no_data_found';
    end if;
    perform trading._record_cancelled_entry(v_order.order_id);
    return v_order;
end;
$function$;

comment on function trading.set_order_status(text, text, text, text) is
'Move an order to submitted (optionally with the broker order id), cancelled, rejected or expired; '
'the state machine refuses illegal transitions. Returns the order row.';

revoke execute on function trading._orders_guard() from tsq_trader;
revoke execute on function trading._record_cancelled_entry(bigint) from tsq_trader;
