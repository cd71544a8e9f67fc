-- 30m, 2h and 1w become rollup timeframes (issue 9, item 3): the common timeframes users ask for
-- beyond the six rollups get market.candles_<tf> / bi.candles_<tf> and can be maintained.
-- rollup_parent names the level each rollup is built from (the hierarchy is a tree: 30m from 15m,
-- 2h from 1h, 1w from 1d); market.refresh_rollups() and the continuous aggregates follow it.

alter table market.timeframes add column rollup_parent text references market.timeframes (timeframe);

update market.timeframes as t
set is_rollup = true
where t.timeframe in ('30m', '2h', '1w');

update market.timeframes as t
set rollup_parent = p.parent
from (
    values ('5m', '1m'), ('15m', '5m'), ('30m', '15m'), ('1h', '15m'), ('2h', '1h'), ('4h', '1h'),
    ('1d', '4h'), ('1w', '1d')
) as p (timeframe, parent)
where t.timeframe = p.timeframe;

alter table market.timeframes add constraint timeframes_rollup_parent_is_rollup check (
    rollup_parent is null or is_rollup
);

comment on table market.timeframes is
'Candle timeframes known to the project (Binance/ccxt names). is_rollup marks the timeframes with '
'a market.candles_<tf> relation, built from trades, exchange 1m candles and exchange candles of '
'that timeframe (1m, 5m, 15m, 30m, 1h, 2h, 4h, 1d, 1w); the others can be stored in market.candles only.';
comment on column market.timeframes.is_rollup is
'True for the timeframes with market.candles_<tf> and bi.candles_<tf> relations (rollups of trades '
'and exchange 1m candles, plus exchange candles of the timeframe).';
comment on column market.timeframes.rollup_parent is
'Rollup level this timeframe is built from (1m for 5m, 15m for 30m and 1h, 1h for 2h and 4h, 4h '
'for 1d, 1d for 1w); NULL for 1m (built from trades / exchange 1m candles) and non-rollup timeframes.';
