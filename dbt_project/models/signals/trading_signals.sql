-- bi.trading_signals: the public view of the signals (seed 002's trading_signals shape): the
-- strategies' signals and the ML models' signals (signals.ml_signals).
{{ config(materialized='view', schema='bi') }}

select
    symbol,
    instrument_id,
    exchange,
    timeframe,
    signal_type,
    signal_source,
    direction,
    strength,
    confidence,
    parameters,
    bar_time,
    signal_time,
    generated_at
from {{ ref('strategy_signals') }}
union all
select
    symbol,
    instrument_id,
    exchange,
    timeframe,
    signal_type,
    signal_source,
    direction,
    strength,
    confidence,
    parameters,
    bar_time,
    signal_time,
    generated_at
from {{ ref('ml_signals') }}
