//! Console sessions: a token is presented once at login and exchanged for a random session id
//! kept in an HttpOnly, SameSite=Strict cookie (Secure over TLS). Each session carries its own
//! CSRF token, which every console form and script sends back with a change. Sessions are
//! bounded per token, so one token's holder logging in again and again ends only their own
//! oldest sessions.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::auth::{Principal, digest, new_token};

/// The cookie's name.
pub const COOKIE: &str = "tf_console";
/// How long a session lasts without use.
const IDLE: Duration = Duration::from_secs(8 * 3600);
/// Most sessions kept per token; a new login past it ends that token's least recently used
/// session, never another token's. Tokens are configured, so this bounds the whole table too.
pub const MAX_SESSIONS_PER_TOKEN: usize = 8;

/// A logged-in console user.
#[derive(Clone, Debug)]
pub struct Session {
    /// Who logged in (the token's name and roles).
    pub principal: Principal,
    /// Sent back with every change.
    pub csrf: String,
    /// Whether the appliance runs in fleet mode, so the console's navigation shows its Fleet
    /// page. Fixed for the appliance's run, as sessions are (a restart logs everyone out).
    pub fleet: bool,
    last_used: Instant,
}

/// The sessions of one appliance run (kept in memory: a restart logs everyone out).
#[derive(Debug, Default)]
pub struct Sessions {
    /// By SHA-256 of the session id, so a memory dump does not hand out live cookies.
    by_digest: Mutex<HashMap<[u8; 32], Session>>,
}

impl Sessions {
    /// Starts a session on an appliance in fleet mode or not; returns its id (the cookie's
    /// value) and the session.
    pub fn start(&self, principal: Principal, fleet: bool) -> (String, Session) {
        let id = new_token();
        let session = Session {
            principal,
            csrf: new_token(),
            fleet,
            last_used: Instant::now(),
        };
        let mut sessions = self.lock();
        sessions.retain(|_, s| s.last_used.elapsed() < IDLE);
        let name = &session.principal.name;
        let same_token = || sessions.iter().filter(|(_, s)| s.principal.name == *name);
        if same_token().count() >= MAX_SESSIONS_PER_TOKEN
            && let Some(oldest) = same_token()
                .min_by_key(|(_, s)| s.last_used)
                .map(|(k, _)| *k)
        {
            sessions.remove(&oldest);
        }
        sessions.insert(digest(&id), session.clone());
        (id, session)
    }

    /// The live session with this id, marked used.
    pub fn find(&self, id: &str) -> Option<Session> {
        let mut sessions = self.lock();
        let key = digest(id);
        let session = sessions.get_mut(&key)?;
        if session.last_used.elapsed() >= IDLE {
            sessions.remove(&key);
            return None;
        }
        session.last_used = Instant::now();
        Some(session.clone())
    }

    /// Ends a session.
    pub fn end(&self, id: &str) {
        self.lock().remove(&digest(id));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], Session>> {
        self.by_digest.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Whether a presented CSRF token is the session's (compared in constant time).
pub fn csrf_matches(session: &Session, presented: &str) -> bool {
    let expected = session.csrf.as_bytes();
    let presented = presented.as_bytes();
    expected.len() == presented.len()
        && expected
            .iter()
            .zip(presented)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// The session id in a request's `Cookie` header, if any.
pub fn cookie_value(header: Option<&str>) -> Option<&str> {
    header?
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Role;

    fn viewer() -> Principal {
        named("v", Role::Viewer)
    }

    fn named(name: &str, role: Role) -> Principal {
        Principal {
            name: name.into(),
            roles: vec![role],
        }
    }

    #[test]
    fn a_session_is_found_by_its_id_only_until_it_ends() {
        let sessions = Sessions::default();
        let (id, session) = sessions.start(viewer(), false);
        assert_eq!(sessions.find(&id).expect("live").csrf, session.csrf);
        assert!(sessions.find("not-an-id").is_none());
        sessions.end(&id);
        assert!(sessions.find(&id).is_none());
    }

    #[test]
    fn csrf_tokens_must_match_exactly() {
        let sessions = Sessions::default();
        let (_, session) = sessions.start(viewer(), false);
        assert!(csrf_matches(&session, &session.csrf.clone()));
        assert!(!csrf_matches(&session, ""));
        assert!(!csrf_matches(&session, &session.csrf[1..]));
    }

    #[test]
    fn the_cookie_is_read_among_others() {
        assert_eq!(cookie_value(Some("a=1; tf_console=abc; b=2")), Some("abc"));
        assert_eq!(cookie_value(Some("a=1")), None);
        assert_eq!(cookie_value(None), None);
    }

    #[test]
    fn a_tokens_least_recently_used_session_makes_room_for_its_next() {
        let sessions = Sessions::default();
        let (first, _) = sessions.start(viewer(), false);
        let (second, _) = sessions.start(viewer(), false);
        for _ in 2..MAX_SESSIONS_PER_TOKEN {
            sessions.start(viewer(), false);
        }
        // Used now, so `second` is the least recently used.
        assert!(sessions.find(&first).is_some(), "still room");
        let (newest, _) = sessions.start(viewer(), false);
        assert!(sessions.find(&newest).is_some());
        assert!(sessions.find(&second).is_none(), "made room");
        assert!(sessions.find(&first).is_some());
        assert_eq!(sessions.lock().len(), MAX_SESSIONS_PER_TOKEN);
    }

    #[test]
    fn one_tokens_logins_never_end_another_tokens_session() {
        let sessions = Sessions::default();
        let (operator, _) = sessions.start(named("oncall", Role::Sre), false);
        for _ in 0..1000 {
            sessions.start(viewer(), false);
        }
        assert!(
            sessions.find(&operator).is_some(),
            "the sre's session lives"
        );
        assert_eq!(sessions.lock().len(), MAX_SESSIONS_PER_TOKEN + 1);
    }
}
