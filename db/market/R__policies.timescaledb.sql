-- tsquant:requires db/ops/R__data_policies.sql
-- TimescaleDB mode: apply the retention/compression policies of ops.data_classes to the market
-- hypertables (re-applied whenever this file or the policy function changes).

select ops.apply_data_policies();
