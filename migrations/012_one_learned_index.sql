-- Learned events had two indexes on the same leading columns: (policy, epoch) and (policy, epoch, persisted_at),
-- both over status = 'learned'. Every query the first served (a rebuild's paged read of an epoch, closing an
-- epoch's events) finds the same rows through the second's leading columns, so the first only cost a write per
-- learned event. Dropping it takes a brief exclusive lock on events (no rows are read or written).
drop index if exists events_policy_epoch;
