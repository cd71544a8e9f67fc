-- tsquant:requires db/market/R__latest_close.sql
-- bi.market_watch (seed 004's live display, read by tsquant watch and Grafana): per instrument the
-- latest price, its change over 24 hours and the newest bid/ask spread.

create or replace view bi.market_watch as
select
    i.instrument_id,
    i.exchange,
    i.symbol,
    lc.price as last_price,
    lc.price_time,
    d.close as price_24h_ago,
    lc.price - d.close as change_24h,
    (lc.price / nullif(d.close, 0) - 1) * 100 as change_24h_pct,
    q.bid,
    q.ask,
    q.ask - q.bid as spread,
    (q.ask - q.bid) / nullif((q.ask + q.bid) / 2, 0) * 10000 as spread_bps,
    q.quote_time
from market.instruments as i
cross join lateral market.latest_close(i.instrument_id) as lc
left join lateral (
    select c.close
    from market.candles_1m as c
    where
        c.instrument_id = i.instrument_id
        and c.open_time <= lc.price_time - interval '24 hours 1 minute'
    order by c.open_time desc
    limit 1
) as d on true
left join lateral (  -- noqa: ST05
    select b.bid, b.ask, b.quote_time
    from (
        (
            select x.bid, x.ask, x.time as quote_time
            from market.quotes as x
            where x.instrument_id = i.instrument_id
            order by x.time desc
            limit 1
        )
        union all
        (
            select t.bid, t.ask, t.time as quote_time
            from market.ticker_snapshots as t
            where t.instrument_id = i.instrument_id and t.bid is not null and t.ask is not null
            order by t.time desc
            limit 1
        )
    ) as b
    order by b.quote_time desc
    limit 1
) as q on true
where lc.price is not null;

comment on view bi.market_watch is
'One row per instrument with candles: latest 1m close, change against the close printed 24 hours before it, '
'and the newest bid/ask (market.quotes or market.ticker_snapshots). tsquant watch shows it live.';
comment on column bi.market_watch.instrument_id is 'Instrument id.';
comment on column bi.market_watch.exchange is 'Venue.';
comment on column bi.market_watch.symbol is 'Canonical symbol.';
comment on column bi.market_watch.last_price is 'Close of the newest 1m candle.';
comment on column bi.market_watch.price_time is 'When that close was printed (end of the bar).';
comment on column bi.market_watch.price_24h_ago is 'Close printed at or before price_time − 24 h (NULL without that history).';
comment on column bi.market_watch.change_24h is 'last_price − price_24h_ago.';
comment on column bi.market_watch.change_24h_pct is 'Change over 24 h in percent.';
comment on column bi.market_watch.bid is 'Newest bid (quotes or ticker snapshot).';
comment on column bi.market_watch.ask is 'Newest ask.';
comment on column bi.market_watch.spread is 'ask − bid.';
comment on column bi.market_watch.spread_bps is 'Spread in basis points of the mid price.';
comment on column bi.market_watch.quote_time is 'Time of that bid/ask.';
