//! What a host is started with: where its state lives, which plugin it runs, and its limits.

use crate::tenant::TenantName;
use std::path::PathBuf;
use std::time::Duration;
use toolhost_sandbox::{CallLimits, RetryPolicy, Timeouts};

/// Everything the host needs to start.
#[derive(Debug, Clone)]
pub struct HostConfig {
    /// The tenant this host acts in (see [`crate::TenantName`]).
    pub tenant: TenantName,
    /// Private state of the tenant: the connection file, the catalog, and by default
    /// everything below (see [`HostConfig::for_tenant`]).
    pub home: PathBuf,
    /// Compiled components (default: `<home>/cache`).
    pub cache_dir: PathBuf,
    /// The plugin component (`.wasm`).
    pub plugin: PathBuf,
    /// Per-call limits of the sandbox (memory, deadline, output, concurrency).
    pub limits: CallLimits,
    /// Per-call limits of the outbound gate.
    pub outbound: OutboundLimits,
    /// How long discovered tools are trusted before they are discovered again.
    pub catalog_ttl: Duration,
    /// Operator overrides of tool modes (`toolhost policy set` writes it).
    pub policy_file: PathBuf,
    /// The role table; missing means the default table.
    pub roles_file: PathBuf,
    /// Pending and decided approvals, one file each.
    pub approvals_dir: PathBuf,
    /// How long a pending approval may wait for a decision.
    pub approval_ttl: Duration,
    /// Approvals need the approver's passkey (`toolhost.toml` `[approvals] require_passkey`):
    /// only the admin UI, which verifies one, can approve; terminal prompts and
    /// `toolhost approvals approve` refuse.
    pub require_passkey: bool,
    /// The append-only audit log.
    pub audit_log: PathBuf,
    /// Where approvals and audit records are kept: the files above (the default) or a
    /// database several replicas share.
    pub state: crate::state::StateBackend,
    /// The role of a caller who names none, unless the policy file's `[settings]
    /// default_role` says otherwise. `None`: the plugin's default role.
    pub default_role: Option<String>,
    /// The role of the operator at the CLI (`toolhost.toml` `[operator] role`): what a
    /// `toolhost call` runs as, and the most `--as` may name (it may only lower it). `None`:
    /// the role a caller who names none runs as.
    pub operator_role: Option<String>,
}

/// How long discovered tools are served before they are discovered again.
pub const DEFAULT_CATALOG_TTL: Duration = Duration::from_secs(15 * 60);

/// Per-call limits of the outbound gate.
#[derive(Debug, Clone, Copy)]
pub struct OutboundLimits {
    /// Connect, first-byte and between-bytes timeouts.
    pub timeouts: Timeouts,
    /// Retries of idempotent requests on transient failures.
    pub retry: RetryPolicy,
    /// Requests one call may send upstream, retries and 401 replays included.
    pub max_requests_per_call: u32,
    /// Requests one call may have in flight at once (sent, answer not yet read).
    pub max_in_flight_per_call: u32,
    /// Largest request body a plugin may send.
    pub max_request_body_bytes: u64,
    /// Largest response body the gate passes back to the plugin.
    pub max_response_body_bytes: u64,
}

impl Default for OutboundLimits {
    fn default() -> OutboundLimits {
        OutboundLimits {
            timeouts: Timeouts::default(),
            retry: RetryPolicy::default(),
            // Listing 10,000 devices takes 20 pages per company chunk; leave headroom.
            max_requests_per_call: 200,
            // The ConnectWise plugin sends one request at a time; a plugin that fans out
            // gets a few connections, not one per page it wants.
            max_in_flight_per_call: 8,
            max_request_body_bytes: 1 << 20,
            max_response_body_bytes: 16 << 20,
        }
    }
}

impl HostConfig {
    /// The default layout under `home`, running the component at `plugin`.
    pub fn new(home: impl Into<PathBuf>, plugin: impl Into<PathBuf>) -> HostConfig {
        let home = home.into();
        HostConfig {
            cache_dir: home.join("cache"),
            policy_file: home.join("policy.toml"),
            roles_file: home.join("roles.toml"),
            approvals_dir: home.join("approvals"),
            approval_ttl: toolhost_governance::DEFAULT_APPROVAL_TTL,
            require_passkey: false,
            audit_log: home.join("audit.jsonl"),
            state: Default::default(),
            default_role: None,
            operator_role: None,
            tenant: TenantName::default_tenant(),
            home,
            plugin: plugin.into(),
            limits: CallLimits::default(),
            outbound: OutboundLimits::default(),
            catalog_ttl: DEFAULT_CATALOG_TTL,
        }
    }

    /// The layout of `tenant` in the root `home`: its state in [`TenantName::home_in`] (the
    /// home itself for the default tenant, so a home from before tenants is unchanged), the
    /// compiled components in the root's shared cache (they hold no tenant's data).
    pub fn for_tenant(
        home: impl Into<PathBuf>,
        tenant: TenantName,
        plugin: impl Into<PathBuf>,
    ) -> HostConfig {
        let root = home.into();
        let mut config = HostConfig::new(tenant.home_in(&root), plugin);
        config.cache_dir = root.join("cache");
        config.tenant = tenant;
        config
    }
}
