-- Every event and decision row is written twice: inserted, then updated once its learning pass closes
-- (applied = true). The update touches no indexed column, so it can stay on the row's page without new index
-- entries (a heap-only update), but only if the page has room: at the default fill factor new rows pack their
-- pages full, and nearly every close wrote a new row version elsewhere plus an entry in every index. Pages
-- filled from now on stay half empty, room for each row's closed version beside it (the dead one is pruned later
-- without a vacuum). Takes no lock that blocks reads or writes.
alter table events set (fillfactor = 50);
alter table decisions set (fillfactor = 50);
