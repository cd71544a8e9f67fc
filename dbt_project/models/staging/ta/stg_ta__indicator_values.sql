with

source as (
    select * from {{ source('ta', 'indicator_values') }}
),

renamed as (
    select
        indicator_id,
        open_time,
        value1,
        value2,
        value3
    from source
)

select * from renamed
