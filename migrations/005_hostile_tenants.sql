-- 005: keys that may only post energy readings (inference hosts); readings an admin removed; events that could
-- not be learnt and were set aside (dead letters); the median of recent readings per model.
alter table api_keys drop constraint api_keys_scope_check;
alter table api_keys add constraint api_keys_scope_check check (scope in ('route', 'telemetry', 'admin'));

alter table events drop constraint events_status_check;
alter table events add constraint events_status_check check (status in ('learned', 'late', 'superseded', 'stale', 'model', 'removed'));

-- serves: the per-model energy estimate (median J/token of each model's newest readings) and the admin listing
create index events_model_readings_recent on events (model, received_at desc) where status = 'model';

create table dead_letters (
  id          bigserial primary key,
  kind        text not null,                 -- feedback | energy | usage | decisions
  event_id    text,                          -- the stored event id (null for decisions)
  decision_id text,
  policy      text,
  error       text not null,
  payload     bytea not null,                -- the job's item as JSON (UTF-8; it may hold what Postgres text rejects)
  at          timestamptz not null default now()
);
-- serves: stats per policy and the admin listing, newest first
create index dead_letters_policy_at on dead_letters (policy, at desc);
