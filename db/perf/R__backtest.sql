-- tsquant:requires db/perf/R__backtest_kernel.sql
-- tsquant:requires db/perf/R__performance_metrics.sql
-- perf.backtest: one strategy's signals (the dbt signals mart) over one instrument's candles,
-- recorded in perf.backtest_runs / backtest_trades / backtest_equity / performance_metrics.

create or replace function perf.backtest(
    p_strategy text,
    p_instrument_id integer,
    p_timeframe text,
    p_start timestamptz,
    p_end timestamptz,
    p_init_cash float8 default 10000,
    p_fees_bps float8 default 0,
    p_slippage_bps float8 default 0,
    p_sizing text default 'all_in',
    p_size_value float8 default null,
    p_stop_loss_pct float8 default null,
    p_take_profit_pct float8 default null,
    p_signals text default 'bi.trading_signals'
)
returns bigint
language plpgsql
volatile
security definer
set search_path = ''
as $function$
declare
    v_relation regclass;
    v_specs numeric[];
    v_run_id bigint;
    v_times timestamptz[];
    v_open float8[];
    v_high float8[];
    v_low float8[];
    v_close float8[];
    v_entries boolean[];
    v_exits boolean[];
    v_sim record;
    v_n integer;
    v_bar integer;
    v_buy boolean;
    v_sell boolean;
