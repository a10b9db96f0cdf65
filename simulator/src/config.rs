//! How a simulator is configured: the accepted credentials, tenant size, token and task timing.

use crate::tenant;
use std::time::Duration;

/// Client id of the demo tenant. The `0e32` prefix marks an AU-region key, as real ids do.
pub const DEMO_CLIENT_ID: &str = "0e32sim-demo-client";
/// Secret of the demo tenant: deliberately and obviously fake.
pub const DEMO_CLIENT_SECRET: &str = "sim-demo-secret-not-a-real-key";

/// One API key the simulator accepts on `POST /v1/token`.
#[derive(Clone, Debug)]
pub struct ClientCredential {
    pub client_id: String,
    pub client_secret: String,
}

/// How many successful token mints one client id may make per window before the
/// token endpoint answers 423 Locked (ConnectWise locks keys that sign in too often).
#[derive(Clone, Debug)]
pub struct MintLimit {
    pub max_mints: u32,
    pub window: Duration,
}

#[derive(Clone, Debug)]
pub struct SimulatorConfig {
    /// Accepted credentials; defaults to the demo credential only.
    pub credentials: Vec<ClientCredential>,
    /// Total endpoints in the tenant. Values below the hand-seeded count keep the seed;
    /// extra endpoints are generated deterministically across companies and sites.
    pub endpoint_count: usize,
    /// Lifetime of minted tokens (`expires_in`).
    pub token_ttl: Duration,
    pub mint_limit: MintLimit,
    /// Time per task state transition (Scheduled -> Running -> Success/Failed).
    pub task_step: Duration,
    /// When offline endpoints "check in" for next-agent-check-in tasks; `None` = never.
    pub offline_checkin_after: Option<Duration>,
}

impl Default for SimulatorConfig {
    fn default() -> Self {
        SimulatorConfig {
            credentials: vec![ClientCredential {
                client_id: DEMO_CLIENT_ID.to_string(),
                client_secret: DEMO_CLIENT_SECRET.to_string(),
            }],
            endpoint_count: tenant::SEEDED_ENDPOINT_COUNT,
            token_ttl: Duration::from_secs(3599),
            mint_limit: MintLimit {
                max_mints: 20,
                window: Duration::from_secs(60),
            },
            task_step: Duration::from_secs(2),
            offline_checkin_after: None,
        }
    }
}

impl SimulatorConfig {
    /// Refuses a configuration the simulator cannot run with, saying why.
    pub(crate) fn validate(&self) -> Result<(), String> {
        if self.credentials.is_empty() {
            return Err("at least one client credential is required".into());
        }
        if self.mint_limit.max_mints == 0 {
            return Err("mint_limit.max_mints must be at least 1".into());
        }
        if self.endpoint_count > tenant::MAX_ENDPOINTS {
            return Err(format!(
                "endpoint_count must be at most {}",
                tenant::MAX_ENDPOINTS
            ));
        }
        Ok(())
    }
}
