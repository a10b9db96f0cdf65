-- The admin UI's state, shared by every replica of a tenant (crates/state/src/ui_sessions.rs,
-- crates/state/src/passkeys.rs): a browser signed in through one replica is signed in on all,
-- and a passkey ceremony begun on one finishes on another.

-- Launch tokens: the SHA-256 of each printed token (never the token), spent once on whichever
-- replica (UPDATE ... WHERE spent IS NULL decides).
CREATE TABLE ui_launch_tokens (
    tenant text NOT NULL,
    token_sha256 text NOT NULL,
    created timestamptz NOT NULL DEFAULT now(),
    spent timestamptz,
    PRIMARY KEY (tenant, token_sha256)
);

-- Sessions: the SHA-256 of the session id (the cookie's value is never stored), the CSRF
-- token the page echoes, and an absolute expiry; logging out deletes the row.
CREATE TABLE ui_sessions (
    tenant text NOT NULL,
    id_sha256 text NOT NULL,
    csrf text NOT NULL,
    created timestamptz NOT NULL DEFAULT now(),
    expires timestamptz NOT NULL,
    PRIMARY KEY (tenant, id_sha256)
);
CREATE INDEX ui_sessions_expires ON ui_sessions (tenant, expires);

-- Enrolled passkeys: per approver the WebAuthn user handle and the public credentials (as
-- webauthn-rs serialises them, signature counters included), written back after each use.
CREATE TABLE ui_passkeys (
    tenant text NOT NULL,
    approver text NOT NULL,
    user_id text NOT NULL,
    passkeys jsonb NOT NULL,
    updated timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant, approver)
);

-- Open passkey ceremonies (an enrolment by session, an approval challenge by approval id):
-- each taken exactly once (DELETE ... RETURNING), its age measured on the server's clock.
CREATE TABLE ui_ceremonies (
    tenant text NOT NULL,
    kind text NOT NULL,
    key text NOT NULL,
    state jsonb NOT NULL,
    issued timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant, kind, key)
);
