-- perf.backtest_equity's reference to perf.backtest_runs, checked once per statement (V0502): the
-- rows a statement writes must belong to existing runs (locked FOR KEY SHARE, as a foreign key
-- locks them), and deleting or truncating runs removes their equity rows.

create or replace function perf._equity_rows_have_runs()
returns trigger
language plpgsql
security definer
set search_path = ''
as $function$
declare
    v_runs integer;
    v_found integer;
begin
    -- Statement trigger over the written rows (transition table written_rows).
    perform 'PRAGMA:TABLE: written_rows (like perf.backtest_equity)';  -- for plpgsql_check
    select count(*) into v_runs from (select distinct w.run_id from written_rows as w) as d;
    select count(*) into v_found
    from (
        select r.run_id from perf.backtest_runs as r
        where r.run_id in (select w.run_id from written_rows as w)
        for key share of r
    ) as locked;
    if v_found < v_runs then
        raise exception 'perf.backtest_equity: rows for a run that is not in perf.backtest_runs'
            using errcode = 'foreign_key_violation';
    end if;
    return null;
end;
$function$;

comment on function perf._equity_rows_have_runs() is
'Trigger function: the equity rows a statement wrote belong to existing runs (the foreign key of '
'perf.backtest_equity.run_id, checked once per statement).';

create or replace function perf._runs_removed()
returns trigger
language plpgsql
security definer
set search_path = ''
as $function$
begin
    -- Cascade of deleted (transition table removed_rows) or truncated runs to their equity rows.
    perform 'PRAGMA:TABLE: removed_rows (like perf.backtest_runs)';  -- for plpgsql_check
    if tg_op = 'TRUNCATE' then
        truncate perf.backtest_equity;
    else
        delete from perf.backtest_equity as e using removed_rows as d where e.run_id = d.run_id;
    end if;
    return null;
end;
$function$;

comment on function perf._runs_removed() is
'Trigger function: deleting (or truncating) backtest runs deletes their equity rows.';

drop trigger if exists runs_exist_insert on perf.backtest_equity;
create trigger runs_exist_insert
after insert on perf.backtest_equity
referencing new table as written_rows
for each statement execute function perf._equity_rows_have_runs();

drop trigger if exists runs_exist_update on perf.backtest_equity;
create trigger runs_exist_update
after update on perf.backtest_equity
referencing new table as written_rows
for each statement execute function perf._equity_rows_have_runs();

drop trigger if exists equity_cascade_delete on perf.backtest_runs;
create trigger equity_cascade_delete
after delete on perf.backtest_runs
referencing old table as removed_rows
for each statement execute function perf._runs_removed();

drop trigger if exists equity_cascade_truncate on perf.backtest_runs;
create trigger equity_cascade_truncate
after truncate on perf.backtest_runs
for each statement execute function perf._runs_removed();

revoke execute on function perf._equity_rows_have_runs() from tsq_analyst, tsq_trader;
revoke execute on function perf._runs_removed() from tsq_analyst, tsq_trader;
