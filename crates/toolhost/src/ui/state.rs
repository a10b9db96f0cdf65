//! What every handler of the admin UI shares, and where one tenant's UI is mounted.

use super::guard::AllowedHosts;
use super::passkeys::Passkeys;
use super::sessions::{Sessions, SESSION_COOKIE};
use std::sync::Arc;
use tokio::sync::RwLock;
use toolhost_governance::ApproverName;
use toolhost_host::{TenantName, ToolHost};

/// What every handler shares.
pub struct UiState {
    pub host: Arc<RwLock<ToolHost>>,
    pub sessions: Sessions,
    pub allowed: AllowedHosts,
    /// The person the one-time link signs in (`toolhost ui --approver NAME`).
    pub approver: ApproverName,
    pub upstream: Option<String>,
    pub passkeys: Passkeys,
    /// Where this UI is served, which names its session cookie.
    pub mount: UiMount,
}

impl UiState {
    /// The name calls and approvals from this UI carry.
    pub fn actor(&self) -> String {
        format!("ui:{}", self.approver)
    }
}

/// Where one tenant's admin UI is served: at the root (`toolhost ui`, and the default
/// tenant under `toolhost serve`) or at `/t/<tenant>/` (every tenant under `toolhost
/// serve`). Each mount has its own session cookie, scoped to its path, so a browser signed
/// in to two tenants keeps two sessions and never sends one tenant's to the other.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UiMount {
    /// `None` at the root; the tenant whose `/t/<tenant>/` this is otherwise.
    tenant: Option<TenantName>,
}

impl UiMount {
    /// The root: `/`, with the `toolhost_session` cookie.
    pub fn root() -> UiMount {
        UiMount { tenant: None }
    }

    /// `/t/<tenant>/`, with the `toolhost_session_<tenant>` cookie.
    pub fn tenant(tenant: &TenantName) -> UiMount {
        UiMount {
            tenant: Some(tenant.clone()),
        }
    }

    /// The path the UI's page is at, ending in `/` (`/` or `/t/<tenant>/`).
    pub fn path(&self) -> String {
        match &self.tenant {
            None => "/".to_string(),
            Some(tenant) => format!("/t/{tenant}/"),
        }
    }

    /// The session cookie's name. A tenant name (`[a-z0-9][a-z0-9-]*`) is a valid cookie
    /// name token as it is.
    pub fn cookie_name(&self) -> String {
        match &self.tenant {
            None => SESSION_COOKIE.to_string(),
            Some(tenant) => format!("{SESSION_COOKIE}_{tenant}"),
        }
    }

    /// The `Set-Cookie` value that starts `session` here (no Max-Age: it ends with the
    /// browser); the browser sends it back under this mount's path only.
    pub fn set_cookie(&self, session_id: &str) -> String {
        format!(
            "{}={session_id}; HttpOnly; SameSite=Strict; Path={}",
            self.cookie_name(),
            self.path()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_tenant_has_its_own_cookie_under_its_own_path() {
        let root = UiMount::root();
        assert_eq!(root.path(), "/");
        assert_eq!(
            root.set_cookie("abc"),
            "toolhost_session=abc; HttpOnly; SameSite=Strict; Path=/"
        );
        let acme = UiMount::tenant(&TenantName::parse("acme-1").unwrap());
        assert_eq!(acme.path(), "/t/acme-1/");
        assert_eq!(acme.cookie_name(), "toolhost_session_acme-1");
        assert_eq!(
            acme.set_cookie("abc"),
            "toolhost_session_acme-1=abc; HttpOnly; SameSite=Strict; Path=/t/acme-1/"
        );
        let other = UiMount::tenant(&TenantName::parse("acme").unwrap());
        assert_ne!(other.cookie_name(), acme.cookie_name());
    }
}
