-- Maintained indicator values (issue "In-database indicators", item 3): which indicators are kept
-- up to date for which instrument and rollup timeframe, their values per closed bar, the running
-- state of each (so appending bars costs work proportional to the new bars) and the checkpoints
-- of the correction window (late or corrected bars). Maintained by ta.refresh_indicators()
-- (db/ta/R__maintained.sql).

create table ta.maintained_indicators (
    indicator_id integer generated always as identity primary key,
    instrument_id integer not null references market.instruments (instrument_id),
    timeframe text not null references market.timeframes (timeframe),
    indicator text not null,
    params jsonb not null,
    name text not null,
    outputs text[] not null,
    enabled boolean not null default true,
    created_at timestamptz not null default now(),
    constraint maintained_indicators_once unique (instrument_id, timeframe, name),
    constraint maintained_indicators_outputs check (cardinality(outputs) between 1 and 3),
    constraint maintained_indicators_params_object check (jsonb_typeof(params) = 'object')
);

comment on table ta.maintained_indicators is
'Configuration: the indicators (with TA-Lib parameters) maintained per instrument and rollup '
'timeframe. Add one with ta.maintain(); values in ta.indicator_values, kept up to date by '
'ta.refresh_indicators() after each load.';
comment on column ta.maintained_indicators.indicator_id is 'Surrogate key.';
comment on column ta.maintained_indicators.instrument_id is 'Instrument (market.instruments).';
comment on column ta.maintained_indicators.timeframe is 'Rollup timeframe whose closed candles (market.candles_<tf>) feed it.';
comment on column ta.maintained_indicators.indicator is 'ta function: sma, ema, rsi, macd, bbands, atr, natr, stoch, adx, plus_di, minus_di, obv, vwap.';
comment on column ta.maintained_indicators.params is 'TA-Lib parameter names and values, defaults filled in, e.g. {"timeperiod": 14}.';
comment on column ta.maintained_indicators.name is 'Readable name: the indicator and its parameter values, e.g. rsi_14, macd_12_26_9, obv.';
comment on column ta.maintained_indicators.outputs is 'Output names in the order of value1..value3 of ta.indicator_values, e.g. {macd,macdsignal,macdhist}.';
comment on column ta.maintained_indicators.enabled is 'False: no longer refreshed (values kept).';
comment on column ta.maintained_indicators.created_at is 'When the configuration was added.';

create table ta.indicator_values (
    indicator_id integer not null references ta.maintained_indicators (indicator_id) on delete cascade,
    open_time timestamptz not null,
    value1 double precision,
    value2 double precision,
    value3 double precision,
    constraint indicator_values_pkey primary key (indicator_id, open_time)
);

comment on table ta.indicator_values is
'Maintained indicator values, one row per configuration and closed bar with at least one non-NULL '
'output (bars inside the lookback have no row). Equal, bit for bit, to the ta.* function run over '
'every closed bar from the first. Up to three outputs: names in ta.maintained_indicators.outputs.';
comment on column ta.indicator_values.indicator_id is 'Configuration (ta.maintained_indicators).';
comment on column ta.indicator_values.open_time is 'Open time of the bar (UTC).';
comment on column ta.indicator_values.value1 is 'First output (the value of single-output indicators; macd; upperband; slowk).';
comment on column ta.indicator_values.value2 is 'Second output (macdsignal; middleband; slowd), else NULL.';
comment on column ta.indicator_values.value3 is 'Third output (macdhist; lowerband), else NULL.';

create table ta.indicator_state (
    indicator_id integer primary key references ta.maintained_indicators (indicator_id) on delete cascade,
    last_open_time timestamptz,
    bar_count bigint not null default 0,
    state double precision[],
    updated_at timestamptz not null default now()
);

comment on table ta.indicator_state is
'Running state per configuration after its last consumed bar: what the resumable kernel '
'(ta._<indicator>_step) needs to continue with the next bars (counters, EMA/Wilder averages, '
'sums, the trailing window of raw inputs). Layout in each kernel''s comment.';
comment on column ta.indicator_state.indicator_id is 'Configuration.';
comment on column ta.indicator_state.last_open_time is 'Open time of the last consumed bar (NULL: none yet).';
comment on column ta.indicator_state.bar_count is 'Bars consumed since the first bar.';
comment on column ta.indicator_state.state is 'Kernel state after the last consumed bar (NULL: empty state).';
comment on column ta.indicator_state.updated_at is 'Last refresh that changed it.';

create table ta.indicator_checkpoints (
    indicator_id integer not null references ta.maintained_indicators (indicator_id) on delete cascade,
    open_time timestamptz not null,
    open double precision not null,
    high double precision not null,
    low double precision not null,
    close double precision not null,
    volume double precision not null,
    state double precision[] not null,
    constraint indicator_checkpoints_pkey primary key (indicator_id, open_time)
);

comment on table ta.indicator_checkpoints is
'Correction window: the inputs (OHLCV) of the last ta.correction_window_bars + 1 consumed bars of '
'each configuration and the kernel state after each. A refresh compares them with the current '
'candles and, on the first difference, rewinds to the checkpoint before it.';
comment on column ta.indicator_checkpoints.indicator_id is 'Configuration.';
comment on column ta.indicator_checkpoints.open_time is 'Open time of the consumed bar.';
comment on column ta.indicator_checkpoints.open is 'Open of the bar as consumed.';
comment on column ta.indicator_checkpoints.high is 'High of the bar as consumed.';
comment on column ta.indicator_checkpoints.low is 'Low of the bar as consumed.';
comment on column ta.indicator_checkpoints.close is 'Close of the bar as consumed.';
comment on column ta.indicator_checkpoints.volume is 'Volume of the bar as consumed.';
comment on column ta.indicator_checkpoints.state is 'Kernel state after this bar.';

insert into ops.settings (name, value_type, value, description)
values (
    'ta.correction_window_bars', 'integer', '120',
    'Consumed bars per maintained indicator that ta.refresh_indicators() re-checks against the '
    'candles (late or corrected bars are fixed by rewinding); older corrections need '
    'ta.rebuild_indicators().'
);

insert into ops.data_class_relations (relation, data_class, time_column)
values ('ta.indicator_values', 'aggregates', 'open_time');
