//! A signed-in browser of the admin UI, for raw HTTP requests: what a launch link's token
//! trades for at `POST <prefix>api/session`.

use crate::http_client;
use serde_json::{json, Value};

/// A session of one UI (one tenant's, or one replica's).
pub struct UiSession {
    /// `/` or `/t/<tenant>/`.
    pub prefix: String,
    /// `name=value`, as the browser sends it back.
    pub cookie: String,
    /// The whole `Set-Cookie` value.
    pub set_cookie: String,
    pub csrf: String,
}

impl UiSession {
    /// The session id alone.
    pub fn id(&self) -> &str {
        self.cookie.split_once('=').unwrap().1
    }
}

/// The launch token of a printed UI link (`...?token=<token>`).
pub fn launch_token(link: &str) -> &str {
    let rest = link.split("?token=").nth(1).expect("a launch token");
    rest.split_whitespace().next().unwrap_or(rest)
}

/// Trades `token` for a session at `prefix` of `base`: the response's status, and the session
/// when it is 200.
pub async fn sign_in(base: &str, prefix: &str, token: &str) -> (u16, Option<UiSession>) {
    let response = http_client()
        .post(format!("{base}{prefix}api/session"))
        .header("x-toolhost-csrf", "launch")
        .json(&json!({"token": token}))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    if status != 200 {
        return (status, None);
    }
    let set_cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_string();
    let body: Value = response.json().await.unwrap();
    let session = UiSession {
        prefix: prefix.to_string(),
        cookie: set_cookie.split(';').next().unwrap().to_string(),
        set_cookie,
        csrf: body["csrf"].as_str().expect("a CSRF token").to_string(),
    };
    (status, Some(session))
}
