-- tsquant:requires db/ops/R__data_policies.sql
-- tsquant:requires db/market/R__retention_relations.sql
-- tsquant:fingerprint select case when to_regclass('ops.data_classes') is not null then query_to_xml('select * from ops.data_classes order by 1', false, false, '')::text end
-- TimescaleDB mode: apply the compression policies of ops.data_classes to the market hypertables
-- and schedule the retention job (ops.run_retention); re-applied whenever this file or a data
-- class changes. Earlier versions' add_retention_policy jobs are removed (their drop_chunks
-- invalidated the continuous aggregates and logged nothing).

select ops.apply_data_policies();
