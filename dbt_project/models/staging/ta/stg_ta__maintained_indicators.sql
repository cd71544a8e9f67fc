with

source as (
    select * from {{ source('ta', 'maintained_indicators') }}
),

renamed as (
    select
        indicator_id,
        instrument_id,
        timeframe,
        indicator,
        params,
        name as maintained_name,
        enabled
    from source
)

select * from renamed
