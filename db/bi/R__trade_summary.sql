-- tsquant:requires db/bi/R__trading.sql
-- bi.trade_summary (seed 003 trades/summary, served by GET /api/v1/historical/trades/summary):
-- totals of the closed round trips in a date range.

create or replace function bi.trade_summary(
    p_start_date date default null,
    p_end_date date default null,
    p_symbol text default null,
    p_strategy text default null
)
returns table (
    start_date date,
    end_date date,
    total_trades bigint,
    winning_trades bigint,
    losing_trades bigint,
    win_rate float8,
    net_pnl numeric,
    gross_profit numeric,
    gross_loss numeric,
    profit_factor numeric,
    average_pnl numeric,
    best_trade numeric,
    worst_trade numeric,
    total_fees numeric
)
language sql
stable
parallel safe
security invoker
begin atomic
    -- Closed round trips whose exit falls in [p_start_date, p_end_date] (UTC days, both
    -- inclusive); always one row. A trade with P/L 0 counts in total_trades but is neither a win nor a loss.
    with args as (
        select p_start_date, p_end_date, p_symbol, p_strategy
    )

    select
        a.p_start_date as start_date,
        a.p_end_date as end_date,
        count(t.trade_id) as total_trades,
        count(*) filter (where t.pnl > 0) as winning_trades,
        count(*) filter (where t.pnl < 0) as losing_trades,
        (count(*) filter (where t.pnl > 0))::float8 / nullif(count(t.trade_id), 0) as win_rate,
        coalesce(sum(t.pnl), 0) as net_pnl,
        coalesce(sum(t.pnl) filter (where t.pnl > 0), 0) as gross_profit,
        coalesce(sum(t.pnl) filter (where t.pnl < 0), 0) as gross_loss,
        sum(t.pnl) filter (where t.pnl > 0) / nullif(-sum(t.pnl) filter (where t.pnl < 0), 0) as profit_factor,
        avg(t.pnl) as average_pnl,
        max(t.pnl) as best_trade,
        min(t.pnl) as worst_trade,
        coalesce(sum(t.fees), 0) as total_fees
    from args as a
    left join bi.trade_history as t
        on
            t.status = 'CLOSED'
        and (a.p_start_date is null or a.p_start_date::timestamp at time zone 'UTC' <= t.exit_time)
        and (a.p_end_date is null or (a.p_end_date + 1)::timestamp at time zone 'UTC' > t.exit_time)
        and (a.p_symbol is null or a.p_symbol = t.symbol)
        and (a.p_strategy is null or a.p_strategy = t.strategy)
    group by a.p_start_date, a.p_end_date;
end;

comment on function bi.trade_summary(date, date, text, text) is
'Totals of the closed round trips whose exit is in [p_start_date, p_end_date] (UTC days, inclusive; NULL = '
'unbounded), optionally of one symbol or strategy: counts, win rate (wins / all closed), net P/L, gross '
'profit and loss, profit factor (gross profit / |gross loss|, NULL without losses), average, best and worst '
'P/L, fees. Seed 003 trades/summary.';
