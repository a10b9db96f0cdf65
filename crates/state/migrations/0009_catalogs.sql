-- The discovered half of each tenant's tool catalog (crates/state/src/catalogs.rs): the tools
-- the plugin found in the tenant (one per script), shared by every replica so that a refresh
-- on one is what all of them serve, at once. Keyed as a home's catalog.json is: by the
-- component build that discovered it and the connection (region, client id) it was
-- discovered through; a catalog of another build or connection is never used.
-- `revision` counts the refreshes of the row: a replica that waited for the refresh lock and
-- finds another revision than it read uses that catalog instead of discovering again.
-- `discovered_at_ms` is when the discovery that produced it began (Unix milliseconds): the
-- catalog's age, against each replica's TTL.
-- Replicas take turns refreshing on a session-level advisory lock per (tenant, key).
CREATE TABLE toolhost_catalogs (
    tenant text NOT NULL,
    component_sha256 text NOT NULL,
    region text NOT NULL,
    client_id text NOT NULL,
    revision bigint NOT NULL,
    discovered_at_ms bigint NOT NULL,
    tools jsonb NOT NULL,
    updated timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant, component_sha256, region, client_id)
);
