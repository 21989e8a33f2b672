-- 008: per-key limits, spend per key, direct model calls.
-- limits: {requestsPerMinute?, tokensPerMinute?, usdPerDay?} enforced by the api in Redis; null = no limits.
alter table api_keys add column limits jsonb;

-- The key that made a proxied or direct call, on its usage event (null for events of earlier versions).
alter table events add column key_id text;

-- 'direct': the usage of a direct model call (no decision, nothing learnt).
alter table events drop constraint events_status_check;
alter table events add constraint events_status_check
  check (status in ('learned', 'late', 'superseded', 'stale', 'model', 'removed', 'direct'));

-- serves: GET /admin/keys/{id}/usage (one key's usage events in a time window, summed per model)
create index events_key_usage on events (key_id, received_at) where kind = 'usage' and key_id is not null;
