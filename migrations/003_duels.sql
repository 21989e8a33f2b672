-- 003: duelling bandits. A duel decision records both models; pairwise preferences are events of their own kind.
alter table decisions add column arms text[];
alter table events drop constraint events_kind_check;
alter table events add constraint events_kind_check check (kind in ('feedback', 'energy', 'pairwise'));
-- serves: DuelRecordsRepository.since (each replica's FGTS.CDB sampler reads the learned preferences and thumbs)
create index events_policy_persisted on events (policy, epoch, persisted_at) where status = 'learned';
