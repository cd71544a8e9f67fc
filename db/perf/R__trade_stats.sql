-- Trade-based metrics over closed trades' P/L, with vectorbt's definitions (Trades.win_rate,
-- profit_factor, expectancy; REFERENCE.md §2).

create or replace function perf.trade_stats(pnl float8[])
returns table (
    total_trades bigint,
    win_rate float8,
    profit_factor float8,
    expectancy float8,
    avg_win float8,
    avg_loss float8,
    net_profit float8
)
language sql
immutable
parallel safe
security invoker
set search_path = ''
begin atomic
    -- A trade with P/L exactly 0 is neither a win nor a loss, but it counts in total_trades (so
    -- it lowers the win rate), as in vectorbt. With trades but no wins (losses), the missing sum
    -- and mean count as 0 in profit factor and expectancy.
    select
        count(*) as total_trades,
        case when count(*) > 0 then (count(*) filter (where t.v > 0))::float8 / count(*) end as win_rate,
        case when count(*) > 0 then perf._ratio(
            coalesce(sum(t.v) filter (where t.v > 0), 0), abs(coalesce(sum(t.v) filter (where t.v < 0), 0))
        ) end as profit_factor,
        case when count(*) > 0 then
            (count(*) filter (where t.v > 0))::float8 / count(*) * coalesce(avg(t.v) filter (where t.v > 0), 0)
            - (1 - (count(*) filter (where t.v > 0))::float8 / count(*)) * abs(coalesce(avg(t.v) filter (where t.v < 0), 0))
        end as expectancy,
        avg(t.v) filter (where t.v > 0) as avg_win,
        avg(t.v) filter (where t.v < 0) as avg_loss,
        coalesce(sum(t.v), 0) as net_profit
    from unnest(trade_stats.pnl) as t (v)  -- noqa: RF01
    where t.v is not null and t.v <> 'NaN'::float8;
end;

comment on function perf.trade_stats(float8[]) is
'Statistics of closed trades from their P/L (vectorbt''s definitions): total_trades; win_rate = '
'#(pnl > 0) / #trades; profit_factor = Σ wins / |Σ losses| (+Infinity without losses, NULL when '
'every P/L is 0); expectancy = win_rate × avg_win − (1 − win_rate) × |avg_loss|; avg_win, '
'avg_loss (negative) means of the winning and losing trades; net_profit = Σ pnl. A 0 P/L trade is '
'neither a win nor a loss but counts as a trade. NULL elements are skipped; no trades: 0, NULL…, 0.';
