-- tsquant:requires db/ops/R__settings.sql
-- tsquant:requires db/ops/R__database_mode.sql
-- Issue 9, item 5: maintenance is watched, not trusted. ops.job_health lists every maintenance job
-- with its last run, last success, next start, consecutive failures, last error and whether it is
-- failing or overdue. TimescaleDB mode: the policy jobs (continuous aggregate refresh, compression,
-- the ops.run_retention job) from timescaledb_information, merged with the runs the project made
-- in the foreground (`python -m loaders rollups` runs overdue and failing jobs with run_job(), which
-- TimescaleDB does not record in job_stats), plus the rollups cron command. Plain mode: the
-- project's own commands (rollups, retention) from their run records in ops.events.

create or replace function ops.record_job_run(
    p_job text,
    p_job_id integer,
    p_started_at timestamptz,
    p_error text,
    p_details jsonb default '{}'::jsonb
)
returns bigint
language sql
as $$
    -- One run of a maintenance job, as an ops.events row (source maintenance, type job_run).
    insert into ops.events (source, event_type, severity, message, details)
    values (
        'maintenance', 'job_run',
        case when p_error is null then 'info' else 'error' end,
        case when p_error is null
            then format('%s%s succeeded in %s s', p_job, coalesce(format(' (job %s)', p_job_id), ''),
                round(extract(epoch from clock_timestamp() - p_started_at)::numeric, 2))
            else format('%s%s failed: %s', p_job, coalesce(format(' (job %s)', p_job_id), ''), p_error)
        end,
        p_details || jsonb_build_object(
            'job', p_job, 'job_id', p_job_id, 'started_at', p_started_at, 'succeeded', p_error is null,
            'error', p_error, 'foreground', true
        )
    )
    returning event_id;
$$;

comment on function ops.record_job_run(text, integer, timestamptz, text, jsonb) is
'Records one run of a maintenance job in ops.events (source maintenance, event_type job_run): the '
'job name (rollups, retention, or a TimescaleDB job run in the foreground), its TimescaleDB job id '
'(NULL for the project''s own commands), when it started, and the error (NULL = succeeded). Read by ops.job_health.';

create or replace view ops.job_runs as
select
    e.event_id,
    e.details ->> 'job' as job,
    (e.details ->> 'job_id')::integer as job_id,
    (e.details ->> 'started_at')::timestamptz as started_at,
    e.occurred_at as finished_at,
    (e.details ->> 'succeeded')::boolean as succeeded,
    e.details ->> 'error' as error
from ops.events as e
where e.source = 'maintenance' and e.event_type = 'job_run';

comment on view ops.job_runs is
'Runs of maintenance jobs the project recorded (ops.record_job_run): its own commands and '
'TimescaleDB jobs it ran in the foreground. Background runs are in timescaledb_information.job_history.';
comment on column ops.job_runs.event_id is 'ops.events.event_id of the record.';
comment on column ops.job_runs.job is 'Job name: rollups, retention, or the ops.job_health name of a TimescaleDB job.';
comment on column ops.job_runs.job_id is 'TimescaleDB job id (NULL for the project''s own commands).';
comment on column ops.job_runs.started_at is 'When the run started.';
comment on column ops.job_runs.finished_at is 'When the run ended (the event time).';
comment on column ops.job_runs.succeeded is 'True when the run succeeded.';
comment on column ops.job_runs.error is 'Error message of a failed run (NULL when it succeeded).';

