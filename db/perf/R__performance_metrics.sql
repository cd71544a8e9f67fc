-- Filling perf.performance_metrics: the metrics of one backtest run, and the daily procedure for
-- live trading (and any finished run without its row).

-- Until 2026-12 the second argument was the bar returns; now it is the equity curve (the returns
-- are taken from it in the same pass as the metrics, perf._equity_return_metrics).
drop function if exists perf._record_run_metrics(bigint, float8[], float8[], float8[], date);

create function perf._record_run_metrics(
    p_run_id bigint, p_equity float8[], p_position float8[], p_pnl float8[], p_date date
)
returns void
language plpgsql
security definer
set search_path = ''
as $function$
declare
    v_run perf.backtest_runs;
    v_ann integer;
    v_returns record;
begin
    -- The row from the run's arrays: equity and position per bar, trade P/L (NULL = still open);
    -- the bar returns (the first against the initial cash) annualised with the bars per 365-day
    -- year of the run's timeframe. One pass of perf._equity_return_metrics gives every return
    -- metric (a 1M-bar run is read once, not once per metric).
    select * into strict v_run from perf.backtest_runs as r where r.run_id = p_run_id;
    select (extract(epoch from interval '365 days') / extract(epoch from tf.bucket_width))::integer into v_ann
    from market.timeframes as tf where tf.timeframe = v_run.timeframe;
    select * into v_returns from perf._equity_return_metrics(p_equity, v_run.init_cash, p_position, v_ann) as c;
    insert into perf.performance_metrics as m (
        date, run_id, symbol, instrument_id, total_trades, win_rate, profit_factor, expectancy,
        avg_win, avg_loss, net_profit, total_return, annual_return, annual_volatility, sharpe_ratio,
        sortino_ratio, max_drawdown, max_drawdown_duration, calmar_ratio, exposure, annualization
    )
    select
        coalesce(p_date, (v_run.end_time at time zone 'UTC')::date), p_run_id, i.symbol, v_run.instrument_id,
        s.total_trades, s.win_rate, s.profit_factor, s.expectancy, s.avg_win, s.avg_loss, s.net_profit,
        v_returns.total_return, v_returns.annual_return, v_returns.annual_volatility, v_returns.sharpe_ratio,
        v_returns.sortino_ratio, v_returns.max_drawdown, v_returns.max_drawdown_duration, v_returns.calmar_ratio,
        v_returns.exposure, v_ann
    from perf.trade_stats(coalesce(p_pnl, '{}')) as s
    inner join market.instruments as i on i.instrument_id = v_run.instrument_id
    on conflict on constraint performance_metrics_once do update
    set date = excluded.date, total_trades = excluded.total_trades, win_rate = excluded.win_rate,
        profit_factor = excluded.profit_factor, expectancy = excluded.expectancy, avg_win = excluded.avg_win,
        avg_loss = excluded.avg_loss, net_profit = excluded.net_profit, total_return = excluded.total_return,
        annual_return = excluded.annual_return, annual_volatility = excluded.annual_volatility,
        sharpe_ratio = excluded.sharpe_ratio, sortino_ratio = excluded.sortino_ratio,
        max_drawdown = excluded.max_drawdown, max_drawdown_duration = excluded.max_drawdown_duration,
        calmar_ratio = excluded.calmar_ratio, exposure = excluded.exposure,
        annualization = excluded.annualization, computed_at = pg_catalog.now();
end;
$function$;

comment on function perf._record_run_metrics(bigint, float8[], float8[], float8[], date) is
'Private: write (or rewrite) the perf.performance_metrics row of a backtest run from its '
'equity and position per bar and its trade P/L (perf.backtest passes what it simulated; perf.record_run_metrics '
'reads them back from the run''s tables). p_date NULL: the date of the run''s end.';

create or replace function perf.record_run_metrics(p_run_id bigint)
returns void
language plpgsql
security definer
set search_path = ''
as $function$
declare
    v_equity float8[];
    v_position float8[];
    v_pnl float8[];
    v_date date;
begin
    -- The stored equity curve and positions in bar order, closed trades' P/L; the row itself:
    -- perf._record_run_metrics.
    select array_agg(e.equity order by e.bar_time), array_agg(e.position order by e.bar_time),
           (max(e.bar_time) at time zone 'UTC')::date
    into v_equity, v_position, v_date
    from perf.backtest_equity as e
    where e.run_id = p_run_id;
    select array_agg(t.pnl order by t.trade_no) into v_pnl
    from perf.backtest_trades as t where t.run_id = p_run_id and t.status = 'CLOSED';
    perform perf._record_run_metrics(p_run_id, v_equity, v_position, v_pnl, v_date);
end;
$function$;

comment on function perf.record_run_metrics(bigint) is
'Write (or rewrite) the perf.performance_metrics row of a backtest run: trade statistics of its '
'closed trades and return metrics of its per-bar equity returns, annualised with the bars per '
'365-day year of its timeframe.';

