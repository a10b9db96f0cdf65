-- Pending approvals and the audit log (crates/state/src/approvals.rs, crates/state/src/audit.rs),
-- shared by every replica of a tenant.

-- One row per approval. `record` is the approval as the embedded store writes it (the exact
-- arguments text and its SHA-256 inside); `phase` moves out of 'pending' by one conditional
-- UPDATE, which exactly one replica wins.
CREATE TABLE approvals (
    tenant text NOT NULL,
    id text NOT NULL,
    phase text NOT NULL CHECK (phase IN ('pending', 'executing', 'executed', 'denied')),
    tool text NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    record jsonb NOT NULL,
    PRIMARY KEY (tenant, id)
);

-- Listing is oldest first.
CREATE INDEX approvals_by_creation ON approvals (tenant, created_at, id);

-- One row per call attempt, never updated. `seq` orders the records of every replica in one
-- sequence; the columns beside `record` are what `toolhost audit` filters on.
CREATE TABLE audit_records (
    seq bigserial PRIMARY KEY,
    tenant text NOT NULL,
    time timestamptz NOT NULL,
    tool text NOT NULL,
    decision text NOT NULL,
    outcome text NOT NULL,
    record jsonb NOT NULL
);

CREATE INDEX audit_records_by_tenant ON audit_records (tenant, seq);
