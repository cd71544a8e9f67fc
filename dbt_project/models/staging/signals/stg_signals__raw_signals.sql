-- taapi.io values as received; simulated (DRY_RUN=1) rows stay flagged so strategies can leave them out.
with

source as (
    select * from {{ source('signals', 'raw_signals') }}
),

renamed as (
    select
        raw_signal_id,
        source as signal_provider,
        exchange,
        symbol,
        timeframe,
        indicator,
        indicator_key,
        params,
        value,
        outputs,
        source_time as open_time,
        received_at,
        simulated
    from source
)

select * from renamed