create or replace function ops.timescaledb_job_health()
returns table (
    job text,
    job_id integer,
    kind text,
    relation text,
    scheduled boolean,
    schedule_interval interval,
    last_run_started_at timestamptz,
    last_run_status text,
    last_run_by text,
    last_success_at timestamptz,
    next_start timestamptz,
    due_at timestamptz,
    consecutive_failures integer,
    last_error text,
    last_error_at timestamptz,
    failing boolean,
    overdue boolean
)
language plpgsql
stable
as $$
begin
    -- Plain mode: no TimescaleDB jobs. The query is EXECUTEd (relations format()ed in) so that it compiles
    -- (and passes plpgsql_check) where timescaledb_information does not exist.
    if ops.database_mode() <> 'timescaledb' then
        return;
    end if;
    return query execute format($q$
        with j as (
            -- Job ids from 1000 are policies and custom jobs; lower ids are the extension's own.
            select
                j.job_id,
                case
                    when j.proc_name = 'policy_refresh_continuous_aggregate' then 'refresh'
                    when j.proc_name = 'policy_compression' then 'compression'
                    when j.proc_name = 'policy_retention' then 'retention'
                    when j.proc_schema = 'ops' and j.proc_name = 'run_retention' then 'retention'
                    else j.proc_schema || '.' || j.proc_name
                end as kind,
                case when j.hypertable_name is not null
                    then format('%%I.%%I', j.hypertable_schema, j.hypertable_name) end as relation,
                j.proc_schema || '.' || j.proc_name as proc,
                j.scheduled,
                j.schedule_interval,
                -- job_stats says -infinity for "never"
                nullif(s.last_run_started_at, '-infinity') as bg_started_at,
                lower(s.last_run_status) as bg_status,
                nullif(s.last_successful_finish, '-infinity') as bg_success_at,
                nullif(s.next_start, '-infinity') as next_start,
                -- never started by any scheduler (none runs for this database, e.g. all
                -- timescaledb.max_background_workers are taken): due one interval after creation
                coalesce(j.next_start, j.initial_start, (select min(x.applied_at) from ops.schema_migrations as x)
                    + j.schedule_interval) as planned_start
            from %1$s as j
            left join %2$s as s on s.job_id = j.job_id
            where j.job_id >= 1000
        ),
        m as (
            select
                j.*,
                f.started_at as fg_started_at,
                f.succeeded as fg_succeeded,
                (select max(r.finished_at) from ops.job_runs as r where r.job_id = j.job_id and r.succeeded)
                    as fg_success_at
            from j
            left join lateral (
                select r.started_at, r.succeeded from ops.job_runs as r
                where r.job_id = j.job_id order by r.event_id desc limit 1
            ) as f on true
        ),
        c as (
            select
                m.*,
                greatest(m.bg_success_at, m.fg_success_at) as success_at,
                m.fg_started_at is not null
                and m.fg_started_at >= coalesce(m.bg_started_at, '-infinity') as fg_is_last
            from m
        ),
        e as (
            select
                c.*,
                (select count(*) from %3$s as h
                    where h.job_id = c.job_id and not h.succeeded
                    and h.start_time > coalesce(c.success_at, '-infinity'))
                + (select count(*) from ops.job_runs as r
                    where r.job_id = c.job_id and not r.succeeded
                    and r.finished_at > coalesce(c.success_at, '-infinity')) as failures,
                (select x.msg from (
                    select h.err_message as msg, h.finish_time as at from %3$s as h
                    where h.job_id = c.job_id and not h.succeeded
                    union all
                    select r.error, r.finished_at from ops.job_runs as r where r.job_id = c.job_id and not r.succeeded
                    order by at desc limit 1) as x) as error,
                (select max(x.at) from (
                    select h.finish_time as at from %3$s as h
                    where h.job_id = c.job_id and not h.succeeded
                    union all
                    select r.finished_at from ops.job_runs as r where r.job_id = c.job_id and not r.succeeded
                ) as x) as error_at,
                case when c.success_at is not null then c.success_at + c.schedule_interval
                    else coalesce(c.next_start, c.planned_start) end as due
            from c
        )
        select
            coalesce(e.kind || ' ' || e.relation, e.proc),
            e.job_id,
            e.kind,
            e.relation,
            e.scheduled,
            e.schedule_interval,
            case when e.fg_is_last then e.fg_started_at else e.bg_started_at end,
            case when e.fg_is_last then case when e.fg_succeeded then 'succeeded' else 'failed' end
                when e.bg_status = 'success' then 'succeeded'
                else e.bg_status end,
            case when e.fg_is_last then 'foreground' when e.bg_started_at is not null then 'scheduler' end,
            e.success_at,
            e.next_start,
            e.due,
            e.failures::integer,
            e.error,
            e.error_at,
            coalesce(case when e.fg_is_last then not e.fg_succeeded else e.bg_status = 'failed' end, false),
            coalesce(e.scheduled and e.due + least(e.schedule_interval, interval '1 hour') < now(), false)
        from e
    $q$, 'timescaledb_information.jobs', 'timescaledb_information.job_stats',
        'timescaledb_information.job_history');
end;
$$;

comment on function ops.timescaledb_job_health() is
'TimescaleDB mode: one ops.job_health row per policy or custom job (job id >= 1000), merging '
'timescaledb_information.job_stats/job_history with the foreground runs in ops.job_runs. Plain mode: no rows.';

