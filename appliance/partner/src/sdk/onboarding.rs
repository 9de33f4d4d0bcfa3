//! Onboarding into a folder, as `partner onboard` and the SDKs' `onboard` do it: the key pair
//! made here and its private key written first, the invite redeemed (asked again while the
//! appliance says busy), then the certificate, the CA and a `partner.toml` written beside the
//! key. When the appliance refuses, or cannot be reached or trusted, the key is removed again.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Serialize, Serializer};

use super::unusable;
use crate::{
    ApplianceAddress, ClientKey, IdentityDir, InviteCode, ONBOARDING_TIMEOUT, PartnerError, Retry,
    onboard_within,
};

/// What onboarding needs: the invite, where the appliance is, the tenant to become, the
/// folder to write, and how long to wait and how to retry.
#[derive(Clone, Debug)]
pub struct Onboarding {
    /// The operator's invite.
    pub invite: InviteCode,
    /// The appliance's QUIC address.
    pub address: ApplianceAddress,
    /// The name the appliance's certificate must carry.
    pub server_name: String,
    /// The tenant to become.
    pub tenant: String,
    /// The folder the identity is written into.
    pub dir: PathBuf,
    /// How long to wait for the handshake and for the answer.
    pub timeout: Duration,
    /// How to ask again while the appliance says busy.
    pub retry: Retry,
}

impl Onboarding {
    /// Onboarding from what a partner types: the invite's text, `HOST:PORT` and a tenant name.
    /// The server name is the address's host, the folder `./partner-<tenant>`; the timeout is
    /// [`ONBOARDING_TIMEOUT`] and the retry [`Retry::default`]. Change the fields for others.
    pub fn new(invite: &str, connect: &str, tenant: &str) -> Result<Self, PartnerError> {
        let invite = invite
            .trim()
            .parse::<InviteCode>()
            .map_err(|e| unusable("invite", e))?;
        let address = connect
            .trim()
            .parse::<ApplianceAddress>()
            .map_err(|e| unusable("connect", e))?;
        let tenant = tenant_name(tenant).map_err(|problem| unusable("tenant", problem))?;
        Ok(Self::from_parts(invite, address, tenant))
    }

    /// The same with the options a partner may give, each `None` keeping its default: the
    /// folder, the server name; and how long to wait and how to retry.
    pub fn with_options(
        mut self,
        out: Option<PathBuf>,
        server_name: Option<String>,
        timeout: Duration,
        retry: Retry,
    ) -> Self {
        if let Some(dir) = out {
            self.dir = dir;
        }
        if let Some(name) = server_name {
            self.server_name = name;
        }
        Onboarding {
            timeout,
            retry,
            ..self
        }
    }

    /// Onboarding from parsed values, with the defaults of [`Onboarding::new`].
    pub fn from_parts(invite: InviteCode, address: ApplianceAddress, tenant: String) -> Self {
        Onboarding {
            server_name: address.host(),
            dir: PathBuf::from(format!("partner-{tenant}")),
            invite,
            address,
            tenant,
            timeout: ONBOARDING_TIMEOUT,
            retry: Retry::default(),
        }
    }
}

/// A partner onboarded into a folder. Serialised, the answer `partner onboard --json` prints.
#[derive(Clone, Debug, Serialize)]
pub struct OnboardedDir {
    /// The tenant now in force.
    pub tenant: String,
    /// The policy bundle revision that put it in force.
    pub revision: u64,
    /// The folder.
    #[serde(serialize_with = "displayed")]
    pub dir: PathBuf,
    /// Its `partner.toml`, which [`super::Client::connect_dir`] and `partner --state-dir` read.
    #[serde(serialize_with = "displayed")]
    pub config: PathBuf,
    /// The tenant's client certificate (PEM).
    #[serde(serialize_with = "displayed")]
    pub certificate: PathBuf,
    /// The appliance's CA certificate (PEM).
    #[serde(serialize_with = "displayed")]
    pub ca: PathBuf,
    /// The private key made here (PEM, readable by its owner only).
    #[serde(serialize_with = "displayed")]
    pub key: PathBuf,
    /// The key receipts are signed with, 64 hex digits.
    pub receipt_public_key: String,
    /// The transparency log's verifier key (C2SP `vkey`); `None` when the appliance keeps no
    /// log.
    pub log_key: Option<String>,
}