begin
    -- Signals BUY = entry, SELL = exit (NEUTRAL and other strategies' rows are ignored); a signal
    -- at bar t fills at bar t+1's open (perf._simulate: fills, fees, slippage, stops, sizing).
    -- Everything is written in the caller's transaction: a failed run leaves nothing behind.
    if p_strategy is null or p_instrument_id is null or p_timeframe is null or p_start is null or p_end is null then
        raise exception 'perf.backtest: strategy, instrument, timeframe, start and end are required'
            using errcode = 'null_value_not_allowed';
    end if;
    if p_signals is null or p_signals not in ('bi.trading_signals', 'signals.strategy_signals') then
        raise exception 'perf.backtest: signals are read from bi.trading_signals or signals.strategy_signals (got %)',
            coalesce(p_signals, 'NULL')
            using errcode = 'invalid_parameter_value';
    end if;
    v_relation := pg_catalog.to_regclass(p_signals);
    if v_relation is null then
        raise exception 'perf.backtest: % does not exist yet', p_signals
            using errcode = 'undefined_table', hint = 'Build the signals mart first: make dbt.';
    end if;
    if not exists (select from market.instruments as i where i.instrument_id = p_instrument_id) then
        raise exception 'perf.backtest: no instrument with id %', p_instrument_id
            using errcode = 'no_data_found';
    end if;
    if not exists (select from market.timeframes as t where t.timeframe = p_timeframe and t.is_rollup) then
        raise exception 'perf.backtest: no candles of timeframe % (the timeframes with candles: %)', p_timeframe,
            (select pg_catalog.string_agg(t.timeframe, ', ' order by t.bucket_width) from market.timeframes as t where t.is_rollup)
            using errcode = 'invalid_parameter_value';
    end if;
    if p_end <= p_start then
        raise exception 'perf.backtest: the end (%) must be after the start (%)', p_end, p_start
            using errcode = 'invalid_parameter_value';
    end if;
    if (p_init_cash > 0 and p_init_cash < 'Infinity'::float8) is not true then
        raise exception 'perf.backtest: init_cash must be a positive amount (got %)', coalesce(p_init_cash::text, 'NULL')
            using errcode = 'invalid_parameter_value';
    end if;
    if (p_fees_bps >= 0 and p_fees_bps < 10000 and p_slippage_bps >= 0 and p_slippage_bps < 10000) is not true then
        raise exception 'perf.backtest: fees and slippage are basis points in [0, 10000) (got fees %, slippage %)',
            coalesce(p_fees_bps::text, 'NULL'), coalesce(p_slippage_bps::text, 'NULL')
            using errcode = 'invalid_parameter_value';
    end if;
    if p_sizing is null or p_sizing not in ('all_in', 'fixed_fraction', 'risk') then
        raise exception 'perf.backtest: sizing is all_in, fixed_fraction or risk (got %)', coalesce(p_sizing, 'NULL')
            using errcode = 'invalid_parameter_value';
    end if;
    if p_sizing = 'all_in' and p_size_value is not null then
        raise exception 'perf.backtest: size_value applies to fixed_fraction and risk sizing, not all_in'
            using errcode = 'invalid_parameter_value';
    end if;
    if p_sizing <> 'all_in' and (p_size_value > 0 and p_size_value <= 1) is not true then
        raise exception 'perf.backtest: % sizing needs size_value, a fraction in (0, 1] (got %)',
            p_sizing, coalesce(p_size_value::text, 'NULL')
            using errcode = 'invalid_parameter_value';
    end if;
    if p_stop_loss_pct is not null and (p_stop_loss_pct > 0 and p_stop_loss_pct < 1) is not true then
        raise exception 'perf.backtest: stop_loss_pct is a fraction in (0, 1) below the entry price (got %)', p_stop_loss_pct
            using errcode = 'invalid_parameter_value';
    end if;
    if p_take_profit_pct is not null and (p_take_profit_pct > 0 and p_take_profit_pct < 'Infinity'::float8) is not true then
        raise exception 'perf.backtest: take_profit_pct is a positive fraction above the entry price (got %)', p_take_profit_pct
            using errcode = 'invalid_parameter_value';
    end if;
    if p_sizing = 'risk' then
        if p_stop_loss_pct is null then
            raise exception 'perf.backtest: risk sizing needs a stop loss (stop_loss_pct): the risk is the loss at the stop'
                using errcode = 'invalid_parameter_value';
        end if;
        select array[s.tick_size, s.tick_value, s.volume_step, s.volume_min, coalesce(s.volume_max, 'Infinity'::numeric),
                     s.commission_per_lot, s.contract_size]
        into v_specs
        from market.instrument_trading_specs as s where s.instrument_id = p_instrument_id;
        if v_specs[1] is null or v_specs[3] is null then
            raise exception 'perf.backtest: instrument % has no tick size or volume step for risk sizing', p_instrument_id
                using errcode = 'invalid_parameter_value', hint = 'Set them with market.set_instrument_specs().';
        end if;
    end if;

    -- The bars: one ordered scan of the candles (array_agg keeps the order of the sorted subquery
    -- it reads).
    execute format(
        $query$
        select array_agg(c.open_time), array_agg(c.open), array_agg(c.high), array_agg(c.low), array_agg(c.close)
        from (
            select b.open_time, b.open, b.high, b.low, b.close
            from market.%I as b
            where b.instrument_id = $1 and b.open_time >= $2 and b.open_time < $3
            order by b.open_time
        ) as c
        $query$,
        'candles_' || p_timeframe
    )
    into v_times, v_open, v_high, v_low, v_close
    using p_instrument_id, p_start, p_end;
    v_n := coalesce(cardinality(v_times), 0);
    if v_n = 0 then
        raise exception 'perf.backtest: instrument % has no % candles in [%, %)', p_instrument_id, p_timeframe, p_start, p_end
            using errcode = 'no_data_found';
    end if;
    -- The signals, few next to the bars: each one's bar by binary search (width_bucket over the
    -- sorted bar times), kept when a candle opens exactly then. A join of the bars with the
    -- signals would leave the plan to the row estimates of the candle view.
    v_entries := pg_catalog.array_fill(false, array[v_n]);
    v_exits := v_entries;
    for v_bar, v_buy, v_sell in execute format(
        $query$
        select x.bar, x.buy, x.sell
        from (
            select pg_catalog.width_bucket(g.bar_time, $6) as bar, g.bar_time,
                   bool_or(g.direction = 'BUY') as buy, bool_or(g.direction = 'SELL') as sell
            from %s as g
            where g.signal_source = $1 and g.instrument_id = $2 and g.timeframe = $3
                and g.bar_time >= $4 and g.bar_time < $5
            group by g.bar_time
        ) as x
        where ($6)[x.bar] = x.bar_time
        $query$,
        v_relation
    ) using p_strategy, p_instrument_id, p_timeframe, p_start, p_end, v_times
    loop
        v_entries[v_bar] := v_buy;
        v_exits[v_bar] := v_sell;
    end loop;

    insert into perf.backtest_runs (
        strategy, instrument_id, timeframe, start_time, end_time, init_cash, fees_bps, slippage_bps,
        sizing, size_value, stop_loss_pct, take_profit_pct, signal_relation, parameters
    )
    values (
        p_strategy, p_instrument_id, p_timeframe, p_start, p_end, p_init_cash, p_fees_bps, p_slippage_bps,
        p_sizing, p_size_value, p_stop_loss_pct, p_take_profit_pct, v_relation::text,
        pg_catalog.jsonb_build_object(
            'strategy', p_strategy, 'instrument_id', p_instrument_id, 'timeframe', p_timeframe,
            'start', p_start, 'end', p_end, 'init_cash', p_init_cash, 'fees_bps', p_fees_bps,
            'slippage_bps', p_slippage_bps, 'sizing', p_sizing, 'size_value', p_size_value,
            'stop_loss_pct', p_stop_loss_pct, 'take_profit_pct', p_take_profit_pct,
            'signals', v_relation::text, 'instrument_specs', v_specs
        )
    )
    returning run_id into v_run_id;

    select * into v_sim
    from perf._simulate(
        v_open, v_high, v_low, v_close, v_entries, v_exits, p_init_cash, p_fees_bps / 10000, p_slippage_bps / 10000,
        case p_sizing when 'all_in' then 1 when 'fixed_fraction' then p_size_value end,
        p_stop_loss_pct, p_take_profit_pct, case when p_sizing = 'risk' then p_size_value end, v_specs
    ) as s;

    -- The arrays unnested in the select list, side by side (they have the same length): streamed
    -- into the insert, where unnest(a, b, …) in FROM would first copy a million rows into a
    -- tuplestore.
    insert into perf.backtest_equity (run_id, bar_time, close, position, cash, equity)
    select v_run_id, unnest(v_times), unnest(v_close), unnest(v_sim.position), unnest(v_sim.cash), unnest(v_sim.equity);

    insert into perf.backtest_trades (
        run_id, trade_no, entry_time, entry_price, exit_time, exit_price, quantity, fees, pnl,
        pnl_percent, exit_reason, status
    )
    select
        v_run_id, u.trade_no, v_times[u.entry_bar], u.entry_price, v_times[u.exit_bar], u.exit_price, u.quantity,
        u.fees, u.pnl, u.pnl / u.cost * 100, u.exit_reason, case when u.exit_bar is null then 'OPEN' else 'CLOSED' end
    from unnest(
        v_sim.trade_entry, v_sim.trade_exit, v_sim.trade_quantity, v_sim.trade_cost, v_sim.trade_entry_price,
        v_sim.trade_exit_price, v_sim.trade_fees, v_sim.trade_pnl, v_sim.trade_exit_reason
    ) with ordinality as u (entry_bar, exit_bar, quantity, cost, entry_price, exit_price, fees, pnl, exit_reason, trade_no);

    update perf.backtest_runs as r
    set bars = v_n, final_equity = v_sim.equity[v_n], finished_at = pg_catalog.clock_timestamp()
    where r.run_id = v_run_id;
    -- the metrics from the arrays in hand (perf.record_run_metrics would read them back)
    perform perf._record_run_metrics(
        v_run_id, v_sim.equity, v_sim.position, v_sim.trade_pnl, (v_times[v_n] at time zone 'UTC')::date
    );
    return v_run_id;
end;
$function$;

comment on function perf.backtest(text, integer, text, timestamptz, timestamptz, float8, float8, float8, text, float8, float8, float8, text) is
'Backtest one strategy''s signals (p_signals: bi.trading_signals or signals.strategy_signals; BUY = '
'entry, SELL = exit) on one instrument''s market.candles_<p_timeframe> bars in [p_start, p_end), long '
'only: a signal at bar t fills at bar t+1''s open with p_slippage_bps against the trade and p_fees_bps '
'of the notional; sizing all_in, fixed_fraction (p_size_value of the cash) or risk '
'(risk.position_size with p_size_value risk per trade and the instrument''s specs, needs a stop, '
'at most what the cash buys); optional p_stop_loss_pct / p_take_profit_pct from the entry fill. '
'Records the run with its parameters, its trades, an equity row per bar and its metrics '
'(perf.performance_metrics); returns the run_id. Conventions: docs/trading-and-risk.md.';

revoke execute on function perf.backtest(text, integer, text, timestamptz, timestamptz, float8, float8, float8, text, float8, float8, float8, text) from tsq_analyst;
grant execute on function perf.backtest(text, integer, text, timestamptz, timestamptz, float8, float8, float8, text, float8, float8, float8, text) to tsq_trader;
