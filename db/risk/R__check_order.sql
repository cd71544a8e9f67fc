-- tsquant:requires db/risk/R__state.sql
-- risk.check_order: every pre-trade rule, in one place (seed 001 can_open_position). It is run by
-- trading.submit_order before an order row exists; anyone may call it to ask "would this pass?".

create or replace function risk.check_order(
    p_instrument_id integer,
    p_side text,
    p_quantity numeric,
    p_price numeric default null,
    out allowed boolean,
    out reason text,
    out reduces_position boolean
)
language plpgsql
stable
security invoker
set search_path = ''
as $function$
declare
    v_limits risk.limits;
    v_state risk.trading_state;
    v_position numeric := 0;
    v_new_position numeric;
    v_sign integer;
    v_price numeric;
    v_price_time timestamptz;
    v_cs numeric;
    v_exposure numeric;
    v_other numeric;
    v_missing text;
    v_stale text;
    v_snapshot record;
    v_opening numeric;
    v_max_qty numeric;
    v_max_exposure numeric;
    v_rate risk.order_rate;
begin
    -- Limits stop entries, never exits: an order that only reduces the open position (opposite
    -- side, quantity ≤ |position|) passes in every state. Entries face, in order: the trading
    -- state, known prices and equity (unknown state fails closed), position size, exposure per
    -- instrument and in total, the daily loss limit, the drawdown limit and the order rate.
    allowed := false;
    reduces_position := false;
    if p_side is null or p_side not in ('buy', 'sell') then
        reason := format('side must be buy or sell (got %s)', coalesce(p_side, 'NULL'));
        return;
    end if;
    if p_quantity is null or p_quantity <= 0 then
        reason := format('quantity must be positive (got %s)', coalesce(p_quantity::text, 'NULL'));
        return;
    end if;
    if not exists (select from market.instruments as i where i.instrument_id = p_instrument_id) then
        reason := format('unknown instrument %s', coalesce(p_instrument_id::text, 'NULL'));
        return;
    end if;
    select * into v_limits from risk.limits as l where l.id;
    select * into v_state from risk.trading_state as t where t.id;
    if v_limits.id is null or v_state.id is null then
        reason := 'unknown risk state: risk.limits or risk.trading_state has no row';
        return;
    end if;

    select p.quantity into v_position from trading.positions as p where p.instrument_id = p_instrument_id;
    v_position := coalesce(v_position, 0);
    v_sign := case p_side when 'buy' then 1 else -1 end;
    v_new_position := v_position + v_sign * p_quantity;
    reduces_position := v_position <> 0 and pg_catalog.sign(v_position) <> v_sign and p_quantity <= abs(v_position);
    if reduces_position then
        allowed := true;
        reason := 'ok: reduces the open position';
        return;
    end if;

    if v_state.state <> 'ACTIVE' then
        reason := format('trading is %s (%s): only orders that reduce a position are accepted', v_state.state, v_state.reason);
        return;
    end if;

    -- Unknown state fails closed: a price and an equity snapshot, both fresh enough.
    if p_price is not null then
        v_price := p_price;
    else
        select lc.price::numeric, lc.price_time into v_price, v_price_time from market.latest_close(p_instrument_id) as lc;
        if v_price is null then
            reason := format('no price for instrument %s (no candle): cannot check the order', p_instrument_id);
            return;
        end if;
        if v_limits.max_price_age is not null and v_price_time < pg_catalog.now() - v_limits.max_price_age then
            reason := format('stale price for instrument %s: last close at %s is older than %s',
                             p_instrument_id, v_price_time, v_limits.max_price_age);
            return;
        end if;
    end if;
    select s.balance, s.equity, s.taken_at into v_snapshot from risk._latest_snapshot() as s;
    if v_snapshot.equity is null then
        reason := 'no equity snapshot: record one with trading.record_portfolio_snapshot';
        return;
    end if;
    if v_limits.max_snapshot_age is not null and v_snapshot.taken_at < pg_catalog.now() - v_limits.max_snapshot_age then
        reason := format('stale equity: the latest snapshot (%s) is older than %s', v_snapshot.taken_at, v_limits.max_snapshot_age);
        return;
    end if;

    -- Position size and exposure after the order.
    select coalesce(il.max_position_quantity, v_limits.max_position_quantity),
           coalesce(il.max_instrument_exposure, v_limits.max_instrument_exposure)
    into v_max_qty, v_max_exposure
    from (select) as dummy
    left join risk.instrument_limits as il on il.instrument_id = p_instrument_id;
    if v_max_qty is not null and abs(v_new_position) > v_max_qty then
        reason := format('max position size: the position after the order would be %s, the limit is %s',
                         abs(v_new_position), v_max_qty);
        return;
    end if;
    select coalesce(s.contract_size, 1) into v_cs from market.instrument_trading_specs as s where s.instrument_id = p_instrument_id;
    v_exposure := abs(v_new_position) * v_price * coalesce(v_cs, 1);
    if v_max_exposure is not null and v_exposure > v_max_exposure then
        reason := format('max exposure for instrument %s: %s after the order, the limit is %s',
                         p_instrument_id, round(v_exposure, 2), v_max_exposure);
        return;
    end if;
    if v_limits.max_total_exposure is not null then
        -- the held instruments are priced at their latest close, which must be as fresh as the
        -- ordered one's (max_price_age): a stale close would make the total look known
        select sum(abs(p.quantity) * lc.price::numeric * coalesce(s.contract_size, 1)),
               string_agg(p.instrument_id::text, ', ') filter (where lc.price is null),
               string_agg(p.instrument_id::text, ', ') filter (where lc.price_time < pg_catalog.now() - v_limits.max_price_age)
        into v_other, v_missing, v_stale
        from trading.positions as p
        cross join lateral market.latest_close(p.instrument_id) as lc
        left join market.instrument_trading_specs as s on p.instrument_id = s.instrument_id
        where p.quantity <> 0 and p.instrument_id <> p_instrument_id;
        if v_missing is not null then
            reason := format('no price for held instrument(s) %s: total exposure unknown', v_missing);
            return;
        end if;
        if v_stale is not null then
            reason := format('stale price for held instrument(s) %s: total exposure unknown (last close older than %s)',
                             v_stale, v_limits.max_price_age);
            return;
        end if;
        if coalesce(v_other, 0) + v_exposure > v_limits.max_total_exposure then
            reason := format('max total exposure: %s after the order, the limit is %s',
                             round(coalesce(v_other, 0) + v_exposure, 2), v_limits.max_total_exposure);
            return;
        end if;
    end if;

    -- Daily loss on equity against the day's opening balance (configurable time zone).
    if v_limits.max_daily_loss_pct is not null then
        v_opening := risk.day_opening_balance(pg_catalog.now());
        if v_opening is null or v_opening <= 0 then
            reason := 'unknown opening balance of the day: cannot check the daily loss limit';
            return;
        end if;
        if (v_snapshot.equity - v_opening) / v_opening <= -v_limits.max_daily_loss_pct then
            reason := format('daily loss limit: equity %s is %s %% below the day''s opening balance %s (limit %s %%, day starts %s)',
                             v_snapshot.equity, round((v_opening - v_snapshot.equity) / v_opening * 100, 2), v_opening,
                             round(v_limits.max_daily_loss_pct * 100, 2), risk.day_start(pg_catalog.now()));
            return;
        end if;
    end if;

    -- Drawdown from the equity peak (the latch itself is set when a snapshot is recorded).
    if v_limits.max_drawdown_pct is not null and v_state.peak_equity > 0
        and (v_snapshot.equity - v_state.peak_equity) / v_state.peak_equity <= -v_limits.max_drawdown_pct then
        reason := format('max drawdown: equity %s is %s %% below the peak %s (limit %s %%)',
                         v_snapshot.equity, round((v_state.peak_equity - v_snapshot.equity) / v_state.peak_equity * 100, 2),
                         v_state.peak_equity, round(v_limits.max_drawdown_pct * 100, 2));
        return;
    end if;

    -- Order rate (fixed windows of order_rate_window).
    if v_limits.max_orders_per_window is not null then
        select * into v_rate from risk.order_rate as r where r.id;
        if pg_catalog.clock_timestamp() < v_rate.window_start + v_limits.order_rate_window
            and v_rate.order_count >= v_limits.max_orders_per_window then
            reason := format('max order rate: %s orders in the current %s window', v_rate.order_count, v_limits.order_rate_window);
            return;
        end if;
    end if;

    allowed := true;
    reason := 'ok';
end;
$function$;

comment on function risk.check_order(integer, text, numeric, numeric) is
'Pre-trade check (seed 001 can_open_position): allowed, reason, and whether the order only '
'reduces the open position. Exits always pass; entries need trading state ACTIVE, a fresh price '
'(p_price, else the latest 1m close) and equity snapshot (unknown state fails closed; so do held '
'instruments without a fresh close when total exposure is limited), and must '
'stay within max position size, max exposure per instrument and in total, the daily loss limit '
'(equity vs the day''s opening balance in risk.limits.daily_loss_time_zone), the max drawdown '
'from the equity peak, and the order rate. trading.submit_order enforces it.';
