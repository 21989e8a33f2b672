-- An event or decision row whose learning pass is open is written twice: inserted, then updated to applied = true
-- when its pass closes. That update touches no indexed column (nor one in an index predicate), so it can stay on
-- the row's page without new index entries (a heap-only update), but only if the page has room: at the default
-- fill factor new rows pack their pages full, and nearly every close wrote a new row version elsewhere plus an
-- entry in every index. Pages filled from now on stay half empty, room for each row's closed version beside it
-- (the dead one is pruned later without a vacuum). Rows inserted already closed (late, stale, direct usage) only
-- take more room. Takes no lock that blocks reads or writes.
alter table events set (fillfactor = 50);
alter table decisions set (fillfactor = 50);
