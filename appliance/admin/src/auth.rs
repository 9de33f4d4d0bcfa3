//! Who may use the admin API and console: bearer tokens bound to roles, checked per route.
//! Only tokens' SHA-256 are kept; tokens themselves are never logged or stored. The roles and
//! what each allows are the API contract's ([`Role`], [`Permission`]).

use sha2::{Digest, Sha256};
use tf_config::AdminConfig;
use tf_state::State;

pub use tf_admin_api::{Permission, Role};

/// The development token's file in the state directory (created when no tokens are
/// configured).
pub const DEV_TOKEN_FILE: &str = "admin.token";
/// The name the timeline records for the development token.
pub const DEV_TOKEN_NAME: &str = "dev-admin";

/// An authenticated caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    /// The token's name, as the timeline records it.
    pub name: String,
    /// Its roles.
    pub roles: Vec<Role>,
}

impl Principal {
    /// Whether any of its roles allows `permission`.
    pub fn may(&self, permission: Permission) -> bool {
        self.roles.iter().any(|r| r.allows(permission))
    }
}

/// The accepted tokens.
#[derive(Clone, Debug)]
pub struct Tokens {
    entries: Vec<([u8; 32], Principal)>,
}

impl Tokens {
    /// The configured tokens, or the state directory's development token (every role) when
    /// none are configured.
    pub fn from_config(admin: &AdminConfig, state: &State) -> Result<Self, String> {
        let mut entries = Vec::new();
        for token in &admin.tokens {
            let mut digest = [0u8; 32];
            hex::decode_to_slice(&token.sha256, &mut digest).map_err(|_| {
                format!("admin.tokens {:?}: sha256 is not 64 hex digits", token.name)
            })?;
            let roles = token.roles.iter().filter_map(|r| Role::parse(r)).collect();
            entries.push((
                digest,
                Principal {
                    name: token.name.clone(),
                    roles,
                },
            ));
        }
        if entries.is_empty() {
            let token = dev_token(state)?;
            entries.push((
                digest(&token),
                Principal {
                    name: DEV_TOKEN_NAME.into(),
                    roles: Role::ALL.to_vec(),
                },
            ));
        }
        Ok(Tokens { entries })
    }

    /// Tokens given directly (tests).
    #[cfg(test)]
    pub fn new(tokens: &[(&str, Principal)]) -> Self {
        Tokens {
            entries: tokens.iter().map(|(t, p)| (digest(t), p.clone())).collect(),
        }
    }

    /// The principal a token belongs to. Every entry is compared, so timing does not tell
    /// which one matched.
    pub fn authenticate(&self, token: &str) -> Option<&Principal> {
        let presented = digest(token);
        let mut found = None;
        for (known, principal) in &self.entries {
            let difference = known
                .iter()
                .zip(presented.iter())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b));
            if difference == 0 {
                found = Some(principal);
            }
        }
        found
    }
}

/// SHA-256 of a token.
pub fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.trim().as_bytes()).into()
}

/// A fresh random token: 32 bytes, hex.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut bytes);
    hex::encode(bytes)
}

/// The development token, created on first use (owner-only).
fn dev_token(state: &State) -> Result<String, String> {
    let path = state.path(DEV_TOKEN_FILE);
    if !path.exists() {
        tf_state::write_private_file(&path, new_token().as_bytes()).map_err(|e| e.to_string())?;
    }
    std::fs::read_to_string(&path)
        .map(|t| t.trim().to_owned())
        .map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_known_token_authenticates() {
        let alice = Principal {
            name: "alice".into(),
            roles: vec![Role::Viewer],
        };
        let tokens = Tokens::new(&[("secret-a", alice.clone())]);
        assert_eq!(tokens.authenticate("secret-a"), Some(&alice));
        assert_eq!(tokens.authenticate("secret-b"), None);
        assert_eq!(tokens.authenticate(""), None);
    }
}
