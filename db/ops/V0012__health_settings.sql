-- Thresholds of ops.health_checks() (tsquant health, GET /health).
insert into ops.settings (name, value_type, value, description) values
    ('health.stale_after', 'interval', '2 hours',
     'A loader job, rollup or maintained indicator whose newest result is older than this is stale (tsquant health exits 1, GET /health answers 503).'),
    ('health.quarantine_warning', 'integer', '1000',
     'More rows quarantined than this within the last day is reported as a warning by ops.health_checks().')
on conflict (name) do nothing;
