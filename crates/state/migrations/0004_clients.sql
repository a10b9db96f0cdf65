-- MCP clients (crates/state/src/clients.rs): one row per client of a tenant. Only the SHA-256
-- of a client's token is kept, never the token. A revoked client keeps its row (the audit log
-- still names it); names are unique per tenant, revoked ones included.
CREATE TABLE clients (
    tenant text NOT NULL,
    name text NOT NULL,
    -- Creation order, for listing (timestamps can tie).
    seq bigint GENERATED ALWAYS AS IDENTITY,
    role text NOT NULL,
    token_sha256 text NOT NULL,
    created timestamptz NOT NULL,
    revoked timestamptz,
    elicitation_approvals boolean NOT NULL DEFAULT false,
    PRIMARY KEY (tenant, name)
);

-- Authentication looks a presented token's hash up among one tenant's clients.
CREATE INDEX clients_by_token ON clients (tenant, token_sha256);
