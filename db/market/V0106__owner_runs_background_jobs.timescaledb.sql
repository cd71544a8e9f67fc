-- tsquant:as-admin
-- TimescaleDB mode: policy jobs (continuous aggregate refresh, compression, retention) run as the
-- owner of the hypertable, and TimescaleDB refuses to schedule them for a role without LOGIN
-- ("Hypertable owner must have LOGIN permission to run background tasks"). tsq_owner gets LOGIN
-- but no password: nobody can authenticate as it with password authentication; people keep
-- logging in with their own roles. (Belongs with db/roles/; kept here until the foundation owns it.)

alter role tsq_owner login;
