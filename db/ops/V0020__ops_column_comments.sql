-- Comments on the ops columns V0010 left without one (issue 9, item 14: every column a user
-- queries says what it holds; tests/test_column_comments.py checks the whole catalogue).

comment on column ops.events.event_id is 'Surrogate key, increasing with insertion order.';
comment on column ops.system_logs.log_id is 'Surrogate key, increasing with insertion order.';
comment on column ops.system_logs.logged_at is 'When the line was logged (UTC).';
comment on column ops.system_logs.details is 'Structured context of the line (never secrets).';
comment on column ops.test_results.test_result_id is 'Surrogate key, increasing with insertion order.';
comment on column ops.test_results.recorded_at is 'When the result was recorded (UTC).';
