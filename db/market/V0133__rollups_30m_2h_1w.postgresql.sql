-- Plain PostgreSQL mode: rollup tables of the timeframes added by V0132 (30m from 15m, 2h from 1h,
-- 1w from 1d), with the same columns as the six of V0107__rollups.postgresql.sql. Kept up to date
-- by market.refresh_rollups(), which follows market.timeframes.rollup_parent.

do $tables$
declare
    v_chain text;
    v_tf text;
    v_parent text;
    v_rel text;
begin
    foreach v_chain in array array['trade', 'native'] loop
        for v_tf, v_parent in select t.timeframe, t.rollup_parent from market.timeframes as t
            where t.timeframe in ('30m', '2h', '1w') order by t.bucket_width
        loop
            v_rel := v_chain || '_candles_' || v_tf;
            execute format(
                $ddl$
                create table market.%1$I (
                    instrument_id integer not null,
                    open_time timestamptz not null,
                    open double precision not null,
                    high double precision not null,
                    low double precision not null,
                    close double precision not null,
                    volume double precision not null,
                    quote_volume double precision %2$s,
                    vwap double precision,
                    trade_count bigint %2$s,
                    primary key (instrument_id, open_time)
                )
                $ddl$,
                v_rel, case when v_chain = 'trade' then 'not null' else '' end
            );
            execute format('comment on table market.%I is %L', v_rel,
                v_tf || ' candles rolled up from market.' || v_chain || '_candles_' || v_parent
                || ' (plain-mode rollup table). Read market.candles_' || v_tf || ' instead.');
            execute format(
                $comments$
                comment on column market.%1$I.instrument_id is 'Instrument.';
                comment on column market.%1$I.open_time is 'Start of the bucket (UTC, aligned like time_bucket: weeks start on Monday).';
                comment on column market.%1$I.open is 'First price.';
                comment on column market.%1$I.high is 'Highest price.';
                comment on column market.%1$I.low is 'Lowest price.';
                comment on column market.%1$I.close is 'Last price.';
                comment on column market.%1$I.volume is 'Sum of volumes.';
                comment on column market.%1$I.quote_volume is 'Sum of quote volumes (NULL when an input lacks it).';
                comment on column market.%1$I.vwap is 'quote_volume / volume.';
                comment on column market.%1$I.trade_count is 'Number of trades (NULL when an input lacks it).';
                $comments$,
                v_rel
            );
            execute format('grant select on market.%I to tsq_loader, tsq_analyst, tsq_trader', v_rel);
        end loop;
    end loop;
end
$tables$;
