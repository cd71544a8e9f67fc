-- Issue 9, item 5: how often the project's own maintenance commands are expected to run, so that
-- ops.job_health can say when one is overdue (TimescaleDB policy jobs carry their own intervals).

insert into ops.settings (name, value_type, value, description)
values
    (
        'maintenance.rollups_interval', 'interval', '1 minute',
        'How often cron runs python -m loaders rollups (README); ops.job_health flags it overdue when '
        'a run is late by this interval (at most 1 hour).'
    ),
    (
        'maintenance.retention_interval', 'interval', '1 day',
        'How often retention runs (plain mode: cron, call ops.run_retention(); TimescaleDB mode: the '
        'schedule of the ops.run_retention job); ops.job_health flags it overdue when a run is late by '
        'this interval (at most 1 hour).'
    );
