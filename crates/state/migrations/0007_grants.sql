-- What the operator accepted for each tenant's connection (toolhost grant): the component's
-- digest, origins, tools and routes. Shared so that every replica, and a command run on
-- another machine against the same database, checks the component against one grant.
CREATE TABLE toolhost_grants (
    tenant text PRIMARY KEY,
    grant_record jsonb NOT NULL,
    updated timestamptz NOT NULL DEFAULT now()
);
