-- Grants and default privileges, so that objects created later by tsq_owner follow the same
-- least-privilege rules without each migration repeating them.
--   tsq_loader   writes raw market and signal data (no delete), reads instruments
--   tsq_analyst  reads market, ta, signals, perf, bi; writes nothing
--   tsq_trader   reads market, ta, signals, perf, bi, trading, risk; acts through functions
-- ops tables get explicit per-table grants in their own migrations (ops mixes logs that loaders
-- write with settings only the owner changes).

-- Functions are not executable by PUBLIC by default; each schema grants its own users.
alter default privileges for role tsq_owner revoke execute on functions from public;

grant usage on schema market, signals, ops to tsq_loader;
grant usage on schema market, ta, signals, perf, bi, ops to tsq_analyst;
grant usage on schema market, ta, signals, perf, bi, trading, risk, ops to tsq_trader;

-- market: raw data written by loaders, read by everyone.
alter default privileges for role tsq_owner in schema market
grant select, insert, update on tables to tsq_loader;
alter default privileges for role tsq_owner in schema market
grant select on tables to tsq_analyst, tsq_trader;
alter default privileges for role tsq_owner in schema market
grant usage, select on sequences to tsq_loader;
alter default privileges for role tsq_owner in schema market
grant execute on functions to tsq_loader, tsq_analyst, tsq_trader;

-- signals: raw external signals written by loaders; scores and signals by the trader.
alter default privileges for role tsq_owner in schema signals
grant select, insert, update on tables to tsq_loader, tsq_trader;
alter default privileges for role tsq_owner in schema signals
grant select on tables to tsq_analyst;
alter default privileges for role tsq_owner in schema signals
grant usage, select on sequences to tsq_loader, tsq_trader;
alter default privileges for role tsq_owner in schema signals
grant execute on functions to tsq_loader, tsq_analyst, tsq_trader;

-- ta, perf, bi: computed in the database, read by people and the trader.
alter default privileges for role tsq_owner in schema ta
grant select on tables to tsq_analyst, tsq_trader;
alter default privileges for role tsq_owner in schema ta
grant execute on functions to tsq_loader, tsq_analyst, tsq_trader;
alter default privileges for role tsq_owner in schema perf
grant select on tables to tsq_analyst, tsq_trader;
alter default privileges for role tsq_owner in schema perf
grant execute on functions to tsq_analyst, tsq_trader;
alter default privileges for role tsq_owner in schema bi
grant select on tables to tsq_analyst, tsq_trader;
alter default privileges for role tsq_owner in schema bi
grant execute on functions to tsq_analyst, tsq_trader;

-- trading and risk: only the trader, and only reads; writes go through functions.
alter default privileges for role tsq_owner in schema trading
grant select on tables to tsq_trader;
alter default privileges for role tsq_owner in schema trading
grant execute on functions to tsq_trader;
alter default privileges for role tsq_owner in schema risk
grant select on tables to tsq_trader;
alter default privileges for role tsq_owner in schema risk
grant execute on functions to tsq_trader;
