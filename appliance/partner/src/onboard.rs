//! Onboarding with an invite: over the appliance's onboarding protocol, with no client
//! certificate yet, the partner sends the invite and a certificate signing request for a key
//! it made itself, and receives its certificate, the appliance's CA and the appliance's
//! public keys. The appliance is trusted by the CA fingerprint in the invite.

use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::{CertificateDer, UnixTime};
use tf_wire::{InviteCode, Message, Onboard, Onboarded};

use crate::client::{quic_client_config, tls13, unexpected};
use crate::pinned::{CA_NOT_PRESENTED, PinnedCaVerifier, pinned_ca};
use crate::{ApplianceAddress, Partner, PartnerError};

/// How long [`onboard`] waits for the handshake and for the answer.
pub const ONBOARDING_TIMEOUT: Duration = Duration::from_secs(30);

/// Redeems `invite` for `tenant` at the appliance at `address` (its certificate must carry
/// `server_name`), asking for a certificate over the key of `csr_der` (a PKCS#10 request,
/// DER: see [`crate::ClientKey`]). Returns the appliance's answer and the CA it was trusted by
/// (the one the invite names, which the answer's `ca_certificate` is checked to be). A refusal
/// is [`PartnerError::OnboardingRefused`], with what to do.
pub async fn onboard(
    address: &ApplianceAddress,
    server_name: &str,
    invite: &InviteCode,
    tenant: &str,
    csr_der: Vec<u8>,
) -> Result<(Onboarded, CertificateDer<'static>), PartnerError> {
    onboard_within(
        address,
        server_name,
        invite,
        tenant,
        csr_der,
        ONBOARDING_TIMEOUT,
    )
    .await
}

/// [`onboard`], waiting at most `timeout` for the handshake and for the answer.
pub async fn onboard_within(
    address: &ApplianceAddress,
    server_name: &str,
    invite: &InviteCode,
    tenant: &str,
    csr_der: Vec<u8>,
    timeout: Duration,
) -> Result<(Onboarded, CertificateDer<'static>), PartnerError> {
    let verifier = Arc::new(PinnedCaVerifier::new(invite.ca_fingerprint));
    let tls = tls13()?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    let client_config = quic_client_config(tls, tf_wire::ONBOARDING_ALPN)?;
    let partner = Partner::connect_with(address, server_name, timeout, client_config)
        .await
        .map_err(|error| in_words(error, address))?;
    let answer = redeem(&partner, invite, tenant, csr_der).await;
    partner.close().await;
    answer.map_err(|error| in_words(error, address))
}

/// Sends the one request of the connection and checks the answer.
async fn redeem(
    partner: &Partner,
    invite: &InviteCode,
    tenant: &str,
    csr: Vec<u8>,
) -> Result<(Onboarded, CertificateDer<'static>), PartnerError> {
    // The handshake found it (the verifier refuses one without it): the same search again.
    let presented = partner.peer_certificates();
    let ca = presented
        .get(1..)
        .and_then(|others| pinned_ca(&invite.ca_fingerprint, others))
        .cloned()
        .ok_or_else(|| PartnerError::ServerNotTrusted {
            reason: CA_NOT_PRESENTED.into(),
        })?;
    let request_id = partner.next_request_id();
    let message = Message::Onboard(Onboard {
        request_id,
        invite_id: invite.id,
        secret: invite.secret,
        tenant: tenant.to_owned(),
        csr,
    });
    let onboarded = match partner.request(&message).await? {
        Message::Onboarded(onboarded) if onboarded.request_id == request_id => onboarded,
        other => return Err(unexpected(other)),
    };
    checked(&onboarded, tenant, &ca)?;
    Ok((onboarded, ca))
}

