-- perf tables: daily performance metrics of live trading and backtests (seed 002
-- performance_metrics), and the backtest runs with their trades and equity curves.
-- Analytics are double precision (DESIGN.md §4): a backtest is a simulation, not a ledger.

create table perf.backtest_runs (
    run_id bigint generated always as identity primary key,
    strategy text not null,
    instrument_id integer not null references market.instruments (instrument_id),
    timeframe text not null references market.timeframes (timeframe),
    start_time timestamptz not null,
    end_time timestamptz not null,
    init_cash float8 not null,
    fees_bps float8 not null default 0,
    slippage_bps float8 not null default 0,
    sizing text not null default 'all_in',
    size_value float8,
    stop_loss_pct float8,
    take_profit_pct float8,
    signal_relation text not null,
    parameters jsonb not null default '{}'::jsonb,
    bars integer,
    final_equity float8,
    started_at timestamptz not null default now(),
    finished_at timestamptz,
    created_by text not null default session_user,
    constraint backtest_runs_range check (end_time > start_time),
    constraint backtest_runs_sizing_valid check (sizing in ('all_in', 'fixed_fraction', 'risk')),
    constraint backtest_runs_init_cash_positive check (init_cash > 0)
);

comment on table perf.backtest_runs is
'One row per backtest run (perf.backtest): what was run, with which parameters, and its result. '
'Trades, equity curve and metrics are keyed by run_id.';
comment on column perf.backtest_runs.run_id is 'Run id.';
comment on column perf.backtest_runs.strategy is 'Strategy whose signals were run (signal_source of the signals relation).';
comment on column perf.backtest_runs.instrument_id is 'Instrument.';
comment on column perf.backtest_runs.timeframe is 'Bar timeframe (market.candles_<timeframe>).';
comment on column perf.backtest_runs.start_time is 'First bar open time included.';
comment on column perf.backtest_runs.end_time is 'Bars before this time are included.';
comment on column perf.backtest_runs.init_cash is 'Initial cash.';
comment on column perf.backtest_runs.fees_bps is 'Fee per fill in basis points of the notional.';
comment on column perf.backtest_runs.slippage_bps is 'Slippage per fill in basis points of the price (against the trade).';
comment on column perf.backtest_runs.sizing is 'all_in, fixed_fraction (size_value = fraction of equity) or risk (risk.position_size with size_value = risk per trade).';
comment on column perf.backtest_runs.size_value is 'Fraction of equity (fixed_fraction) or risk per trade (risk).';
comment on column perf.backtest_runs.stop_loss_pct is 'Stop loss below the entry price, as a fraction (0.02 = 2 %).';
comment on column perf.backtest_runs.take_profit_pct is 'Take profit above the entry price, as a fraction.';
comment on column perf.backtest_runs.signal_relation is 'Relation the signals were read from (e.g. bi.trading_signals).';
comment on column perf.backtest_runs.parameters is 'Every parameter of the call, as JSON.';
comment on column perf.backtest_runs.bars is 'Number of bars simulated.';
comment on column perf.backtest_runs.final_equity is 'Equity at the last bar.';
comment on column perf.backtest_runs.started_at is 'When the run started.';
comment on column perf.backtest_runs.finished_at is 'When it finished.';
comment on column perf.backtest_runs.created_by is 'Who ran it.';

create table perf.backtest_trades (
    run_id bigint not null references perf.backtest_runs (run_id) on delete cascade,
    trade_no integer not null,
    entry_time timestamptz not null,
    entry_price float8 not null,
    exit_time timestamptz,
    exit_price float8,
    quantity float8 not null,
    fees float8 not null,
    pnl float8,
    pnl_percent float8,
    exit_reason text,
    status text not null,
    primary key (run_id, trade_no),
    constraint backtest_trades_status_valid check (status in ('OPEN', 'CLOSED')),
    constraint backtest_trades_exit_reason_valid check (exit_reason in ('signal', 'stop_loss', 'take_profit'))
);

comment on table perf.backtest_trades is 'Round trips of a backtest run (long only).';
comment on column perf.backtest_trades.run_id is 'Run.';
comment on column perf.backtest_trades.trade_no is 'Trade number within the run, from 1.';
comment on column perf.backtest_trades.entry_time is 'Open time of the bar whose open filled the entry.';
comment on column perf.backtest_trades.entry_price is 'Entry fill price (open × (1 + slippage)).';
comment on column perf.backtest_trades.exit_time is 'Open time of the bar of the exit fill.';
comment on column perf.backtest_trades.exit_price is 'Exit fill price.';
comment on column perf.backtest_trades.quantity is 'Quantity bought.';
comment on column perf.backtest_trades.fees is 'Entry plus exit fees.';
comment on column perf.backtest_trades.pnl is 'Exit proceeds − entry cost, fees included (NULL while open).';
comment on column perf.backtest_trades.pnl_percent is 'pnl / entry cost × 100.';
comment on column perf.backtest_trades.exit_reason is 'signal, stop_loss or take_profit.';
comment on column perf.backtest_trades.status is 'OPEN (still held at the last bar) or CLOSED.';

