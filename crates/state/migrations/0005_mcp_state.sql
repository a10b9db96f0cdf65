-- The state of MCP 2026-07-28 approval rounds (crates/state/src/mcp_state.rs), shared by every
-- replica of a tenant: the key that signs `requestState` values, and which approvals' outcomes
-- were already delivered.

-- One key per tenant, created by whichever replica comes first (INSERT ... ON CONFLICT DO
-- NOTHING, then read back, so replicas starting together agree). `sealed` says whether `key`
-- is encrypted with the operator's state key.
CREATE TABLE mcp_state_keys (
    tenant text PRIMARY KEY,
    key bytea NOT NULL,
    sealed boolean NOT NULL,
    created timestamptz NOT NULL DEFAULT now()
);

-- A row per approval whose outcome was delivered: the INSERT that succeeds is the one
-- delivery, on whichever replica.
CREATE TABLE mcp_redeemed (
    tenant text NOT NULL,
    approval text NOT NULL,
    redeemed timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant, approval)
);