/// The answer is for the tenant asked, names the CA the handshake was trusted by, and its
/// certificate is one that CA issued for a client.
fn checked(
    onboarded: &Onboarded,
    tenant: &str,
    ca: &CertificateDer<'static>,
) -> Result<(), PartnerError> {
    let wrong = |detail: String| -> Result<(), PartnerError> {
        Err(PartnerError::Protocol {
            detail: format!("{detail}; nothing was kept: tell the appliance's operator"),
        })
    };
    if onboarded.ca_certificate != ca.as_ref() {
        return wrong(
            "the answer names another CA than the one the appliance was trusted by".into(),
        );
    }
    if onboarded.tenant != tenant {
        return wrong(format!(
            "the answer is for tenant {:?}, not {tenant:?} as asked",
            onboarded.tenant
        ));
    }
    let mut roots = rustls::RootCertStore::empty();
    let issued = |e: &dyn std::fmt::Display| {
        wrong(format!(
            "the certificate issued does not check under the appliance's CA: {e}"
        ))
    };
    if let Err(e) = roots.add(ca.clone()) {
        return issued(&e);
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier =
        match rustls::server::WebPkiClientVerifier::builder_with_provider(roots.into(), provider)
            .build()
        {
            Ok(verifier) => verifier,
            Err(e) => return issued(&e),
        };
    let certificate = CertificateDer::from(onboarded.certificate.as_slice());
    match verifier.verify_client_cert(&certificate, &[], UnixTime::now()) {
        Ok(_) => Ok(()),
        Err(e) => issued(&e),
    }
}

/// What failed, said for onboarding: a refusal at the handshake cannot be of a client
/// certificate (none is presented), and the CA missing says what to do itself.
fn in_words(error: PartnerError, address: &ApplianceAddress) -> PartnerError {
    match error {
        PartnerError::ServerNotTrusted { reason } if reason.contains(CA_NOT_PRESENTED) => {
            PartnerError::ServerNotTrusted {
                reason: CA_NOT_PRESENTED.into(),
            }
        }
        PartnerError::CertificateRefused { reason } => PartnerError::Protocol {
            detail: format!(
                "the appliance at {address} does not take onboarding ({reason}): check the \
                 address, or ask the operator whether invites are on"
            ),
        },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use rcgen::{ExtendedKeyUsagePurpose, KeyPair};

    use super::*;
    use crate::test_pki::TestCa;

    /// `ca`'s answer for tenant initech, with a certificate for `purpose` over a fresh key.
    fn answer(ca: &TestCa, purpose: ExtendedKeyUsagePurpose) -> Onboarded {
        let client = KeyPair::generate().expect("key");
        ca.onboarded(1, "initech", ca.issue(&client, purpose))
    }

    #[test]
    fn an_answer_for_the_tenant_asked_under_the_pinned_ca_is_taken() {
        let ca = TestCa::new();
        let good = answer(&ca, ExtendedKeyUsagePurpose::ClientAuth);
        checked(&good, "initech", &ca.der()).expect("taken");
    }

    #[test]
    fn an_answer_for_another_tenant_or_ca_or_not_for_a_client_is_refused() {
        let (ca, other) = (TestCa::new(), TestCa::new());
        let good = answer(&ca, ExtendedKeyUsagePurpose::ClientAuth);
        let pinned = &ca.der();
        let mut another_ca = good.clone();
        another_ca.ca_certificate = other.der().to_vec();
        let cases = [
            (good.clone(), "initrode", "not \"initrode\""),
            (another_ca, "initech", "another CA"),
            (
                answer(&other, ExtendedKeyUsagePurpose::ClientAuth),
                "initech",
                "another CA",
            ),
            (
                Onboarded {
                    ca_certificate: pinned.to_vec(),
                    ..answer(&other, ExtendedKeyUsagePurpose::ClientAuth)
                },
                "initech",
                "does not check",
            ),
            (
                answer(&ca, ExtendedKeyUsagePurpose::ServerAuth),
                "initech",
                "does not check",
            ),
        ];
        for (answer, tenant, says) in cases {
            let error = checked(&answer, tenant, pinned).expect_err(says);
            assert!(
                matches!(error, PartnerError::Protocol { .. }) && error.to_string().contains(says),
                "{says}: {error}"
            );
        }
    }

    /// How the fake appliance answers the request.
    type Answer = Box<dyn FnOnce(Onboard, &TestCa) -> Message + Send>;

    /// What the fake appliance does with the one connection it takes.
    enum Behaviour {
        Answer(Answer),
        Close(u32, &'static str),
    }

    /// An appliance on 127.0.0.1 speaking `alpn`, with a certificate for `localhost` from a
    /// fresh CA that it presents after its own; returns its address and the CA.
    fn appliance(alpn: &[u8], behaviour: Behaviour) -> (ApplianceAddress, CertificateDer<'static>) {
        let ca = TestCa::new();
        let (leaf, leaf_key) = ca.server(&["localhost"]);
        let ca_der = ca.der();
        let key = rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into());
        let mut tls = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_protocol_versions(&[&rustls::version::TLS13])
        .expect("TLS 1.3")
        .with_no_client_auth()
        .with_single_cert(vec![leaf, ca_der.clone()], key)
        .expect("server certificate");
        tls.alpn_protocols = vec![alpn.to_vec()];
        let quic = quinn::crypto::rustls::QuicServerConfig::try_from(Arc::new(tls)).expect("QUIC");
        let server = quinn::ServerConfig::with_crypto(Arc::new(quic));
        let endpoint = quinn::Endpoint::server(server, "127.0.0.1:0".parse().expect("address"))
            .expect("endpoint");
        let address = endpoint.local_addr().expect("bound");
        tokio::spawn(async move {
            let Some(incoming) = endpoint.accept().await else {
                return;
            };
            let Ok(connection) = incoming.await else {
                return;
            };
            match behaviour {
                Behaviour::Close(code, reason) => connection.close(code.into(), reason.as_bytes()),
                Behaviour::Answer(answer) => {
                    let (mut send, mut recv) = connection.accept_bi().await.expect("a request");
                    let frame = recv.read_to_end(64 * 1024).await.expect("read");
                    let mut decoder = tf_wire::FrameDecoder::new(tf_wire::WireLimits::DEFAULT);
                    let request = tf_wire::to_owned(decoder.decode(&frame).expect("decodes"));
                    let Message::Onboard(onboard) = request else {
                        panic!("not an Onboard: {request:?}");
                    };
                    let mut reply = Vec::new();
                    tf_wire::encode(&answer(onboard, &ca), &mut reply).expect("encodes");
                    send.write_all(&reply).await.expect("written");
                    send.finish().expect("finished");
                    connection.closed().await;
                }
            }
            endpoint.wait_idle().await;
        });
        (address.into(), ca_der)
    }

    fn invite(ca: &CertificateDer<'_>) -> InviteCode {
        InviteCode {
            id: 12,
            secret: [5; 16],
            ca_fingerprint: crate::ca_fingerprint(ca),
        }
    }

    /// Certifies `key` for the tenant asked, as the appliance does for the request's key.
    fn issue(key: KeyPair) -> Behaviour {
        Behaviour::Answer(Box::new(move |onboard: Onboard, ca: &TestCa| {
            assert_eq!((onboard.invite_id, onboard.secret), (12, [5; 16]));
            assert!(!onboard.csr.is_empty());
            let certificate = ca.issue(&key, ExtendedKeyUsagePurpose::ClientAuth);
            Message::Onboarded(ca.onboarded(onboard.request_id, &onboard.tenant, certificate))
        }))
    }

    fn refuse() -> Behaviour {
        Behaviour::Answer(Box::new(used))
    }

    fn used(onboard: Onboard, _: &TestCa) -> Message {
        Message::Error(tf_wire::ErrorReply {
            request_id: onboard.request_id,
            code: tf_wire::ErrorCode::OnboardingRefused {
                reason: "used".into(),
                detail: "this invite was used already: ask the operator for a new one".into(),
            },
        })
    }

    async fn ask(address: &ApplianceAddress, invite: &InviteCode) -> PartnerError {
        let csr = crate::ClientKey::generate("initech").expect("key");
        onboard(
            address,
            "localhost",
            invite,
            "initech",
            csr.request_der().to_vec(),
        )
        .await
        .expect_err("not onboarded")
    }

    #[tokio::test]
    async fn the_invite_and_request_reach_an_appliance_trusted_by_the_invites_fingerprint() {
        let key = crate::ClientKey::generate("initech").expect("key");
        let signed = KeyPair::from_pem(&key.private_key_pem()).expect("reads");
        let (address, ca) = appliance(tf_wire::ONBOARDING_ALPN, issue(signed));
        let (onboarded, pinned) = onboard(
            &address,
            "localhost",
            &invite(&ca),
            "initech",
            key.request_der().to_vec(),
        )
        .await
        .expect("onboarded");
        assert_eq!(pinned, ca);
        assert_eq!(
            (
                onboarded.tenant.as_str(),
                onboarded.revision,
                onboarded.receipt_public_key
            ),
            ("initech", 3, [7; 32])
        );

        let (address, ca) = appliance(tf_wire::ONBOARDING_ALPN, refuse());
        let error = ask(&address, &invite(&ca)).await;
        assert!(
            matches!(&error, PartnerError::OnboardingRefused { reason, .. } if reason == "used"),
            "{error:?}"
        );
        assert_eq!(
            error.to_string(),
            "this invite was used already: ask the operator for a new one"
        );
        assert_eq!(
            (error.kind(), error.retry_after()),
            ("onboarding-refused", None)
        );
    }

    #[tokio::test]
    async fn an_appliance_without_the_invites_ca_is_not_told_the_invite() {
        let (address, ca) = appliance(tf_wire::ONBOARDING_ALPN, refuse());
        let mut wrong = invite(&ca);
        wrong.ca_fingerprint[15] ^= 1;
        let error = ask(&address, &wrong).await;
        assert!(
            matches!(&error, PartnerError::ServerNotTrusted { reason } if reason == CA_NOT_PRESENTED),
            "{error:?}"
        );
    }

    #[tokio::test]
    async fn too_many_attempts_and_no_onboarding_at_all_are_told_apart() {
        let closed = Behaviour::Close(
            tf_wire::close_code::ONBOARDING_RATE_LIMITED,
            "retry in 60 s",
        );
        let (address, ca) = appliance(tf_wire::ONBOARDING_ALPN, closed);
        let error = ask(&address, &invite(&ca)).await;
        assert!(
            matches!(&error, PartnerError::RateLimited { detail } if detail == "retry in 60 s"),
            "{error:?}"
        );
        assert_eq!(error.kind(), "rate-limited");

        let (address, ca) = appliance(tf_wire::ALPN, refuse());
        let error = ask(&address, &invite(&ca)).await;
        assert!(
            error.to_string().contains("does not take onboarding"),
            "{error:?}"
        );
    }

    #[test]
    fn refusals_at_the_handshake_say_what_they_mean_for_onboarding() {
        let address: ApplianceAddress = "appliance.test:4433".parse().expect("address");
        let missing = in_words(
            PartnerError::ServerNotTrusted {
                reason: format!("invalid peer certificate: Other(OtherError({CA_NOT_PRESENTED}))"),
            },
            &address,
        );
        assert!(
            matches!(&missing, PartnerError::ServerNotTrusted { reason } if reason == CA_NOT_PRESENTED),
            "{missing}"
        );
        let refused = in_words(
            PartnerError::CertificateRefused {
                reason: "TLS: no application protocol".into(),
            },
            &address,
        );
        assert_eq!(refused.kind(), "protocol");
        assert!(
            refused.to_string().contains("does not take onboarding"),
            "{refused}"
        );
    }
}
