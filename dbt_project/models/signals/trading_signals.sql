-- bi.trading_signals: the public view of the signals (seed 002's trading_signals shape): the
-- strategies' signals and the ML models' signals (signals.ml_signals).
{{ config(materialized='view', schema='bi') }}

{%- set columns = [
    'symbol', 'instrument_id', 'exchange', 'timeframe', 'signal_type', 'signal_source', 'direction',
    'strength', 'confidence', 'parameters', 'bar_time', 'signal_time', 'generated_at',
] %}

select {{ columns | join(', ') }}
from {{ ref('strategy_signals') }}
union all
select {{ columns | join(', ') }}
from {{ ref('ml_signals') }}
