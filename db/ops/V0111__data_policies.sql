-- ops.data_classes / ops.data_class_relations: retention and compression per data class
-- (seed 002: market data 2 years, system logs 3 months, signals 1 year, trading records forever,
-- aggregates forever). Applied by ops.apply_data_policies() (TimescaleDB policies) and enforced in
-- plain mode by ops.enforce_retention() (db/ops/R__data_policies.sql).

create table ops.data_classes (
    data_class text primary key,
    retain_for interval,
    compress_after interval,
    description text not null,
    constraint data_classes_retain_positive check (retain_for > interval '0'),
    constraint data_classes_compress_positive check (compress_after > interval '0')
);

comment on table ops.data_classes is
'Retention and compression settings per class of data. retain_for NULL = keep forever; '
'compress_after NULL = never compress. Change a row, then call ops.apply_data_policies().';
comment on column ops.data_classes.data_class is 'Class name.';
comment on column ops.data_classes.retain_for is 'Rows older than this are dropped (NULL: forever).';
comment on column ops.data_classes.compress_after is 'TimescaleDB: chunks older than this are compressed (NULL: never).';
comment on column ops.data_classes.description is 'What the class holds.';

insert into ops.data_classes (data_class, retain_for, compress_after, description)
values
    ('market_data', interval '2 years', interval '7 days', 'Trades, quotes and native candles.'),
    ('aggregates', null, null, 'Candle rollups (daily and finer): kept forever.'),
    ('system_logs', interval '3 months', null, 'Operational logs.'),
    ('signals', interval '1 year', null, 'Raw external signals, scores and trading signals.'),
    ('trading', null, null, 'Orders, fills, positions, trade history: kept forever.');

create table ops.data_class_relations (
    relation text primary key,
    data_class text not null references ops.data_classes (data_class),
    time_column text not null
);

comment on table ops.data_class_relations is
'Which table belongs to which data class, and its time column. Each area registers its tables.';
comment on column ops.data_class_relations.relation is 'Schema-qualified table name.';
comment on column ops.data_class_relations.data_class is 'ops.data_classes.data_class.';
comment on column ops.data_class_relations.time_column is 'Column compared with now() - retain_for.';

insert into ops.data_class_relations (relation, data_class, time_column)
values
    ('market.trades', 'market_data', 'time'),
    ('market.quotes', 'market_data', 'time'),
    ('market.candles', 'market_data', 'open_time');

grant select on ops.data_classes, ops.data_class_relations to tsq_analyst, tsq_loader;
