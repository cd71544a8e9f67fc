-- The trading state and the limits: the drawdown kill switch that trails the equity peak and
-- latches HALTED, the manual states, the audited reset, and the setters of the limits.
-- Changing limits or leaving HALTED is for people: these functions are not granted to tsq_trader.

-- Section: shared readers -----------------------------------------------------------------------
create or replace function risk._latest_snapshot(out balance numeric, out equity numeric, out taken_at timestamptz)
language plpgsql
stable
security invoker
set search_path = ''
as $function$
begin
    -- PL/pgSQL so that the plan is cached for the session (an SQL function plans on every call;
    -- the readers of this section run for every order).
    select s.balance, s.equity, s.taken_at into balance, equity, taken_at
    from trading.portfolio_snapshots as s
    order by s.taken_at desc, s.snapshot_id desc
    limit 1;
end;
$function$;

comment on function risk._latest_snapshot() is 'Private: balance, equity and time of the latest portfolio snapshot.';

create or replace function risk.day_start(p_at timestamptz default now())
returns timestamptz
language plpgsql
stable
security invoker
set search_path = ''
as $function$
declare
    v_zone text;
begin
    -- Midnight of p_at's day in the daily-loss time zone (risk.limits.daily_loss_time_zone).
    select l.daily_loss_time_zone into v_zone from risk.limits as l where l.id;
    return (pg_catalog.date_trunc('day', p_at at time zone v_zone)) at time zone v_zone;
end;
$function$;

comment on function risk.day_start(timestamptz) is
'Start of the trading day containing p_at: midnight in risk.limits.daily_loss_time_zone (e.g. UTC, or the broker server''s zone).';

create or replace function risk.day_opening_balance(p_at timestamptz default now())
returns numeric
language plpgsql
stable
security invoker
set search_path = ''
as $function$
declare
    v_day_start timestamptz := risk.day_start(p_at);
    v_balance numeric;
begin
    -- The balance the day opened with: the last snapshot before the day started, or else the
    -- day's first snapshot.
    select s.balance into v_balance
    from trading.portfolio_snapshots as s
    where s.taken_at < v_day_start
    order by s.taken_at desc, s.snapshot_id desc
    limit 1;
    if not found then
        select s.balance into v_balance
        from trading.portfolio_snapshots as s
        where s.taken_at >= v_day_start and s.taken_at <= p_at
        order by s.taken_at, s.snapshot_id
        limit 1;
    end if;
    return v_balance;
end;
$function$;

comment on function risk.day_opening_balance(timestamptz) is
'Balance at the start of the trading day (the last snapshot before risk.day_start, else the day''s first snapshot).';

-- Section: the kill switch ------------------------------------------------------------------------
create or replace function risk._track_equity(p_equity numeric, p_at timestamptz)
returns void
language plpgsql
security invoker
set search_path = ''
as $function$
declare
    v_state risk.trading_state;
    v_max_dd numeric;
    v_drawdown numeric;
begin
    -- Trail the equity peak; when equity is max_drawdown_pct below it, latch HALTED (only a
    -- person leaves it, with risk.reset_trading_state) and raise a critical event.
    select * into strict v_state from risk.trading_state as t where t.id for update;
    if v_state.peak_equity is null or p_equity > v_state.peak_equity then
        update risk.trading_state as t set peak_equity = p_equity, peak_at = p_at where t.id;
        return;
    end if;
    select l.max_drawdown_pct into v_max_dd from risk.limits as l where l.id;
    if v_max_dd is null or v_state.peak_equity <= 0 or v_state.state = 'HALTED' then
        return;
    end if;
    v_drawdown := (p_equity - v_state.peak_equity) / v_state.peak_equity;
    if v_drawdown <= -v_max_dd then
        update risk.trading_state as t
        set state = 'HALTED',
            reason = format('kill switch: equity %s is %s %% below the peak %s (limit %s %%)',
                p_equity, round(-v_drawdown * 100, 2), v_state.peak_equity, round(v_max_dd * 100, 2)),
            changed_at = pg_catalog.now(),
            changed_by = 'risk.kill_switch'
        where t.id;
        insert into ops.events (source, event_type, severity, message, details)
        values ('risk', 'kill_switch_tripped', 'critical',
                'The drawdown kill switch halted trading until a person resets it.',
                pg_catalog.jsonb_build_object('equity', p_equity, 'peak_equity', v_state.peak_equity,
                                              'max_drawdown_pct', v_max_dd));
    end if;
end;
$function$;

comment on function risk._track_equity(numeric, timestamptz) is
'Private: trails the equity peak and latches HALTED when the drawdown limit is reached (called for every portfolio snapshot).';

-- Section: states ---------------------------------------------------------------------------------
create or replace function risk.set_trading_state(p_state text, p_reason text)
returns risk.trading_state
language plpgsql
security definer
set search_path = ''
as $function$
declare
    v_state risk.trading_state;
