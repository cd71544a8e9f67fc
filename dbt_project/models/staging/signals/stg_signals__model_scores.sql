-- Model scores (models_py score) with the model's name, version and signal threshold.
with

scores as (
    select * from {{ source('signals', 'model_scores') }}
),

models as (
    select * from {{ source('signals', 'model_registry') }}
),

renamed as (
    select
        s.model_id,
        m.model_name,
        m.version as model_version,
        m.model_type,
        m.signal_threshold,
        s.instrument_id,
        s.timeframe,
        s.bar_time as open_time,
        s.class as predicted_class,
        s.probability,
        s.scored_at
    from scores as s
    inner join models as m on s.model_id = m.model_id
)

select * from renamed
