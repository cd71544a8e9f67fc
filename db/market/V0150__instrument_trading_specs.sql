-- market.instrument_specs: the trading specs of an instrument that order sizing needs (tick size
-- and value, volume min/step/max, contract size), beside market.instruments. Exchanges and MT5
-- publish them; risk.position_size(instrument_id, …) reads them through
-- market.instrument_trading_specs, which falls back to market.instruments for the columns both have.

create table market.instrument_specs (
    instrument_id integer primary key references market.instruments (instrument_id) on delete cascade,
    tick_size numeric,
    tick_value numeric,
    contract_size numeric not null default 1,
    volume_min numeric,
    volume_step numeric,
    volume_max numeric,
    commission_per_lot numeric not null default 0,
    updated_at timestamptz not null default now(),
    constraint instrument_specs_tick_size_positive check (tick_size > 0),
    constraint instrument_specs_tick_value_positive check (tick_value > 0),
    constraint instrument_specs_contract_size_positive check (contract_size > 0),
    constraint instrument_specs_volume_min_non_negative check (volume_min >= 0),
    constraint instrument_specs_volume_step_positive check (volume_step > 0),
    constraint instrument_specs_volume_max_valid check (volume_max > 0 and volume_max >= volume_min),
    constraint instrument_specs_commission_non_negative check (commission_per_lot >= 0)
);

comment on table market.instrument_specs is
'Trading specs of an instrument (MT5 SYMBOL_TRADE_TICK_SIZE/VALUE, SYMBOL_VOLUME_MIN/STEP/MAX, '
'SYMBOL_TRADE_CONTRACT_SIZE; exchange filters for crypto). Exact numeric. Set with '
'market.set_instrument_specs(); read resolved values from market.instrument_trading_specs.';
comment on column market.instrument_specs.instrument_id is 'The instrument (market.instruments).';
comment on column market.instrument_specs.tick_size is 'Smallest price change; NULL = market.instruments.tick_size.';
comment on column market.instrument_specs.tick_value is
'Account-currency value of one tick for one lot; NULL = tick_size × contract_size (quote currency = account currency).';
comment on column market.instrument_specs.contract_size is 'Units of the base asset in one lot (1 for crypto spot, 100000 for a standard FX lot).';
comment on column market.instrument_specs.volume_min is 'Smallest order volume in lots; NULL = market.instruments.min_quantity, else volume_step.';
comment on column market.instrument_specs.volume_step is 'Volume increment in lots; NULL = market.instruments.lot_step.';
comment on column market.instrument_specs.volume_max is 'Largest order volume in lots; NULL = no maximum.';
comment on column market.instrument_specs.commission_per_lot is 'Round-trip commission per lot in account currency (used by position sizing).';
comment on column market.instrument_specs.updated_at is 'When the specs last changed.';

revoke insert, update, delete, truncate on market.instrument_specs from tsq_loader;
grant select on market.instrument_specs to tsq_loader, tsq_analyst, tsq_trader;
