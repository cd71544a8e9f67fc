-- The audit trail: one trigger function writes who/when/what for every audited table, and the
-- audit table itself refuses updates, deletes and truncation (append-only).

-- Section: who is acting --------------------------------------------------------------------------
create or replace function trading.current_actor()
returns text
language sql
stable
security invoker
set search_path = ''
begin atomic
    -- The login role, plus the person named in the tsquant.actor setting when a tool set it.
    select session_user::text
        || coalesce(' (' || nullif(pg_catalog.current_setting('tsquant.actor', true), '') || ')', '');
end;

comment on function trading.current_actor() is
'Who is acting, for the audit trail: the login role, plus "(name)" when the session set '
'tsquant.actor (set tsquant.actor = ''alice'').';

-- Section: audit trigger ------------------------------------------------------------------------
create or replace function trading._audit()
returns trigger
language plpgsql
security definer
set search_path = ''
as $function$
declare
    v_old jsonb;
    v_new jsonb;
begin
    -- Append one audit row per changed row: old and new row as JSON, the key named by TG_ARGV[0].
    if tg_op in ('UPDATE', 'DELETE') then
        v_old := pg_catalog.to_jsonb(old);
    end if;
    if tg_op in ('INSERT', 'UPDATE') then
        v_new := pg_catalog.to_jsonb(new);
    end if;
    insert into trading.audit_log (actor, db_role, table_name, operation, row_key, old_row, new_row)
    values (
        trading.current_actor(),
        current_user,
        tg_table_schema || '.' || tg_table_name,
        tg_op,
        coalesce(v_new, v_old) ->> tg_argv[0],
        v_old,
        v_new
    );
    return null;
end;
$function$;

comment on function trading._audit() is
'Trigger function: writes the changed row (old and new, as JSON) with actor and time to trading.audit_log.';

do $attach$
declare
    v_table text;
    v_key text;
begin
    for v_table, v_key in
        select t.tbl, t.key from (values
            ('trading.strategies', 'strategy_id'),
            ('trading.orders', 'order_id'),
            ('trading.fills', 'fill_id'),
            ('risk.limits', 'id'),
            ('risk.instrument_limits', 'instrument_id'),
            ('risk.trading_state', 'id')
        ) as t (tbl, key)
    loop
        execute format('drop trigger if exists audit on %s', v_table);
        execute format(
            'create trigger audit after insert or update or delete on %s '
            'for each row execute function trading._audit(%L)',
            v_table, v_key
        );
    end loop;
end
$attach$;

-- Section: append-only ----------------------------------------------------------------------------
create or replace function trading._audit_log_append_only()
returns trigger
language plpgsql
security invoker
set search_path = ''
as $function$
begin
    -- The audit trail is evidence: it is never changed or removed, by anyone.
    raise exception 'trading.audit_log is append-only: % is not allowed', tg_op
        using errcode = 'insufficient_privilege';
end;
$function$;

comment on function trading._audit_log_append_only() is
'Trigger function: refuses UPDATE, DELETE and TRUNCATE on trading.audit_log.';

drop trigger if exists append_only on trading.audit_log;
create trigger append_only
before update or delete on trading.audit_log
for each row execute function trading._audit_log_append_only();

drop trigger if exists append_only_truncate on trading.audit_log;
create trigger append_only_truncate
before truncate on trading.audit_log
for each statement execute function trading._audit_log_append_only();

revoke execute on function trading._audit() from tsq_trader;
revoke execute on function trading._audit_log_append_only() from tsq_trader;
