-- bi.performance_metrics (seed 002 performance_metrics): the metrics rows of perf.performance_metrics
-- (live trading and backtests) with the run's strategy, timeframe and the instrument's exchange,
-- for people and BI tools. Column comments are those of perf.performance_metrics.

create or replace view bi.performance_metrics as
select
    m.date,
    case when m.run_id is null then 'live' else 'backtest' end as source,
    m.run_id,
    r.strategy,
    r.timeframe,
    i.exchange,
    m.symbol,
    m.total_trades,
    m.win_rate,
    m.profit_factor,
    m.expectancy,
    m.avg_win,
    m.avg_loss,
    m.net_profit,
    m.total_return,
    m.annual_return,
    m.annual_volatility,
    m.sharpe_ratio,
    m.sortino_ratio,
    m.max_drawdown,
    m.max_drawdown_duration,
    m.calmar_ratio,
    m.exposure,
    m.annualization,
    m.computed_at
from perf.performance_metrics as m
left join perf.backtest_runs as r on m.run_id = r.run_id
left join market.instruments as i on m.instrument_id = i.instrument_id;

comment on view bi.performance_metrics is
'Performance metrics per date (seed 002 performance_metrics): live trading (source live, filled daily '
'by perf.refresh_performance_metrics) and backtests (source backtest, one row per perf.backtest run); '
'symbol NULL = all instruments. Conventions: docs/trading-and-risk.md.';
comment on column bi.performance_metrics.source is 'live (the trading ledger) or backtest (a perf.backtest run).';
comment on column bi.performance_metrics.strategy is 'Strategy of the backtest run (NULL for live rows).';
comment on column bi.performance_metrics.timeframe is 'Bar timeframe of the backtest run (NULL for live rows).';
comment on column bi.performance_metrics.exchange is 'Exchange of the symbol (NULL = all instruments).';

do $comments$
declare
    v_column text;
begin
    for v_column in
        select a.attname from pg_attribute as a
        where a.attrelid = 'bi.performance_metrics'::regclass and a.attnum > 0
            and a.attname not in ('source', 'strategy', 'timeframe', 'exchange')
    loop
        execute format('comment on column bi.performance_metrics.%I is %L', v_column,
            col_description('perf.performance_metrics'::regclass,
                (select b.attnum from pg_attribute as b
                 where b.attrelid = 'perf.performance_metrics'::regclass and b.attname = v_column)));
    end loop;
end;
$comments$;