create or replace view ops.job_health as
with commands as (
    -- The project's own maintenance commands and how often cron is expected to run them. In
    -- TimescaleDB mode retention is the ops.run_retention job, listed with the other jobs.
    select
        c.job,
        c.kind,
        ops.setting(c.setting)::interval as schedule_interval,
        (select min(m.applied_at) from ops.schema_migrations as m) as migrated_at
    from (values
        ('rollups', 'rollups', 'maintenance.rollups_interval'),
        ('retention', 'retention', 'maintenance.retention_interval')
    ) as c (job, kind, setting)
    where c.job = 'rollups' or ops.database_mode() <> 'timescaledb'
),

runs as (
    select
        c.*,
        l.started_at,
        l.succeeded,
        (select max(r.finished_at) from ops.job_runs as r where r.job_id is null and r.job = c.job and r.succeeded)
            as success_at
    from commands as c
    left join lateral (
        select r.started_at, r.succeeded from ops.job_runs as r
        where r.job_id is null and r.job = c.job order by r.event_id desc limit 1
    ) as l on true
),

due as (
    select
        r.*,
        (select count(*) from ops.job_runs as f where f.job_id is null and f.job = r.job and not f.succeeded
            and f.finished_at > coalesce(r.success_at, '-infinity'))::integer as failures,
        (select f.error from ops.job_runs as f where f.job_id is null and f.job = r.job and not f.succeeded
            order by f.event_id desc limit 1) as error,
        (select max(f.finished_at) from ops.job_runs as f where f.job_id is null and f.job = r.job
            and not f.succeeded) as error_at,
        coalesce(r.success_at, r.migrated_at) + r.schedule_interval as due_at
    from runs as r
)

select
    d.job,
    null::integer as job_id,
    d.kind,
    null::text as relation,
    true as scheduled,
    d.schedule_interval,
    d.started_at as last_run_started_at,
    case when d.succeeded then 'succeeded' when not d.succeeded then 'failed' end as last_run_status,
    case when d.started_at is not null then 'cron' end as last_run_by,
    d.success_at as last_success_at,
    d.due_at as next_start,
    d.due_at,
    d.failures as consecutive_failures,
    d.error as last_error,
    d.error_at as last_error_at,
    coalesce(not d.succeeded, false) as failing,
    coalesce(d.due_at + least(d.schedule_interval, interval '1 hour') < now(), false) as overdue
from due as d
union all
select * from ops.timescaledb_job_health();

comment on view ops.job_health is
'Health of every maintenance job: TimescaleDB policy jobs (refresh, compression, retention) and the '
'project''s own cron commands (rollups; retention in plain mode). A job is failing when its last '
'run failed and overdue when it is later than one schedule interval (at most 1 hour) past its due '
'time. `python -m loaders rollups` runs failing and overdue TimescaleDB jobs in the foreground.';
comment on column ops.job_health.job is 'Job name: <kind> <relation> for policies, the procedure for custom jobs, rollups/retention for commands.';
comment on column ops.job_health.job_id is 'TimescaleDB job id (timescaledb_information.jobs); NULL for the project''s own commands.';
comment on column ops.job_health.kind is 'refresh (continuous aggregate), compression, retention, rollups, or the procedure of another job.';
comment on column ops.job_health.relation is 'Hypertable or continuous aggregate the policy works on (NULL for others).';
comment on column ops.job_health.scheduled is 'False when the job is paused (alter_job scheduled => false): never overdue.';
comment on column ops.job_health.schedule_interval is 'How often the job should run (commands: the maintenance.*_interval setting).';
comment on column ops.job_health.last_run_started_at is 'Start of the latest run, by the scheduler or in the foreground.';
comment on column ops.job_health.last_run_status is 'succeeded or failed (NULL: never ran).';
comment on column ops.job_health.last_run_by is 'Who ran the latest run: scheduler (TimescaleDB background worker), foreground (python -m loaders rollups) or cron.';
comment on column ops.job_health.last_success_at is 'End of the latest successful run, by whoever ran it.';
comment on column ops.job_health.next_start is 'When the TimescaleDB scheduler plans to start it next (commands: when cron should run it next).';
comment on column ops.job_health.due_at is 'When the next run is due: last success + schedule interval (never succeeded: the planned start; never started by any scheduler: one interval after the database was created).';
comment on column ops.job_health.consecutive_failures is 'Failed runs since the last success (scheduler and foreground).';
comment on column ops.job_health.last_error is 'Error message of the latest failed run (TimescaleDB: job_history/job_errors).';
comment on column ops.job_health.last_error_at is 'When the latest failed run ended.';
comment on column ops.job_health.failing is 'True when the latest run failed.';
comment on column ops.job_health.overdue is 'True when the job is more than one schedule interval (at most 1 hour) past due_at.';

grant select on ops.job_runs, ops.job_health to tsq_analyst, tsq_loader, tsq_trader;