create or replace procedure perf.refresh_performance_metrics(
    p_date date default ((now() at time zone 'UTC')::date - 1),
    p_annualization integer default 365
)
language plpgsql
security definer
set search_path = ''
as $procedure$
declare
    v_returns float8[];
    v_run_id bigint;
begin
    -- Live trading as of the end of p_date (UTC): trade statistics of the round trips closed by
    -- then (all instruments, and per symbol) and return metrics of the daily equity returns
    -- (last snapshot of each day); then the row of every finished run that has none. Rerunning
    -- a date replaces its rows.
    select array_agg(d.equity / d.previous - 1 order by d.day) filter (where d.previous is not null)
    into v_returns
    from (
        select x.day, x.equity, lag(x.equity) over (order by x.day)::float8 as previous
        from (
            select distinct on ((s.taken_at at time zone 'UTC')::date)
                (s.taken_at at time zone 'UTC')::date as day, s.equity::float8 as equity
            from trading.portfolio_snapshots as s
            where s.taken_at < (p_date + 1)::timestamp at time zone 'UTC'
            order by (s.taken_at at time zone 'UTC')::date, s.taken_at desc, s.snapshot_id desc
        ) as x
    ) as d;
    insert into perf.performance_metrics as m (
        date, run_id, symbol, instrument_id, total_trades, win_rate, profit_factor, expectancy,
        avg_win, avg_loss, net_profit, total_return, annual_return, annual_volatility, sharpe_ratio,
        sortino_ratio, max_drawdown, max_drawdown_duration, calmar_ratio, annualization
    )
    select
        p_date, null, g.symbol, g.instrument_id, s.total_trades, s.win_rate, s.profit_factor,
        s.expectancy, s.avg_win, s.avg_loss, s.net_profit,
        case when g.symbol is null then perf.total_return(v_returns) end,
        case when g.symbol is null then perf.annual_return(v_returns, p_annualization) end,
        case when g.symbol is null then perf.annual_volatility(v_returns, p_annualization) end,
        case when g.symbol is null then perf.sharpe_ratio(v_returns, 0, p_annualization) end,
        case when g.symbol is null then perf.sortino_ratio(v_returns, 0, p_annualization) end,
        case when g.symbol is null then perf.max_drawdown(v_returns) end,
        case when g.symbol is null then perf.max_drawdown_duration(v_returns) end,
        case when g.symbol is null then perf.calmar_ratio(v_returns, p_annualization) end,
        p_annualization
    from (
        select null::text as symbol, null::integer as instrument_id,
               coalesce(array_agg(t.pnl::float8 order by t.exit_time), '{}') as pnl
        from trading.round_trips as t
        where t.status = 'CLOSED' and t.exit_time < (p_date + 1)::timestamp at time zone 'UTC'
        union all
        select i.symbol, t.instrument_id, array_agg(t.pnl::float8 order by t.exit_time)
        from trading.round_trips as t
        inner join market.instruments as i on t.instrument_id = i.instrument_id
        where t.status = 'CLOSED' and t.exit_time < (p_date + 1)::timestamp at time zone 'UTC'
        group by i.symbol, t.instrument_id
    ) as g
    cross join lateral perf.trade_stats(g.pnl) as s
    on conflict on constraint performance_metrics_once do update
    set total_trades = excluded.total_trades, win_rate = excluded.win_rate,
        profit_factor = excluded.profit_factor, expectancy = excluded.expectancy, avg_win = excluded.avg_win,
        avg_loss = excluded.avg_loss, net_profit = excluded.net_profit, total_return = excluded.total_return,
        annual_return = excluded.annual_return, annual_volatility = excluded.annual_volatility,
        sharpe_ratio = excluded.sharpe_ratio, sortino_ratio = excluded.sortino_ratio,
        max_drawdown = excluded.max_drawdown, max_drawdown_duration = excluded.max_drawdown_duration,
        calmar_ratio = excluded.calmar_ratio, annualization = excluded.annualization,
        computed_at = pg_catalog.now();
    for v_run_id in
        select r.run_id from perf.backtest_runs as r
        where r.finished_at is not null
            and not exists (select from perf.performance_metrics as m where m.run_id = r.run_id)
    loop
        perform perf.record_run_metrics(v_run_id);
    end loop;
end;
$procedure$;

comment on procedure perf.refresh_performance_metrics(date, integer) is  -- noqa: LT01
'Daily job (call perf.refresh_performance_metrics() after midnight UTC): live metrics as of the '
'end of p_date, for all instruments and per symbol, from closed round trips and daily equity '
'returns (annualization 365: crypto trades every day), plus the rows of finished backtest runs that have none.';

revoke execute on function perf.record_run_metrics(bigint) from tsq_analyst, tsq_trader;
revoke execute on function perf._record_run_metrics(bigint, float8[], float8[], float8[], date) from tsq_analyst, tsq_trader;
revoke execute on procedure perf.refresh_performance_metrics(date, integer) from tsq_analyst;
