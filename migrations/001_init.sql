-- 001: keys, models, policies (with audit), decisions and events: the durable record the Redis learning state
-- is rebuilt from. Applied in one transaction by scripts/migrate.ts.

create table api_keys (
  id          text primary key,
  name        text not null,                 -- also the owner: feedback may only reference the owner's decisions
  scope       text not null check (scope in ('route', 'admin')),
  policies    text[],                        -- null = every policy
  secret_hash text not null unique,          -- sha256 of the secret; the secret itself is never stored
  created_at  timestamptz not null default now(),
  revoked_at  timestamptz
);

create table models (
  id         text primary key,
  config     jsonb not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create table policies (
  name       text primary key,
  config     jsonb not null,
  version    integer not null,              -- bumped on every change of config or objective
  epoch      integer not null default 1,    -- bumped on reset: learning state = fold of this epoch's log
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create table policy_audit (
  id      bigserial primary key,
  policy  text not null,
  action  text not null,                    -- create | replace | objective | reset | rebuild | delete
  actor   text not null,                    -- key id
  before  jsonb,
  after   jsonb,
  at      timestamptz not null default now()
);
-- serves: audit listing of one policy, newest first
create index policy_audit_policy_at on policy_audit (policy, at desc);

create table decisions (
  applied        boolean not null default false, -- its A update reached the Redis state (rebuild sets it too)
  id             text primary key,
  policy         text not null,
  epoch          integer not null,
  policy_version integer not null,
  arm            text not null,
  arm_index      integer not null,
  propensity     double precision not null,
  context        double precision[] not null,
  estimates      jsonb not null,
  owner          text not null,
  mode           text not null,
  created_at     timestamptz not null,
  persisted_at   timestamptz not null default now()
);
-- serves: rebuild (fold one policy epoch's decisions)
create index decisions_policy_epoch on decisions (policy, epoch);

create table events (
  applied       boolean not null default false,  -- learning pass done (applied, superseded or stale)
  id            text primary key,            -- the client's event id (or Idempotency-Key): exactly-once key
  kind          text not null check (kind in ('feedback', 'energy')),
  decision_id   text,
  policy        text,
  epoch         integer,
  arm           text,
  status        text not null check (status in ('learned', 'late', 'superseded', 'stale', 'model')),
  reward        double precision,
  joules        double precision,
  input_tokens  integer,
  output_tokens integer,
  latency_ms    double precision,
  model         text,
  payload       jsonb,
  received_at   timestamptz not null,
  persisted_at  timestamptz not null default now()
);
-- serves: rebuild (fold one policy epoch's learned events)
create index events_policy_epoch on events (policy, epoch) where status = 'learned';
-- serves: "earliest" aggregation and stats per decision
create index events_decision on events (decision_id, kind);
