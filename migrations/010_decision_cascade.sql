-- A decision of an escalation policy records its place in the cascade: the router decision the request started
-- with, the models called so far, and the router decision whose model's answer stands (feedback on the final answer
-- teaches it too).
alter table decisions add column cascade jsonb;
