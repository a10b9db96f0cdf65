-- Tenant connections (crates/state/src/connections.rs): one row per tenant. `settings` holds
-- what is not secret (region, client id, scopes, routes). The API client secret is only ever
-- stored sealed: AES-256-GCM under the operator's key (TOOLHOST_STATE_KEY), bound to its row,
-- so a copy of this table is useless without the key and a sealed value moved to another
-- tenant's row does not open there.
CREATE TABLE toolhost_connections (
    tenant text PRIMARY KEY,
    settings jsonb NOT NULL,
    -- version byte, 12-byte nonce, ciphertext, 16-byte tag: never shorter than 29 bytes.
    client_secret_sealed bytea NOT NULL CHECK (octet_length(client_secret_sealed) >= 29),
    updated timestamptz NOT NULL DEFAULT now()
);
