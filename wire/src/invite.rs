//! An invite as an operator hands it to a partner: `tfi1.ID.SECRET.CA`, where ID is the
//! invite's number, SECRET 16 random bytes (the appliance stores only their SHA-256), and CA
//! the first 16 bytes of the SHA-256 of the appliance's CA certificate (DER), which the
//! partner pins while onboarding, before it has the CA itself. Hex, so it survives any chat
//! window or e-mail.

use std::fmt;
use std::str::FromStr;

/// An invite's text, parsed.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct InviteCode {
    /// The invite's number.
    pub id: u64,
    /// Its secret.
    pub secret: [u8; 16],
    /// The first 16 bytes of the SHA-256 of the appliance's CA certificate (DER).
    pub ca_fingerprint: [u8; 16],
}

/// The prefix that names the format.
const PREFIX: &str = "tfi1";

impl fmt::Display for InviteCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{PREFIX}.{}.", self.id)?;
        hex(f, &self.secret)?;
        f.write_str(".")?;
        hex(f, &self.ca_fingerprint)
    }
}

/// The secret stays out of logs and panics.
impl fmt::Debug for InviteCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InviteCode")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// Why a text is not an invite.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "not an invite ({0}): it looks like tfi1.12.0f3a…; copy it whole from the operator's message"
)]
pub struct NotAnInvite(&'static str);

impl FromStr for InviteCode {
    type Err = NotAnInvite;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut parts = text.trim().split('.');
        if parts.next() != Some(PREFIX) {
            return Err(NotAnInvite("it does not start with tfi1."));
        }
        let id = parts
            .next()
            .and_then(|id| id.parse::<u64>().ok())
            .ok_or(NotAnInvite("no invite number"))?;
        let secret = parts
            .next()
            .and_then(unhex)
            .ok_or(NotAnInvite("the secret is not 32 hex digits"))?;
        let ca_fingerprint = parts
            .next()
            .and_then(unhex)
            .ok_or(NotAnInvite("the CA fingerprint is not 32 hex digits"))?;
        if parts.next().is_some() {
            return Err(NotAnInvite("it has more parts than four"));
        }
        Ok(InviteCode {
            id,
            secret,
            ca_fingerprint,
        })
    }
}

fn hex(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    bytes.iter().try_for_each(|b| write!(f, "{b:02x}"))
}

fn unhex(text: &str) -> Option<[u8; 16]> {
    if text.len() != 32 || !text.is_ascii() {
        return None;
    }
    let mut out = [0u8; 16];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_invite_reads_back_as_written_and_hides_its_secret_in_debug() {
        let code = InviteCode {
            id: 12,
            secret: [0xab; 16],
            ca_fingerprint: [0x01; 16],
        };
        let text = code.to_string();
        assert_eq!(
            text,
            format!("tfi1.12.{}.{}", "ab".repeat(16), "01".repeat(16))
        );
        assert_eq!(text.parse::<InviteCode>(), Ok(code));
        assert_eq!(format!(" {text}\n").parse::<InviteCode>(), Ok(code));
        assert!(!format!("{code:?}").contains("abab"));
    }

    #[test]
    fn what_is_not_an_invite_says_which_part_is_wrong() {
        let good = format!("tfi1.12.{}.{}", "ab".repeat(16), "01".repeat(16));
        for (text, says) in [
            ("tfi2.12.aa.bb", "start with"),
            ("tfi1.x.aa.bb", "number"),
            (
                &format!("tfi1.12.{}.{}", "ab".repeat(15), "01".repeat(16)),
                "secret",
            ),
            (
                &format!("tfi1.12.{}.{}", "zz".repeat(16), "01".repeat(16)),
                "secret",
            ),
            (
                &format!("tfi1.12.{}.{}", "ab".repeat(16), "01".repeat(8)),
                "fingerprint",
            ),
            (&format!("{good}.x"), "more parts"),
        ] {
            let error = text.parse::<InviteCode>().expect_err(text);
            assert!(error.to_string().contains(says), "{text}: {error}");
        }
    }
}
