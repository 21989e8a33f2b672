-- A proxied decision answered by a fallback model is recorded as that model's decision (so its usage, energy and
-- thumbs teach the model that answered); the policy's own pick is kept here. Off-policy evaluation leaves these
-- decisions out: their action was not drawn with the logged propensity.
alter table decisions add column fallback_from text;