begin
    -- A person moves trading to REDUCING (exits only) or HALTED (kill switch by hand), or back
    -- from REDUCING to ACTIVE. Leaving HALTED takes risk.reset_trading_state.
    if p_state is null or p_state not in ('ACTIVE', 'REDUCING', 'HALTED') then
        raise exception 'risk.set_trading_state: state must be ACTIVE, REDUCING or HALTED (got %)', coalesce(p_state, 'NULL')
            using errcode = 'invalid_parameter_value';
    end if;
    if coalesce(btrim(p_reason), '') = '' then
        raise exception 'risk.set_trading_state: give a reason' using errcode = 'invalid_parameter_value';
    end if;
    select * into strict v_state from risk.trading_state as t where t.id for update;
    if v_state.state = 'HALTED' and p_state <> 'HALTED' then
        raise exception 'risk.set_trading_state: trading is HALTED (%); only risk.reset_trading_state(reason) leaves it', v_state.reason
            using errcode = 'object_not_in_prerequisite_state';
    end if;
    update risk.trading_state as t
    set state = p_state, reason = p_reason, changed_at = pg_catalog.now(), changed_by = trading.current_actor()
    where t.id
    returning * into v_state;
    return v_state;
end;
$function$;

comment on function risk.set_trading_state(text, text) is
'Set the trading state by hand (ACTIVE, REDUCING = only exits, HALTED = only exits until reset), with a reason; audited. Cannot leave HALTED.';

create or replace function risk.reset_trading_state(p_reason text)
returns risk.trading_state
language plpgsql
security definer
set search_path = ''
as $function$
declare
    v_state risk.trading_state;
    v_equity numeric;
begin
    -- The person's reset of the latch: back to ACTIVE, with the equity peak restarted at the
    -- current equity (otherwise the next snapshot would trip the switch again). Audited.
    if coalesce(btrim(p_reason), '') = '' then
        raise exception 'risk.reset_trading_state: give a reason' using errcode = 'invalid_parameter_value';
    end if;
    select * into strict v_state from risk.trading_state as t where t.id for update;
    select s.equity into v_equity from risk._latest_snapshot() as s;
    update risk.trading_state as t
    set state = 'ACTIVE',
        reason = 'reset: ' || p_reason,
        changed_at = pg_catalog.now(),
        changed_by = trading.current_actor(),
        peak_equity = v_equity,
        peak_at = pg_catalog.now()
    where t.id
    returning * into v_state;
    insert into ops.events (source, event_type, severity, message, details)
    values ('risk', 'trading_state_reset', 'warning', 'Trading state reset to ACTIVE by a person.',
            pg_catalog.jsonb_build_object('actor', trading.current_actor(), 'reason', p_reason));
    return v_state;
end;
$function$;

comment on function risk.reset_trading_state(text) is
'A person''s reset of the kill switch: HALTED (or REDUCING) → ACTIVE, equity peak restarted at the latest equity; audited with the reason.';

-- Section: limits ---------------------------------------------------------------------------------
create or replace function risk.set_limit(p_name text, p_value text)
returns risk.limits
language plpgsql
security definer
set search_path = ''
as $function$
declare
    v_type text;
    v_limits risk.limits;
begin
    -- Change one limit of risk.limits by column name (NULL switches a rule off); audited.
    select pg_catalog.format_type(a.atttypid, a.atttypmod) into v_type
    from pg_catalog.pg_attribute as a
    where a.attrelid = 'risk.limits'::regclass and a.attname = p_name and a.attnum > 0
        and not a.attisdropped and a.attname not in ('id', 'updated_at', 'updated_by');
    if not found then
        raise exception 'risk.set_limit: no limit named % (see the columns of risk.limits)', coalesce(pg_catalog.quote_literal(p_name), 'NULL')
            using errcode = 'undefined_column';
    end if;
    if p_name = 'daily_loss_time_zone'
        and not exists (select from pg_catalog.pg_timezone_names as z where z.name = p_value) then
        raise exception 'risk.set_limit: unknown time zone %', coalesce(pg_catalog.quote_literal(p_value), 'NULL')
            using errcode = 'invalid_parameter_value';
    end if;
    execute format(
        'update risk.limits set %I = $1::%s, updated_at = pg_catalog.now(), updated_by = trading.current_actor() where id returning *',
        p_name, v_type
    ) into v_limits using p_value;
    return v_limits;
end;
$function$;

comment on function risk.set_limit(text, text) is
'Set one risk limit by name, e.g. risk.set_limit(''max_daily_loss_pct'', ''0.03''); NULL switches the rule off. Audited.';

create or replace function risk.set_instrument_limit(
    p_instrument_id integer, p_max_position_quantity numeric, p_max_instrument_exposure numeric
)
returns void
language sql
security definer
set search_path = ''
begin atomic
    insert into risk.instrument_limits as l (instrument_id, max_position_quantity, max_instrument_exposure)
    values (p_instrument_id, p_max_position_quantity, p_max_instrument_exposure)
    on conflict (instrument_id) do update
    set max_position_quantity = excluded.max_position_quantity,
        max_instrument_exposure = excluded.max_instrument_exposure,
        updated_at = pg_catalog.now();
end;

comment on function risk.set_instrument_limit(integer, numeric, numeric) is
'Per-instrument position limits overriding risk.limits (NULL = use the global limit). Audited.';

revoke execute on function risk.set_trading_state(text, text) from tsq_trader;
revoke execute on function risk.reset_trading_state(text) from tsq_trader;
revoke execute on function risk.set_limit(text, text) from tsq_trader;
revoke execute on function risk.set_instrument_limit(integer, numeric, numeric) from tsq_trader;
revoke execute on function risk._track_equity(numeric, timestamptz) from tsq_trader;
