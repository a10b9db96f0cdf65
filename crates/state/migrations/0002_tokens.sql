-- The access token of each connection of a tenant (crates/state/src/tokens.rs), shared by
-- every replica so that a tenant's token is minted once, not once per replica, and the API's 423
-- lock-out deadline is honoured by all of them. A row per (tenant, binding): `binding_key` is
-- the SHA-256 of the connection's binding (token endpoint, route, client id, scopes and the
-- secret's hash; never the secret). Times are Unix milliseconds, as in the home's token file.
-- `sealed` says whether `access_token` is encrypted with the operator's state key.
-- Replicas serialise on a transaction-level advisory lock per (tenant, binding), not on a row
-- lock, so the first mint of a binding (no row yet) is single-flight too.
CREATE TABLE access_tokens (
    tenant text NOT NULL,
    binding_key text NOT NULL,
    access_token bytea,
    sealed boolean NOT NULL DEFAULT false,
    refresh_at_ms bigint,
    unproven_until_ms bigint,
    locked_until_ms bigint,
    updated timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant, binding_key),
    CHECK ((access_token IS NULL) = (refresh_at_ms IS NULL))
);
