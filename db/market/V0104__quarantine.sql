-- market.quarantine: every input row the ingest core or a loader refused, with why.

create table market.quarantine (
    quarantine_id bigint generated always as identity primary key,
    quarantined_at timestamptz not null default now(),
    run_id bigint,
    source text not null,
    dataset text not null,
    reason text not null,
    symbol text,
    record_time timestamptz,
    payload text not null
);

create index quarantine_time_idx on market.quarantine (quarantined_at);
create index quarantine_run_idx on market.quarantine (run_id);

comment on table market.quarantine is
'Rejected input rows: impossible values, unknown symbols, malformed records, rows conflicting '
'with a stored row. Nothing is silently dropped: count in = loaded + quarantined + duplicate.';
comment on column market.quarantine.quarantine_id is 'Surrogate key.';
comment on column market.quarantine.quarantined_at is 'When the row was rejected.';
comment on column market.quarantine.run_id is 'ops.loader_runs.run_id of the run that rejected it (NULL outside a run).';
comment on column market.quarantine.source is 'Source of the row, e.g. binance_capture, synthetic, kraken_rest.';
comment on column market.quarantine.dataset is 'trades, quotes or candles.';
comment on column market.quarantine.reason is
'Why: malformed, missing_field, unknown_instrument, non_positive_price, non_finite_value, '
'non_positive_quantity, negative_volume, high_below_open_close, low_above_open_close, '
'high_below_low, crossed_quote, invalid_side, time_in_future, time_too_old, '
'conflicting_duplicate, conflicts_with_stored_row.';
comment on column market.quarantine.symbol is 'Symbol as the source spelled it, when known.';
comment on column market.quarantine.record_time is 'Time of the record, when it could be parsed.';
comment on column market.quarantine.payload is 'The raw input (JSON line, CSV row or JSON rendering of the parsed row).';