create table perf.backtest_equity (
    run_id bigint not null references perf.backtest_runs (run_id) on delete cascade,
    bar_time timestamptz not null,
    close float8,
    position float8 not null,
    cash float8 not null,
    equity float8,
    primary key (run_id, bar_time)
);

comment on table perf.backtest_equity is 'Equity curve of a backtest run: one row per bar.';
comment on column perf.backtest_equity.run_id is 'Run.';
comment on column perf.backtest_equity.bar_time is 'Bar open time.';
comment on column perf.backtest_equity.close is 'Bar close.';
comment on column perf.backtest_equity.position is 'Quantity held after the bar''s fills.';
comment on column perf.backtest_equity.cash is 'Cash after the bar''s fills.';
comment on column perf.backtest_equity.equity is 'cash + position × close.';

create table perf.performance_metrics (
    metrics_id bigint generated always as identity primary key,
    date date not null,
    run_id bigint references perf.backtest_runs (run_id) on delete cascade,
    symbol text,
    instrument_id integer references market.instruments (instrument_id),
    total_trades integer not null,
    win_rate float8,
    profit_factor float8,
    expectancy float8,
    avg_win float8,
    avg_loss float8,
    net_profit float8,
    total_return float8,
    annual_return float8,
    annual_volatility float8,
    sharpe_ratio float8,
    sortino_ratio float8,
    max_drawdown float8,
    max_drawdown_duration integer,
    calmar_ratio float8,
    exposure float8,
    annualization integer,
    computed_at timestamptz not null default now(),
    constraint performance_metrics_once unique nulls not distinct (date, run_id, symbol)
);

comment on table perf.performance_metrics is
'Performance metrics (seed 002 performance_metrics): one row per date, run (NULL = live trading) '
'and symbol (NULL = all). Live rows: perf.refresh_performance_metrics (daily), from closed round '
'trips and daily equity returns up to that date; backtest rows: written by perf.backtest.';
comment on column perf.performance_metrics.metrics_id is 'Row id.';
comment on column perf.performance_metrics.date is 'Date the metrics are as of (UTC; a backtest: its last bar''s date).';
comment on column perf.performance_metrics.run_id is 'Backtest run; NULL for live trading.';
comment on column perf.performance_metrics.symbol is 'Symbol; NULL = all instruments.';
comment on column perf.performance_metrics.instrument_id is 'Instrument of the symbol (NULL = all).';
comment on column perf.performance_metrics.total_trades is 'Closed trades (perf.trade_stats).';
comment on column perf.performance_metrics.win_rate is 'Winning / closed trades (vectorbt).';
comment on column perf.performance_metrics.profit_factor is 'Σ wins / |Σ losses| (vectorbt).';
comment on column perf.performance_metrics.expectancy is 'Expected P/L per trade (vectorbt).';
comment on column perf.performance_metrics.avg_win is 'Mean winning P/L.';
comment on column perf.performance_metrics.avg_loss is 'Mean losing P/L (negative).';
comment on column perf.performance_metrics.net_profit is 'Σ closed-trade P/L.';
comment on column perf.performance_metrics.total_return is 'Compounded return of the equity curve (empyrical).';
comment on column perf.performance_metrics.annual_return is 'CAGR (empyrical annual_return with annualization).';
comment on column perf.performance_metrics.annual_volatility is 'Annualised volatility (empyrical).';
comment on column perf.performance_metrics.sharpe_ratio is 'Sharpe ratio, risk free 0 (empyrical).';
comment on column perf.performance_metrics.sortino_ratio is 'Sortino ratio, required return 0 (empyrical).';
comment on column perf.performance_metrics.max_drawdown is 'Max drawdown, negative fraction (empyrical).';
comment on column perf.performance_metrics.max_drawdown_duration is 'Longest drawdown in periods.';
comment on column perf.performance_metrics.calmar_ratio is 'annual_return / |max_drawdown| (empyrical).';
comment on column perf.performance_metrics.exposure is 'Fraction of bars in a position (backtests).';
comment on column perf.performance_metrics.annualization is 'Periods per year used for the annualised metrics.';
comment on column perf.performance_metrics.computed_at is 'When the row was computed.';
