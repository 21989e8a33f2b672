-- serves: GET /admin/policies/{name}/timeseries (decisions of one policy in a time window, bucketed) and the
-- evaluation window of POST …/evaluate (a policy's decisions between two instants, newest first)
create index decisions_policy_created on decisions (policy, created_at);
