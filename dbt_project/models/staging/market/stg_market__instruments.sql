with

source as (
    select * from {{ source('market', 'instruments') }}
),

renamed as (
    select
        instrument_id,
        exchange,
        symbol,
        exchange_symbol
    from source
)

select * from renamed
