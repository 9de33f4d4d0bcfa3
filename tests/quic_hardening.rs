//! What a stranger on the network or a hostile tenant can hold on the QUIC port, against the
//! real binary on loopback: a flood of Initials from many source ports, more connections than
//! a tenant may have, and requests that arrive in pieces or never finish.

#[path = "support/server.rs"]
mod server;

use std::net::{SocketAddr, UdpSocket};
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use server::Server;
use tf_engine::bls;
use tf_partner::{DatasetClass, Partner, Statement, Submission, VerdictCode};
use tf_wire::{
    ErrorCode, FrameDecoder, HEADER_BYTES, MAGIC, Message, PROTOCOL_VERSION, WireLimits,
};

fn signed(seed: u8) -> Submission {
    let message = vec![seed; 32];
    let (signature, public_key) = bls::sign(&[seed; 32], &message).expect("signs");
    Submission {
        purpose: "test".into(),
        dataset_class: DatasetClass::P1,
        statement: Statement::BlsSingle {
            public_key: public_key.to_bytes(),
            message,
            signature: signature.to_bytes(),
        },
    }
}

async fn served(partner: &Partner, seed: u8) {
    let reply = partner.submit(signed(seed)).await.expect("answered");
    assert_eq!(reply.verdict, VerdictCode::Valid);
}

/// `count` QUIC Initial datagrams, each opening a different connection with a real
/// ClientHello, from a client that will never answer the appliance.
fn initials(server: SocketAddr, ca: &Path, count: usize) -> Vec<Vec<u8>> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca).expect("CA file") {
        roots
            .add(cert.expect("CA certificate"))
            .expect("root added");
    }
    let mut tls = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    tls.alpn_protocols = vec![tf_wire::ALPN.to_vec()];
    let crypto = quinn_proto::crypto::rustls::QuicClientConfig::try_from(tls).expect("QUIC TLS");
    let config = quinn_proto::ClientConfig::new(Arc::new(crypto));
    let mut endpoint = quinn_proto::Endpoint::new(
        Arc::new(quinn_proto::EndpointConfig::default()),
        None,
        false,
        None,
    );
    (0..count)
        .map(|_| {
            let now = Instant::now();
            let (_, mut connection) = endpoint
                .connect(now, config.clone(), server, "localhost")
                .expect("connect");
            let mut datagram = Vec::new();
            let transmit = connection
                .poll_transmit(now, 1, &mut datagram)
                .expect("an Initial to send");
            datagram.truncate(transmit.size);
            datagram
        })
        .collect()
}

#[tokio::test]
async fn a_flood_of_initials_from_many_ports_does_not_lock_a_partner_out() {
    let server = Server::start("[server]\nshards = 2\nmax_connections = 16\n", &[], &[]);
    let flood = initials(server.address, &server.state.join("ca.pem"), 300);
    // Each from its own source port, and the ports kept open, as many hosts would.
    let sockets: Vec<UdpSocket> = flood
        .iter()
        .map(|datagram| {
            let socket = UdpSocket::bind("127.0.0.1:0").expect("bind");
            socket.send_to(datagram, server.address).expect("sent");
            socket
        })
        .collect();
    // Without address validation these would hold every connection slot of both shards
    // until the idle timeout, and the partner below would be refused.
    let partner = Partner::connect(&server.partner("demo"))
        .await
        .expect("a partner connects during the flood");
    served(&partner, 1).await;
    drop(sockets);
}

#[tokio::test]
async fn a_tenant_holds_at_most_its_connections_per_shard() {
    let server = Server::start(
        "[server]\nshards = 1\nmax_connections_per_tenant = 2\n",
        &[],
        &[],
    );
    let config = server.partner("demo");
    let first = Partner::connect(&config).await.expect("first");
    let second = Partner::connect(&config).await.expect("second");
    served(&first, 1).await;
    served(&second, 2).await;
    let refused = match Partner::connect(&config).await {
        Ok(third) => third.closed().await,
        Err(error) => error,
    };
    assert!(
        refused.to_string().contains("max_connections_per_tenant"),
        "{refused}"
    );
    first.close().await;
    let again = Partner::connect(&config)
        .await
        .expect("a closed connection gives its slot back");
    served(&again, 3).await;
    served(&second, 4).await;
}

/// The first `sent` bytes of a frame whose header promises `body` bytes.
fn partial_frame(body: u32, sent: usize) -> Vec<u8> {
    let mut frame = MAGIC.to_vec();
    frame.extend_from_slice(&PROTOCOL_VERSION.to_le_bytes());
    frame.extend_from_slice(&body.to_le_bytes());
    assert_eq!(frame.len(), HEADER_BYTES);
    frame.resize(sent, 0);
    frame
}

/// Opens a request stream and sends 40 KB of a 60 KB request, never finishing it.
async fn hold(partner: &Partner) -> (quinn::SendStream, quinn::RecvStream) {
    let (mut send, recv) = partner.open_request_stream().await.expect("stream");
    send.write_all(&partial_frame(60_000, 40_000))
        .await
        .expect("written");
    // Let it arrive before the next one, so the appliance sees them in this order (sent
    // together, the two would interleave and both could be refused). Nothing says when it
    // has: the partner cannot see what the appliance has read, and the bytes a shard holds
    // are in no metric or log line (a gauge of them would make this a wait).
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    (send, recv)
}

async fn answer(recv: &mut quinn::RecvStream) -> ErrorCode {
    let bytes = recv.read_to_end(1 << 20).await.expect("an answer");
    match FrameDecoder::new(WireLimits::DEFAULT)
        .decode(&bytes)
        .map(tf_wire::to_owned)
    {
        Ok(Message::Error(error)) => error.code,
        other => panic!("expected an error answer, got {other:?}"),
    }
}

#[tokio::test]
async fn requests_still_arriving_are_bounded_per_connection_and_tenant_and_must_finish_in_time() {
    let server = Server::start(
        "[server]\nshards = 1\nrequest_timeout_ms = 5000\n\
         partial_request_kib_per_connection = 64\npartial_request_kib_per_tenant = 96\n",
        &[],
        &[],
    );
    let config = server.partner("demo");
    let one = Partner::connect(&config).await.expect("connects");
    let two = Partner::connect(&config).await.expect("connects");
    // 40 KB held on connection one; 40 KB more would pass its 64 KiB.
    let (_held_one, mut held_one_answer) = hold(&one).await;
    let (_over_connection, mut over_connection_answer) = hold(&one).await;
    assert_eq!(
        answer(&mut over_connection_answer).await,
        ErrorCode::Busy {
            retry_after_ms: 100
        }
    );
    // Connection two has room, its tenant does not: 40 + 40 KB fit in 96 KiB, 40 more do not.
    let (_held_two, mut held_two_answer) = hold(&two).await;
    let (_over_tenant, mut over_tenant_answer) = hold(&two).await;
    assert_eq!(
        answer(&mut over_tenant_answer).await,
        ErrorCode::Busy {
            retry_after_ms: 100
        }
    );
    // The requests that never finish are answered at their deadline, and let go.
    for held in [&mut held_one_answer, &mut held_two_answer] {
        assert!(matches!(
            answer(held).await,
            ErrorCode::Malformed { detail } if detail.contains("did not arrive whole in time")
        ));
    }
    served(&one, 1).await;
    served(&two, 2).await;
}
