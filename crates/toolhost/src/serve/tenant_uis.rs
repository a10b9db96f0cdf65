//! The admin UI of every tenant on serve's one listener. Each tenant's UI is served at
//! `/t/<tenant>/` (the default tenant's also at `/`, where `toolhost ui` serves it) and
//! acts in exactly that tenant: its own host, sessions, one-time launch link, passkeys and
//! session cookie (named after the tenant and scoped to its path). A session of tenant A
//! is unknown under `/t/b/`; the Host/Origin guard runs in front of every mount.

use crate::ui::guard::AllowedHosts;
use crate::ui::passkeys::Passkeys;
use crate::ui::sessions::Sessions;
use crate::ui::{UiMount, UiState};
use axum::extract::Request;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Router;
use std::sync::Arc;
use tokio::sync::RwLock;
use toolhost_governance::ApproverName;
use toolhost_host::{TenantName, ToolHost};

/// One tenant's admin UI, ready to be routed.
pub struct TenantUi {
    pub tenant: TenantName,
    pub state: Arc<UiState>,
}

/// What every tenant's UI shares on this listener.
pub struct UiSettings<'a> {
    pub allowed: &'a AllowedHosts,
    pub approver: &'a ApproverName,
    pub port: u16,
}

impl TenantUi {
    /// The UI of `host`'s tenant: mounted at the root for the default tenant (its cookie
    /// then covers `/t/default/` too), at `/t/<tenant>/` otherwise.
    pub async fn new(host: ToolHost, settings: &UiSettings<'_>) -> anyhow::Result<TenantUi> {
        let tenant = host.tenant().clone();
        let passkeys = Passkeys::for_host(host.config(), settings.port).await?;
        let mount = if tenant.is_default() {
            UiMount::root()
        } else {
            UiMount::tenant(&tenant)
        };
        let sessions =
            Sessions::for_backend(&host.config().state, settings.approver.as_str()).await?;
        let state = Arc::new(UiState {
            host: Arc::new(RwLock::new(host)),
            sessions,
            allowed: settings.allowed.clone(),
            approver: settings.approver.clone(),
            upstream: None,
            passkeys,
            mount,
        });
        Ok(TenantUi { tenant, state })
    }

    /// The one-time launch link (`<origin>/?token=...` or `<origin>/t/<tenant>/?token=...`).
    pub fn launch_link(&self, origin: &str) -> String {
        launch_link(
            origin,
            &self.state.mount,
            self.state.sessions.launch_token(),
        )
    }
}

/// The page of `mount` on `origin`, carrying the launch token `token`.
fn launch_link(origin: &str, mount: &UiMount, token: &str) -> String {
    format!("{origin}{}?token={token}", mount.path())
}

/// Where an MCP client of `tenant` is sent to approve: that tenant's UI.
pub fn approvals_url(origin: &str, tenant: &TenantName) -> String {
    if tenant.is_default() {
        origin.to_string()
    } else {
        format!("{origin}{}", UiMount::tenant(tenant).path())
    }
}

/// Every tenant's UI: `/t/<tenant>/...` each, `/t/<tenant>` redirected to its page (whose
/// relative URLs need the slash), and the default tenant's at the root as well.
pub fn router(uis: &[TenantUi]) -> Router {
    let mut app = Router::new();
    for ui in uis {
        let prefix = format!("/t/{}", ui.tenant);
        let page = format!("{prefix}/");
        // Behind the same guard as the page: a rebinding page is not even redirected.
        let redirect = Router::new()
            .route(
                &prefix,
                axum::routing::get(move |request: Request| to_page(request, page.clone())),
            )
            .layer(axum::middleware::from_fn_with_state(
                ui.state.clone(),
                crate::ui::guard_layer,
            ));
        app = app
            .nest(&format!("{prefix}/"), crate::ui::router(ui.state.clone()))
            .merge(redirect);
        if ui.tenant.is_default() {
            app = app.merge(crate::ui::router(ui.state.clone()));
        }
    }
    app
}

/// `/t/<tenant>?token=...` to `/t/<tenant>/?token=...`: the query (a launch token) is kept.
async fn to_page(request: Request, page: String) -> Response {
    let target = match request.uri().query() {
        Some(query) => format!("{page}?{query}"),
        None => page,
    };
    Redirect::permanent(&target).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_tenants_link_opens_its_own_page() {
        let origin = "http://toolhost.example.com:8080";
        assert_eq!(
            launch_link(origin, &UiMount::root(), "t"),
            "http://toolhost.example.com:8080/?token=t"
        );
        let acme = UiMount::tenant(&TenantName::parse("acme").unwrap());
        assert_eq!(
            launch_link(origin, &acme, "t"),
            "http://toolhost.example.com:8080/t/acme/?token=t"
        );
    }

    #[test]
    fn a_tenants_approvals_go_to_its_own_ui() {
        let origin = "http://localhost:8080";
        assert_eq!(
            approvals_url(origin, &TenantName::default_tenant()),
            "http://localhost:8080"
        );
        assert_eq!(
            approvals_url(origin, &TenantName::parse("acme").unwrap()),
            "http://localhost:8080/t/acme/"
        );
    }
}
