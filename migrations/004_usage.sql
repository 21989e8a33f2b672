-- 004: the proxy records what each call measured (tokens, cost, latency) as a "usage" event of the decision.
alter table events add column cost_usd double precision;
alter table events drop constraint events_kind_check;
alter table events add constraint events_kind_check check (kind in ('feedback', 'energy', 'pairwise', 'usage'));
