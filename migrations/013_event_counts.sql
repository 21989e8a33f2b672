-- A policy epoch's events by status, kept by the statements that write them. Policy stats used to count the epoch's
-- rows on every call: a scan of the events that grew with the log (at ten calls a second over a million events it
-- took a quarter of Postgres's CPU). Stats now read a few rows here.
--
-- Statement-level triggers keep the counts in the same transaction as the rows (exact, whatever the writer), once
-- per statement over its transition tables: inserts, updates (only rows whose status, policy or epoch changed move
-- a count), deletes, and a truncate (which empties the counts). Events without a policy (model-level readings, direct
-- calls) are not counted. Counter rows are taken in key order, so concurrent writers cannot deadlock on them.
create table event_counts (
  policy text not null,
  epoch  integer not null,
  status text not null,
  n      bigint not null,
  primary key (policy, epoch, status)
);

create function event_counts_apply() returns trigger language plpgsql as $$
begin
  if tg_op = 'INSERT' then
    insert into event_counts (policy, epoch, status, n)
    select policy, epoch, status, count(*) from new_rows where policy is not null
    group by policy, epoch, status order by policy, epoch, status
    on conflict (policy, epoch, status) do update set n = event_counts.n + excluded.n;
  elsif tg_op = 'UPDATE' then
    insert into event_counts (policy, epoch, status, n)
    select policy, epoch, status, sum(d) from (
      select policy, epoch, status, 1 as d from new_rows where policy is not null
      union all
      select policy, epoch, status, -1 as d from old_rows where policy is not null
    ) moved
    group by policy, epoch, status having sum(d) <> 0 order by policy, epoch, status
    on conflict (policy, epoch, status) do update set n = event_counts.n + excluded.n;
  elsif tg_op = 'TRUNCATE' then
    delete from event_counts;
  else
    insert into event_counts (policy, epoch, status, n)
    select policy, epoch, status, -count(*) from old_rows where policy is not null
    group by policy, epoch, status order by policy, epoch, status
    on conflict (policy, epoch, status) do update set n = event_counts.n + excluded.n;
  end if;
  return null;
end
$$;

-- Writers wait while the counts are taken (the queue holds their events meanwhile); readers do not.
set local lock_timeout = '5s';
lock table events in share row exclusive mode;
insert into event_counts (policy, epoch, status, n)
select policy, epoch, status, count(*) from events where policy is not null group by policy, epoch, status;

create trigger event_counts_insert after insert on events referencing new table as new_rows
  for each statement execute function event_counts_apply();
create trigger event_counts_update after update on events
  referencing old table as old_rows new table as new_rows for each statement execute function event_counts_apply();
create trigger event_counts_delete after delete on events referencing old table as old_rows
  for each statement execute function event_counts_apply();
create trigger event_counts_truncate after truncate on events for each statement execute function event_counts_apply();
