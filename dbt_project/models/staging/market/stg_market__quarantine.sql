-- Quarantined input rows with a record time, and the instrument they name when the payload
-- carries its instrument_id (rows refused after parsing, e.g. conflicts with a stored row).
with

source as (
    select * from {{ source('market', 'quarantine') }}
),

renamed as (
    select
        quarantine_id,
        source as quarantine_source,
        dataset,
        reason,
        symbol,
        record_time,
        substring(payload from '"instrument_id": ?([0-9]+)')::integer as payload_instrument_id
    from source
    where record_time is not null
)

select * from renamed
