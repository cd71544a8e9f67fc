-- Per-bar read projection for bi.candles_<tf> (issue 9, item 9): one row per instrument, rollup
-- timeframe and bar consumed by the indicator refresh, holding what the view would otherwise probe
-- bar by bar (the gap flag and the three named indicator values): one index-only probe per
-- returned bar instead of six. Written by ta.refresh_indicators / ta.rebuild_indicators
-- (ta._refresh_bar_values, db/ta/R__refresh.sql) in the same transaction as the values.
--
-- Keyed by the bar width in seconds, not the timeframe's text: the probe with an integer key was
-- 15% faster than with a text one (measured, text with collation "C" included).
-- A plain table in both database modes: a probe into a hypertable pays the runtime chunk
-- exclusion and its chunks at executor startup (docs/market-data.md, "Query shape").
-- Existing databases start empty: the view falls back to the live probes for bars without a row,
-- and the next ta.refresh_indicators() fills it (it rewrites from the last row it finds).

create table ta.bar_values (
    instrument_id integer not null references market.instruments (instrument_id),
    timeframe_seconds integer not null,
    open_time timestamptz not null,
    follows_gap boolean not null,
    rsi_14 double precision,
    atr_14 double precision,
    adx_14 double precision,
    constraint bar_values_pkey primary key (instrument_id, timeframe_seconds, open_time)
    include (follows_gap, rsi_14, atr_14, adx_14),
    constraint bar_values_width_positive check (timeframe_seconds > 0)
);

comment on table ta.bar_values is
'Read projection for bi.candles_<tf>: per instrument, rollup timeframe and closed bar consumed by '
'the indicator refresh, the gap flag and the named indicator values (rsi_14, atr_14, adx_14) as of '
'that refresh. Written by ta.refresh_indicators() and ta.rebuild_indicators(); bars it has not '
'consumed yet have no row (the views compute them live). Query bi.candles_<tf> instead.';
comment on column ta.bar_values.instrument_id is 'Instrument (market.instruments).';
comment on column ta.bar_values.timeframe_seconds is 'Bar width in seconds (market.timeframes.bucket_width of the rollup timeframe), e.g. 3600 for 1h.';
comment on column ta.bar_values.open_time is 'Start of the bar (UTC).';
comment on column ta.bar_values.follows_gap is 'True when the previous bar of market.candles_<tf> is not exactly one bar width earlier; false for the first bar.';
comment on column ta.bar_values.rsi_14 is 'Value of the maintained rsi_14 of the instrument and timeframe (ta.indicator_values), NULL when none.';
comment on column ta.bar_values.atr_14 is 'Value of the maintained atr_14, NULL when none.';
comment on column ta.bar_values.adx_14 is 'Value of the maintained adx_14, NULL when none.';

insert into ops.data_class_relations (relation, data_class, time_column)
values ('ta.bar_values', 'aggregates', 'open_time');
