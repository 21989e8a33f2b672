-- 006: what a policy keeps of its warm-start prior uploads, so that a prior larger than one request can be
-- uploaded in several calls that add up (POST /admin/policies/{name}/prior with "append": true). One row per arm:
-- the additive statistics of every offline outcome uploaded since the last replacing call. Kept out of the
-- policy's config, which every replica reads from the registry: d² numbers per arm would bloat it.
create table policy_prior_stats (
  policy  text not null references policies (name) on delete cascade, -- a deleted policy takes its uploads along
  arm     text not null,
  stats   bytea not null,   -- packed ArmStats, little-endian float64: n, Σr, Σ x xᵀ, Σ r x (quality head)
  primary key (policy, arm) -- serves: PriorStatsRepository.read (all arms of one policy)
);
