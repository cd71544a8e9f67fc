-- tsquant:requires db/risk/R__state.sql
-- risk.metrics(): the numbers the risk rules look at (seed 001 get_risk_metrics).

create or replace function risk.metrics()
returns table (
    drawdown numeric,
    daily_pnl numeric,
    peak_balance numeric,
    last_balance numeric,
    equity numeric,
    day_opening_balance numeric,
    day_start timestamptz,
    trading_state text,
    state_reason text,
    snapshot_at timestamptz
)
language sql
stable
security invoker
set search_path = ''
begin atomic
    -- drawdown = (equity − peak) / peak (≤ 0); daily P/L = equity − the day's opening balance.
    select
        (s.equity - t.peak_equity) / nullif(t.peak_equity, 0) as drawdown,
        s.equity - risk.day_opening_balance(pg_catalog.now()) as daily_pnl,
        t.peak_equity as peak_balance,
        s.balance as last_balance,
        s.equity,
        risk.day_opening_balance(pg_catalog.now()) as day_opening_balance,
        risk.day_start(pg_catalog.now()) as day_start,
        t.state as trading_state,
        t.reason as state_reason,
        s.taken_at as snapshot_at
    from risk.trading_state as t
    left join risk._latest_snapshot() as s on true
    where t.id;
end;

comment on function risk.metrics() is
'Risk metrics (seed 001 get_risk_metrics): drawdown from the equity peak (a negative fraction), '
'daily P/L (equity − the day''s opening balance), peak balance (equity peak), last balance, '
'equity, the day''s opening balance and start, and the trading state.';
