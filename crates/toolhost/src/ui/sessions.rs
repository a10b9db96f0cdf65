//! The one-time launch token and the browser sessions it is exchanged for.
//!
//! `toolhost ui` prints a URL carrying a random token. The page trades it (once) for a
//! session: an HttpOnly, SameSite=Strict cookie plus a CSRF token the page sends back in a
//! header on every state-changing request. Nothing here is persisted: a restart logs out.

use std::collections::HashMap;
use std::sync::Mutex;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "toolhost_session";

/// 244 bits from the OS RNG (two v4 UUIDs), as 64 hex digits.
pub fn random_token() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// Compares without an early exit, so timing does not reveal how much of a guess matched.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A logged-in browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id: String,
    pub csrf: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LaunchTokenError {
    #[error("this link was already used: restart `toolhost ui` for a new one")]
    AlreadyUsed,
    #[error("wrong launch token: use the exact URL `toolhost ui` printed")]
    Wrong,
}

/// The launch token (spent on first use) and the live sessions.
#[derive(Debug)]
pub struct Sessions {
    launch_token: String,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    launch_token_spent: bool,
    sessions: HashMap<String, Session>,
}

impl Sessions {
    pub fn new() -> Sessions {
        Sessions::with_launch_token(random_token())
    }

    pub fn with_launch_token(token: impl Into<String>) -> Sessions {
        Sessions {
            launch_token: token.into(),
            state: Mutex::new(State::default()),
        }
    }

    pub fn launch_token(&self) -> &str {
        &self.launch_token
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Trades the launch token for a new session. Works exactly once.
    pub fn exchange(&self, token: &str) -> Result<Session, LaunchTokenError> {
        let mut state = self.lock();
        if !constant_time_eq(token, &self.launch_token) {
            return Err(LaunchTokenError::Wrong);
        }
        if state.launch_token_spent {
            return Err(LaunchTokenError::AlreadyUsed);
        }
        state.launch_token_spent = true;
        let session = Session {
            id: random_token(),
            csrf: random_token(),
        };
        state.sessions.insert(session.id.clone(), session.clone());
        Ok(session)
    }

    /// The session whose id the cookie carries.
    pub fn find(&self, id: &str) -> Option<Session> {
        let state = self.lock();
        // Lookups hash the id; the final comparison is constant-time.
        state
            .sessions
            .get(id)
            .filter(|s| constant_time_eq(&s.id, id))
            .cloned()
    }

    pub fn end(&self, id: &str) {
        self.lock().sessions.remove(id);
    }
}

impl Default for Sessions {
    fn default() -> Sessions {
        Sessions::new()
    }
}

/// The value of cookie `name` in a `Cookie` header.
pub fn cookie_value<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// The `Set-Cookie` value that starts a session (no Max-Age: it ends with the browser).
pub fn session_cookie(session: &Session) -> String {
    format!(
        "{SESSION_COOKIE}={}; HttpOnly; SameSite=Strict; Path=/",
        session.id
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_launch_token_works_once() {
        let sessions = Sessions::with_launch_token("t0ken");
        assert_eq!(sessions.exchange("nope"), Err(LaunchTokenError::Wrong));
        let session = sessions.exchange("t0ken").unwrap();
        assert_eq!(sessions.find(&session.id), Some(session.clone()));
        assert_eq!(
            sessions.exchange("t0ken"),
            Err(LaunchTokenError::AlreadyUsed)
        );
        sessions.end(&session.id);
        assert_eq!(sessions.find(&session.id), None);
    }

    #[test]
    fn tokens_are_long_random_and_distinct() {
        let (a, b) = (random_token(), random_token());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        let sessions = Sessions::new();
        let s = sessions.exchange(sessions.launch_token()).unwrap();
        assert_ne!(s.id, s.csrf);
    }

    #[test]
    fn cookies_are_parsed_and_set_strictly() {
        let header = "a=1; toolhost_session=abc; b=2";
        assert_eq!(cookie_value(header, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie_value("x_toolhost_session=z", SESSION_COOKIE), None);
        let cookie = session_cookie(&Session {
            id: "abc".into(),
            csrf: "c".into(),
        });
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
    }

    #[test]
    fn constant_time_eq_compares_exactly() {
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "ab"));
    }
}
