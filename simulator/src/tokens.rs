//! The bearer-token store behind `POST /v1/token`: client-credential checks, scopes, expiry
//! and the per-key mint lock-out.

use crate::config::{ClientCredential, MintLimit, SimulatorConfig};
use crate::lock::lock;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Scopes a key can be granted (asio-api.md §1.5). An empty or missing `scope` grants all.
pub const KNOWN_SCOPES: &[&str] = &[
    "platform.companies.read",
    "platform.sites.read",
    "platform.asset.read",
    "platform.devices.read",
    "platform.deviceGroups.read",
    "platform.automation.read",
    "platform.automation.create",
    "platform.patching.read",
    "platform.tickets.read",
    "platform.tickets.create",
    "platform.tickets.update",
];

struct IssuedToken {
    expires_at: Instant,
}

pub struct TokenStore {
    credentials: Vec<ClientCredential>,
    ttl: Duration,
    limit: MintLimit,
    tokens: Mutex<HashMap<String, IssuedToken>>,
    /// Successful mint instants per client id, for the lock-out window.
    mint_log: Mutex<HashMap<String, VecDeque<Instant>>>,
    mints: AtomicU64,
    /// Every token ever minted (never pruned), for secret-hygiene tests.
    issued: Mutex<Vec<String>>,
}

#[derive(Debug, PartialEq)]
pub enum MintError {
    InvalidRequest(String),
    UnsupportedGrant,
    InvalidClient,
    InvalidScope(String),
    Locked { retry_after_secs: u64 },
}

impl TokenStore {
    pub fn new(config: &SimulatorConfig) -> TokenStore {
        TokenStore {
            credentials: config.credentials.clone(),
            ttl: config.token_ttl,
            limit: config.mint_limit.clone(),
            tokens: Mutex::new(HashMap::new()),
            mint_log: Mutex::new(HashMap::new()),
            mints: AtomicU64::new(0),
            issued: Mutex::new(Vec::new()),
        }
    }

    pub fn mints(&self) -> u64 {
        self.mints.load(Ordering::SeqCst)
    }

    pub fn issued(&self) -> Vec<String> {
        lock(&self.issued).clone()
    }

    pub fn expire_all(&self) {
        lock(&self.tokens).clear();
    }

    pub fn is_valid(&self, token: &str) -> bool {
        let now = Instant::now();
        let mut tokens = lock(&self.tokens);
        tokens.retain(|_, t| t.expires_at > now);
        tokens.contains_key(token)
    }

    /// Validates a client-credentials request and mints a token; returns (token, granted scope).
    pub fn mint(&self, req: &TokenRequest) -> Result<(String, String), MintError> {
        let grant = req.grant_type.as_deref().unwrap_or("");
        if grant.is_empty() {
            return Err(MintError::InvalidRequest("grant_type is required".into()));
        }
        if grant != "client_credentials" {
            return Err(MintError::UnsupportedGrant);
        }
        let (Some(id), Some(secret)) = (req.client_id.as_deref(), req.client_secret.as_deref())
        else {
            return Err(MintError::InvalidRequest(
                "client_id and client_secret are required".into(),
            ));
        };
        if !self
            .credentials
            .iter()
            .any(|c| c.client_id == id && c.client_secret == secret)
        {
            return Err(MintError::InvalidClient);
        }
        let requested: Vec<&str> = req
            .scope
            .as_deref()
            .unwrap_or("")
            .split_whitespace()
            .collect();
        if let Some(unknown) = requested.iter().find(|s| !KNOWN_SCOPES.contains(s)) {
            return Err(MintError::InvalidScope((*unknown).to_string()));
        }
        let scope = if requested.is_empty() {
            KNOWN_SCOPES.join(" ")
        } else {
            requested.join(" ")
        };
        let now = Instant::now();
        {
            let mut log = lock(&self.mint_log);
            let entries = log.entry(id.to_string()).or_default();
            while entries
                .front()
                .is_some_and(|t| now.duration_since(*t) >= self.limit.window)
            {
                entries.pop_front();
            }
            if entries.len() >= self.limit.max_mints as usize {
                let oldest = entries.front().copied().unwrap_or(now);
                let wait = self.limit.window.saturating_sub(now.duration_since(oldest));
                let retry_after_secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
                return Err(MintError::Locked {
                    retry_after_secs: retry_after_secs.max(1),
                });
            }
            entries.push_back(now);
        }
        // Two v4 UUIDs give 244 random bits, in the URL-safe alphabet real tokens use.
        let token = format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        lock(&self.tokens).insert(
            token.clone(),
            IssuedToken {
                expires_at: now + self.ttl,
            },
        );
        lock(&self.issued).push(token.clone());
        self.mints.fetch_add(1, Ordering::SeqCst);
        Ok((token, scope))
    }
}

#[derive(serde::Deserialize, Debug, Default)]
pub struct TokenRequest {
    pub grant_type: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub scope: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(max: u32) -> TokenStore {
        let mut cfg = SimulatorConfig::default();
        cfg.mint_limit.max_mints = max;
        TokenStore::new(&cfg)
    }

    fn req(secret: &str, scope: Option<&str>) -> TokenRequest {
        TokenRequest {
            grant_type: Some("client_credentials".into()),
            client_id: Some(crate::config::DEMO_CLIENT_ID.into()),
            client_secret: Some(secret.into()),
            scope: scope.map(str::to_string),
        }
    }

    #[test]
    fn mints_validates_and_expires() {
        let s = store(5);
        let (t, scope) = s
            .mint(&req(crate::config::DEMO_CLIENT_SECRET, None))
            .unwrap();
        assert!(scope.contains("platform.companies.read"));
        assert!(s.is_valid(&t));
        s.expire_all();
        assert!(!s.is_valid(&t));
        assert_eq!(s.mint(&req("wrong", None)), Err(MintError::InvalidClient));
        assert!(matches!(
            s.mint(&req(crate::config::DEMO_CLIENT_SECRET, Some("nope"))),
            Err(MintError::InvalidScope(_))
        ));
        assert_eq!(s.mints(), 1);
    }

    #[test]
    fn locks_after_the_limit() {
        let s = store(2);
        for _ in 0..2 {
            s.mint(&req(crate::config::DEMO_CLIENT_SECRET, None))
                .unwrap();
        }
        assert!(
            matches!(s.mint(&req(crate::config::DEMO_CLIENT_SECRET, None)), Err(MintError::Locked { retry_after_secs }) if retry_after_secs >= 1)
        );
    }
}
