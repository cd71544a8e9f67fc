-- tsquant:requires db/bi/R__trading.sql
-- bi.positions (seed 003 positions, served by GET /api/v1/historical/positions?status=open|closed):
-- one row per round trip that has a fill, open or closed, with the live figures of the open one.

create or replace view bi.positions as
select
    t.trade_id as position_id,
    t.exchange,
    t.symbol,
    t.instrument_id,
    t.strategy,
    t.direction,
    lower(t.status) as status,
    t.entry_time as opened_at,
    t.entry_price,
    t.exit_time as closed_at,
    t.exit_price,
    t.quantity,
    p.quantity as open_quantity,
    p.average_entry_price,
    p.last_close,
    p.unrealized_pnl,
    t.pnl as realized_pnl,
    t.pnl_percent,
    t.fees,
    t.stop_loss,
    t.take_profit
from bi.trade_history as t
left join bi.open_positions as p on t.status = 'OPEN' and t.instrument_id = p.instrument_id
where t.status in ('OPEN', 'CLOSED');

comment on view bi.positions is
'Positions (seed 003 positions): one row per round trip, status open or closed; the open one carries '
'its net quantity, average entry and unrealized P/L at the latest close (bi.open_positions).';
comment on column bi.positions.position_id is 'Round-trip id (trading.round_trips.trade_id).';
comment on column bi.positions.exchange is 'Venue.';
comment on column bi.positions.symbol is 'Canonical symbol.';
comment on column bi.positions.instrument_id is 'Instrument id.';
comment on column bi.positions.strategy is 'Strategy of the opening order (NULL: manual).';
comment on column bi.positions.direction is 'long or short.';
comment on column bi.positions.status is 'open or closed.';
comment on column bi.positions.opened_at is 'First opening fill.';
comment on column bi.positions.entry_price is 'Average opening price.';
comment on column bi.positions.closed_at is 'Fill that made the position flat (NULL while open).';
comment on column bi.positions.exit_price is 'Average closing price (NULL before any exit).';
comment on column bi.positions.quantity is 'Quantity opened.';
comment on column bi.positions.open_quantity is 'Signed net quantity still open (NULL when closed).';
comment on column bi.positions.average_entry_price is 'Average cost of the open quantity (NULL when closed).';
comment on column bi.positions.last_close is 'Latest 1m close, the mark price (NULL when closed).';
comment on column bi.positions.unrealized_pnl is 'Open quantity × (last close − average entry) × contract size (NULL when closed).';
comment on column bi.positions.realized_pnl is 'Realized P/L so far, net of fees.';
comment on column bi.positions.pnl_percent is 'Realized P/L / entry notional × 100.';
comment on column bi.positions.fees is 'Fees of the round trip.';
comment on column bi.positions.stop_loss is 'Stop loss of the opening order.';
comment on column bi.positions.take_profit is 'Take profit of the opening order.';
