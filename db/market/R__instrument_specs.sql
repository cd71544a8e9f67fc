-- Resolved instrument trading specs and their setter (table: V0150__instrument_trading_specs.sql).

create or replace view market.instrument_trading_specs as
select
    i.instrument_id,
    i.exchange,
    i.symbol,
    coalesce(s.tick_size, i.tick_size) as tick_size,
    coalesce(s.tick_value, coalesce(s.tick_size, i.tick_size) * coalesce(s.contract_size, 1)) as tick_value,
    coalesce(s.contract_size, 1) as contract_size,
    coalesce(s.volume_min, i.min_quantity, s.volume_step, i.lot_step) as volume_min,
    coalesce(s.volume_step, i.lot_step) as volume_step,
    s.volume_max,
    coalesce(s.commission_per_lot, 0) as commission_per_lot
from market.instruments as i
left join market.instrument_specs as s on i.instrument_id = s.instrument_id;

comment on view market.instrument_trading_specs is
'Trading specs per instrument with the fallbacks applied: market.instrument_specs first, then '
'market.instruments (tick_size, lot_step, min_quantity); tick_value defaults to tick_size × '
'contract_size. NULL where nothing is known.';
comment on column market.instrument_trading_specs.instrument_id is 'The instrument.';
comment on column market.instrument_trading_specs.exchange is 'Venue, lower case.';
comment on column market.instrument_trading_specs.symbol is 'Canonical symbol BASE/QUOTE.';
comment on column market.instrument_trading_specs.tick_size is 'Smallest price change.';
comment on column market.instrument_trading_specs.tick_value is 'Value of one tick for one lot, account currency.';
comment on column market.instrument_trading_specs.contract_size is 'Base units per lot.';
comment on column market.instrument_trading_specs.volume_min is 'Smallest order volume (lots).';
comment on column market.instrument_trading_specs.volume_step is 'Volume increment (lots).';
comment on column market.instrument_trading_specs.volume_max is 'Largest order volume (lots); NULL = none.';
comment on column market.instrument_trading_specs.commission_per_lot is 'Commission per lot, account currency.';

create or replace function market.set_instrument_specs(
    p_instrument_id integer,
    p_tick_size numeric default null,
    p_tick_value numeric default null,
    p_contract_size numeric default 1,
    p_volume_min numeric default null,
    p_volume_step numeric default null,
    p_volume_max numeric default null,
    p_commission_per_lot numeric default 0
)
returns void
language sql
security definer
set search_path = ''
begin atomic
    insert into market.instrument_specs as s (
        instrument_id, tick_size, tick_value, contract_size, volume_min, volume_step, volume_max,
        commission_per_lot
    )
    values (
        p_instrument_id, p_tick_size, p_tick_value, p_contract_size, p_volume_min, p_volume_step,
        p_volume_max, p_commission_per_lot
    )
    on conflict (instrument_id) do update
    set tick_size = excluded.tick_size,
        tick_value = excluded.tick_value,
        contract_size = excluded.contract_size,
        volume_min = excluded.volume_min,
        volume_step = excluded.volume_step,
        volume_max = excluded.volume_max,
        commission_per_lot = excluded.commission_per_lot,
        updated_at = pg_catalog.now();
end;

comment on function market.set_instrument_specs(integer, numeric, numeric, numeric, numeric, numeric, numeric, numeric) is
'Create or replace the trading specs of an instrument (all of them: a NULL clears a value back to its fallback).';

revoke execute on function market.set_instrument_specs(integer, numeric, numeric, numeric, numeric, numeric, numeric, numeric) from tsq_analyst, tsq_trader;
grant execute on function market.set_instrument_specs(integer, numeric, numeric, numeric, numeric, numeric, numeric, numeric) to tsq_loader;
