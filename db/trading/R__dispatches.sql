-- tsquant:requires db/trading/R__audit.sql
-- Writes of trading.dispatches (table: V0470__dispatches.sql): a decision is recorded once per
-- signal and mode; an order's dispatch then moves sending → acknowledged | rejected | failed, or
-- pending (known not executed) → sending again. Every change is audited.

-- Section: record a decision ----------------------------------------------------------------------
create or replace function trading.record_dispatch(
    p_signal_source text,
    p_instrument_id integer,
    p_timeframe text,
    p_bar_time timestamptz,
    p_signal_time timestamptz,
    p_direction text,
    p_signal_ref text,
    p_broker text,
    p_dry_run boolean,
    p_status text,
    p_reason text default null,
    p_client_order_id text default null,
    p_request jsonb default '{}'::jsonb,
    p_deadline timestamptz default null,
    p_run_id bigint default null
)
returns trading.dispatches
language plpgsql
security definer
set search_path = ''
as $function$
declare
    v_row trading.dispatches;
begin
    -- One decision per signal and mode: a second one for the same signal returns NULL (the
    -- caller treats the signal as decided). A new order's dispatch starts as sending with its
    -- first attempt counted: it is committed before the request leaves.
    if p_status is null or p_status not in ('refused', 'dry_run', 'sending') then
        raise exception 'trading.record_dispatch: a decision is refused, dry_run or sending (got %)',
            coalesce(p_status, 'NULL')
            using errcode = 'invalid_parameter_value';
    end if;
    insert into trading.dispatches as d (
        signal_source, instrument_id, timeframe, bar_time, signal_time, direction, signal_ref, broker,
        dry_run, status, reason, client_order_id, request, attempts, deadline, run_id
    )
    values (
        p_signal_source, p_instrument_id, p_timeframe, p_bar_time, p_signal_time, p_direction, p_signal_ref,
        p_broker, coalesce(p_dry_run, false), p_status, p_reason, p_client_order_id,
        coalesce(p_request, '{}'::jsonb), case when p_status = 'sending' then 1 else 0 end, p_deadline, p_run_id
    )
    on conflict (signal_source, instrument_id, timeframe, bar_time, dry_run) do nothing
    returning * into v_row;
    return v_row;
end;
$function$;

comment on function trading.record_dispatch(text, integer, text, timestamptz, timestamptz, text, text, text, boolean, text, text, text, jsonb, timestamptz, bigint) is
'Record the dispatcher''s decision about a signal: refused (no order), dry_run (request = what '
'would be sent) or sending (client_order_id of the order just created, deadline of the request). '
'Returns the row, or NULL when the signal already has a decision in that mode.';

-- Section: follow an order's dispatch -------------------------------------------------------------
create or replace function trading.update_dispatch(
    p_dispatch_id bigint,
    p_status text,
    p_reason text default null,
    p_response jsonb default null,
    p_deadline timestamptz default null,
    p_new_attempt boolean default false
)
returns trading.dispatches
language plpgsql
security definer
set search_path = ''
as $function$
declare
    v_row trading.dispatches;
begin
    -- sending → sending (p_new_attempt: the broker's history proved the last request void) |
    -- pending | acknowledged | rejected | failed; pending → sending (new attempt) | rejected |
    -- failed. refused, dry_run, acknowledged, rejected and failed are final.
    select * into v_row from trading.dispatches as d where d.dispatch_id = p_dispatch_id for update;
    if not found then
        raise exception 'trading.update_dispatch: no dispatch %', coalesce(p_dispatch_id::text, 'NULL')
            using errcode = 'no_data_found';
    end if;
    if not (
        (v_row.status = 'sending' and p_status in ('sending', 'pending', 'acknowledged', 'rejected', 'failed'))
        or (v_row.status = 'pending' and p_status in ('sending', 'rejected', 'failed'))
    ) then
        raise exception 'trading.update_dispatch: dispatch % cannot go from % to %',
            p_dispatch_id, v_row.status, coalesce(p_status, 'NULL')
            using errcode = 'object_not_in_prerequisite_state';
    end if;
    if coalesce(p_new_attempt, false) and p_status <> 'sending'
        or v_row.status = 'pending' and p_status = 'sending' and not coalesce(p_new_attempt, false) then
        raise exception 'trading.update_dispatch: a new attempt goes to sending, and sending a pending order is a new attempt'
            using errcode = 'invalid_parameter_value';
    end if;
    update trading.dispatches as d
    set status = p_status,
        reason = coalesce(p_reason, d.reason),
        response = coalesce(p_response, d.response),
        deadline = case when coalesce(p_new_attempt, false) then p_deadline else coalesce(p_deadline, d.deadline) end,
        attempts = d.attempts + case when coalesce(p_new_attempt, false) then 1 else 0 end,
        updated_at = pg_catalog.clock_timestamp()
    where d.dispatch_id = p_dispatch_id
    returning * into v_row;
    return v_row;
end;
$function$;

comment on function trading.update_dispatch(bigint, text, text, jsonb, timestamptz, boolean) is
'Move an order''s dispatch on: sending → pending (known not executed) | acknowledged | rejected | '
'failed, or sending again with p_new_attempt (a new request with a new deadline, only after the '
'broker''s history proved the previous one void); pending → sending (new attempt) | rejected | '
'failed. Refuses any other change. Returns the row.';

-- Section: audit --------------------------------------------------------------------------------
drop trigger if exists audit on trading.dispatches;
create trigger audit after insert or update or delete on trading.dispatches
for each row execute function trading._audit('dispatch_id');