/// Makes a key pair, writes its private key into `onboarding.dir` (then calls `key_written`,
/// before anything is sent), redeems the invite for a certificate over it, and writes the
/// identity and a `partner.toml` beside the key. A refusal, or an appliance not reached or
/// not trusted, removes the key (and the folder when it was made for it); a folder holding an
/// identity already is refused with nothing overwritten. Once onboarded, files that cannot be
/// written are [`PartnerError::OnboardedNotWritten`], and the key stays.
pub async fn onboard_to_dir(
    onboarding: &Onboarding,
    key_written: impl FnOnce(&IdentityDir),
) -> Result<OnboardedDir, PartnerError> {
    let key = ClientKey::generate(&onboarding.tenant)?;
    let identity = IdentityDir::create(&onboarding.dir, &key)?;
    key_written(&identity);
    let answer = onboarding
        .retry
        .run(|| {
            onboard_within(
                &onboarding.address,
                &onboarding.server_name,
                &onboarding.invite,
                &onboarding.tenant,
                key.request_der().to_vec(),
                onboarding.timeout,
            )
        })
        .await;
    let (onboarded, ca) = match answer {
        Ok(answer) => answer,
        Err(error) => {
            identity.discard();
            return Err(error);
        }
    };
    let config = identity
        .complete(
            &onboarding.address,
            &onboarding.server_name,
            &onboarded,
            &ca,
        )
        .map_err(|error| PartnerError::OnboardedNotWritten {
            tenant: onboarded.tenant.clone(),
            key: identity.key(),
            error: Box::new(error),
        })?;
    let log_key = onboarded.log_key.trim();
    Ok(OnboardedDir {
        revision: onboarded.revision,
        dir: identity.dir().to_owned(),
        config,
        certificate: identity.certificate(),
        ca: identity.ca(),
        key: identity.key(),
        receipt_public_key: hex::encode(onboarded.receipt_public_key),
        log_key: (!log_key.is_empty()).then(|| log_key.to_owned()),
        tenant: onboarded.tenant,
    })
}

/// A tenant name as the appliance takes it: 1 to 64 of a-z, 0-9, `-` and `_`.
pub fn tenant_name(text: &str) -> Result<String, String> {
    let fits = (1..=64).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if fits {
        Ok(text.to_owned())
    } else {
        Err("a tenant name is 1 to 64 of a-z, 0-9, - and _".into())
    }
}

/// A path as people read it (`partner --json` prints paths so).
fn displayed<S: Serializer>(path: &Path, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(&path.display())
}

#[cfg(test)]
mod tests {
    use super::*;

    const INVITE: &str =
        "tfi1.12.05050505050505050505050505050505.0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f";

    #[test]
    fn what_a_partner_types_is_checked_before_anything_is_made() {
        let onboarding = Onboarding::new(INVITE, "localhost:4433", "pilot-x").expect("usable");
        assert_eq!(onboarding.server_name, "localhost");
        assert_eq!(onboarding.dir, Path::new("partner-pilot-x"));
        assert_eq!(onboarding.invite.id, 12);
        for (invite, connect, tenant, names) in [
            ("tfi1.nope", "localhost:4433", "pilot-x", "invite"),
            (INVITE, "localhost", "pilot-x", "connect"),
            (INVITE, "localhost:4433", "Pilot X", "tenant"),
            (INVITE, "localhost:4433", "", "tenant"),
        ] {
            let error = Onboarding::new(invite, connect, tenant).expect_err(names);
            assert_eq!(error.kind(), "local");
            assert!(error.to_string().starts_with(names), "{error}");
        }
    }

    #[tokio::test]
    async fn an_appliance_not_reached_leaves_no_key_behind() {
        let root = tempfile::tempdir().expect("dir");
        // A port nothing answers on: the handshake times out.
        let socket = std::net::UdpSocket::bind("127.0.0.1:0").expect("bound");
        let connect = socket.local_addr().expect("address").to_string();
        let mut onboarding = Onboarding::new(INVITE, &connect, "pilot-x").expect("usable");
        onboarding.dir = root.path().join("pilot-x");
        onboarding.timeout = Duration::from_millis(300);
        let mut seen = None;
        let error = onboard_to_dir(&onboarding, |identity| seen = Some(identity.key()))
            .await
            .expect_err("nothing answers");
        assert_eq!(error.kind(), "connect", "{error}");
        let key = seen.expect("told where the key was written");
        assert_eq!(key, root.path().join("pilot-x/client.key"));
        assert!(
            !root.path().join("pilot-x").exists(),
            "the key and its folder are gone"
        );
    }
}
