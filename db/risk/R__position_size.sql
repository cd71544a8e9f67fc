-- risk.position_size: MetaTrader-style order sizing (REFERENCE.md §3), and an overload that reads
-- the instrument's trading specs.

create or replace function risk.position_size(
    equity numeric,
    risk_per_trade numeric,
    entry numeric,
    stop_loss numeric,
    tick_size numeric,
    tick_value numeric,
    volume_step numeric,
    volume_min numeric,
    volume_max numeric,
    commission_per_lot numeric default 0
)
returns numeric
language plpgsql
immutable
parallel safe
security invoker
set search_path = ''
as $function$
declare
    v_risk_money numeric;
    v_loss_ticks numeric;   -- loss per lot × tick_size (exact: no division)
    v_volume numeric;
begin
    -- risk money = equity × risk_per_trade; loss per lot = |entry − stop| / tick_size × tick_value
    -- + commission per lot; volume = floor(risk money / loss per lot / step) × step; below the
    -- minimum volume there is no trade (never round up); above the maximum it is clamped.
    if equity is null or risk_per_trade is null or entry is null or stop_loss is null or tick_size is null
        or tick_value is null or volume_step is null or volume_min is null or volume_max is null
        or commission_per_lot is null then
        raise exception 'risk.position_size: every argument is required (got a NULL)'
            using errcode = 'null_value_not_allowed';
    end if;
    if risk_per_trade <= 0 or risk_per_trade > 1 then
        raise exception 'risk.position_size: risk_per_trade is a fraction of equity in (0, 1] (got %)', risk_per_trade
            using errcode = 'invalid_parameter_value';
    end if;
    if entry <= 0 or stop_loss <= 0 or tick_size <= 0 or tick_value <= 0 or volume_step <= 0
        or volume_min < 0 or volume_max <= 0 or volume_max < volume_min or commission_per_lot < 0 then
        raise exception 'risk.position_size: prices, tick size, tick value, volume step and maximum must be positive, the minimum volume and commission not negative, and the maximum at least the minimum'
            using errcode = 'invalid_parameter_value';
    end if;
    v_loss_ticks := abs(entry - stop_loss) * tick_value + commission_per_lot * tick_size;
    if v_loss_ticks = 0 then
        raise exception 'risk.position_size: the stop loss equals the entry and there is no commission: nothing bounds the loss'
            using errcode = 'invalid_parameter_value';
    end if;
    if equity <= 0 then
        return 0;
    end if;
    v_risk_money := equity * risk_per_trade;
    v_volume := floor(v_risk_money * tick_size / v_loss_ticks / volume_step) * volume_step;
    -- numeric division rounds its last digit: step down until the risk holds exactly
    while v_volume > 0 and v_volume * v_loss_ticks > v_risk_money * tick_size loop
        v_volume := v_volume - volume_step;
    end loop;
    if v_volume < volume_min or v_volume <= 0 then
        return 0;
    end if;
    return least(v_volume, volume_max);
end;
$function$;

comment on function risk.position_size(numeric, numeric, numeric, numeric, numeric, numeric, numeric, numeric, numeric, numeric) is
'MetaTrader-style position size in lots (REFERENCE.md §3): risk money = equity × risk_per_trade '
'(a fraction, 0.01 = 1 %); loss per lot = |entry − stop_loss| / tick_size × tick_value + '
'commission_per_lot; volume = floor(risk money / loss per lot / volume_step) × volume_step; 0 '
'(no trade) when that is below volume_min — never rounded up; clamped to volume_max. The loss '
'at the stop never exceeds the risk money (exact numeric).';

create or replace function risk.position_size(
    instrument_id integer,
    equity numeric,
    risk_per_trade numeric,
    entry numeric,
    stop_loss numeric
)
returns numeric
language plpgsql
stable
security invoker
set search_path = ''
as $function$
declare
    v_specs market.instrument_trading_specs;
begin
    -- The same sizing with the instrument's specs (market.instrument_trading_specs).
    select * into v_specs from market.instrument_trading_specs as s where s.instrument_id = position_size.instrument_id;
    if not found then
        raise exception 'risk.position_size: no instrument with id %', position_size.instrument_id
            using errcode = 'no_data_found';
    end if;
    if v_specs.tick_size is null or v_specs.volume_step is null then
        raise exception 'risk.position_size: instrument % (%) has no tick size or volume step',
            v_specs.instrument_id, v_specs.symbol
            using errcode = 'invalid_parameter_value',
            hint = 'Set them with market.set_instrument_specs().';
    end if;
    return risk.position_size(
        equity, risk_per_trade, entry, stop_loss, v_specs.tick_size, v_specs.tick_value,
        v_specs.volume_step, v_specs.volume_min, coalesce(v_specs.volume_max, 'Infinity'::numeric),
        v_specs.commission_per_lot
    );
end;
$function$;

comment on function risk.position_size(integer, numeric, numeric, numeric, numeric) is
'risk.position_size with the instrument''s trading specs (market.instrument_trading_specs: tick '
'size and value, volume min/step/max, commission per lot).';
