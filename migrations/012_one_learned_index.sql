-- Learned events had two indexes on the same leading columns: (policy, epoch) and (policy, epoch, persisted_at),
-- both over status = 'learned'. Every query the first served (a rebuild's paged read of an epoch, closing an
-- epoch's events) finds the same rows through the second's leading columns, so the first only cost a write per
-- learned event. Dropping it needs an exclusive lock on events for a moment; while it waits for a long read of the
-- table, every write would queue behind it, so it waits 5 s at most: if a long read holds the table, the
-- migration fails without a change and can simply be run again.
set local lock_timeout = '5s';
drop index if exists events_policy_epoch;
