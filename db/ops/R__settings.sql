-- Typed settings: validation trigger, setter and getter for ops.settings.

create or replace function ops._settings_validate()
returns trigger
language plpgsql
as $function$
begin
    -- Refuse a value that does not parse as its declared type, so readers can cast safely.
    begin
        case new.value_type
            when 'integer' then perform new.value::bigint;
            when 'numeric' then perform new.value::numeric;
            when 'boolean' then perform new.value::boolean;
            when 'interval' then perform new.value::interval;
            when 'timestamptz' then perform new.value::timestamptz;
            when 'json' then perform new.value::jsonb;
            else null;
        end case;
    exception when data_exception then
        raise exception 'ops.settings: value % for setting % is not a valid %',
            pg_catalog.quote_literal(new.value), new.name, new.value_type
            using errcode = 'invalid_parameter_value';
    end;
    new.updated_at := pg_catalog.now();
    new.updated_by := current_user;
    return new;
end;
$function$;

comment on function ops._settings_validate() is
'Trigger function: checks that ops.settings.value parses as value_type and stamps updated_at/updated_by.';

drop trigger if exists settings_validate on ops.settings;
create trigger settings_validate
before insert or update on ops.settings
for each row execute function ops._settings_validate();

create or replace function ops.set_setting(
    p_name text,
    p_value text,
    p_value_type text default null,
    p_description text default null
)
returns void
language plpgsql
as $function$
begin
    -- Insert or update one setting; type and description are kept when not given.
    insert into ops.settings as s (name, value_type, value, description)
    values (
        p_name,
        coalesce(p_value_type, 'text'),
        p_value,
        coalesce(p_description, '')
    )
    on conflict (name) do update
    set value = excluded.value,
        value_type = coalesce(p_value_type, s.value_type),
        description = coalesce(p_description, s.description);
end;
$function$;

comment on function ops.set_setting(text, text, text, text) is
'Create or change a setting: ops.set_setting(name, value [, value_type [, description]]). The value must parse as the type.';

create or replace function ops.setting(p_name text)
returns text
language plpgsql
stable
as $function$
declare
    v_value text;
begin
    -- Read a setting; a missing one is an error rather than a silent NULL.
    select s.value into v_value from ops.settings as s where s.name = p_name;
    if not found then
        raise exception 'ops.setting: no setting named %', pg_catalog.quote_literal(p_name)
            using errcode = 'undefined_object';
    end if;
    return v_value;
end;
$function$;

comment on function ops.setting(text) is
'Value of a setting as text (cast it to its value_type); raises if the setting does not exist.';

grant execute on function ops.setting(text) to tsq_loader, tsq_analyst, tsq_trader;
