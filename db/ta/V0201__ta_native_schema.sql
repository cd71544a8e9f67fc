-- tsquant:as-admin
-- Schema of the optional native (C) ta kernels: the tsquant_ta extension lives here when the
-- server has it (db/ta/R__native.sql). Owned by tsq_owner like every schema; the ta.* functions
-- are SECURITY INVOKER, so their callers need USAGE here.

create schema if not exists ta_native authorization tsq_owner;

grant usage on schema ta_native to tsq_loader, tsq_analyst, tsq_trader;

comment on schema ta_native is
'Private: native (C) kernels of the ta indicators (extension tsquant_ta), used by ta.* when installed.';
