//! [`StateError`]: what goes wrong with the state database, said so an operator can act. A
//! message names the server (host:port) and the database, never the URL (it may hold a
//! password).

/// Why the state database could not be used.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// The database URL does not parse (its text is not repeated: it may hold a password).
    #[error("the database URL (--database-url / TOOLHOST_DATABASE_URL) is not a PostgreSQL URL: {reason}; expected postgres://USER:PASSWORD@HOST:PORT/DATABASE")]
    InvalidUrl {
        /// What is wrong with it.
        reason: String,
    },
    /// No connection could be made or kept, or the server did not answer in time.
    #[error("the state database `{database}` at {at} is unreachable: {detail}. Check that PostgreSQL runs there and this host can reach it")]
    Unreachable {
        /// The server, `host:port`.
        at: String,
        /// The database name.
        database: String,
        /// What failed.
        detail: String,
    },
    /// The server answered with an error.
    #[error("the state database `{database}` at {at} refused {what}: {detail}")]
    Query {
        /// The server, `host:port`.
        at: String,
        /// The database name.
        database: String,
        /// What was being done.
        what: String,
        /// The server's message.
        detail: String,
    },
    /// A migration could not be applied; the schema is as it was before it.
    #[error(
        "the state database `{database}` at {at}: migration {version} ({name}) failed: {detail}"
    )]
    Migration {
        /// The server, `host:port`.
        at: String,
        /// The database name.
        database: String,
        /// The migration's number.
        version: u32,
        /// Its name.
        name: String,
        /// Why.
        detail: String,
    },
    /// The TLS the URL's `sslmode` asks for could not be had: the server's certificate is not
    /// trusted or does not name the host, or the server offers no TLS.
    #[error("the state database `{database}` at {at}: {detail}")]
    Tls {
        /// The server, `host:port`.
        at: String,
        /// The database name.
        database: String,
        /// What failed and the fix.
        detail: String,
    },
    /// The private CA file (`TOOLHOST_DATABASE_CA_FILE`) is unusable.
    #[error("TOOLHOST_DATABASE_CA_FILE ({}) {reason}: it must be the PEM file of the CA that signed the database server's certificate", path.display())]
    CaFile {
        /// The file named.
        path: std::path::PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A stored record does not read back as one this crate wrote: it is never used.
    #[error("the state database `{database}` at {at} holds a damaged record: {what}")]
    Corrupt {
        /// The server, `host:port`.
        at: String,
        /// The database name.
        database: String,
        /// Which record and what is wrong with it.
        what: String,
    },
}

impl From<StateError> for toolhost_governance::ApprovalError {
    fn from(err: StateError) -> Self {
        toolhost_governance::ApprovalError::Store(Box::new(err))
    }
}

impl From<StateError> for toolhost_governance::AuditError {
    fn from(err: StateError) -> Self {
        toolhost_governance::AuditError::Store(Box::new(err))
    }
}
