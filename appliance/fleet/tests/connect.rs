//! The connection from `[fleet]` settings against a real PostgreSQL server that requires a
//! password and serves TLS: the password from a file and the CA from `ca_file` connect over
//! TLS, with the server's name checked; a wrong password, a CA that did not issue the server's
//! certificate, or a name the certificate does not carry is refused.

#[path = "support/cluster.rs"]
mod cluster;

use cluster::{Cluster, Options};
use tf_config::FleetConfig;

fn settings(cluster: &Cluster, host: &str, password_file: &std::path::Path) -> FleetConfig {
    FleetConfig {
        postgres: format!(
            "postgres://fleet@{host}:{}/fleet?sslmode=require",
            cluster.port()
        ),
        node: "node-a".into(),
        password_file: Some(password_file.to_owned()),
        ca_file: Some(cluster.ca_file()),
        lease_ms: 10_000,
        grace_ms: 5_000,
    }
}

#[test]
fn tls_and_a_password_from_a_file_connect_and_wrong_ones_are_refused() {
    let cluster = Cluster::start_with(Options {
        password: Some("fleet-s3cret"),
        tls: true,
    });
    let dir = tempfile::tempdir().expect("a folder");
    let password = dir.path().join("password");
    std::fs::write(&password, "fleet-s3cret\n").expect("written");

    let mut client = tf_fleet::connect(&settings(&cluster, "localhost", &password))
        .expect("connects over TLS with the password");
    let tls: bool = client
        .query_one(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .expect("asks")
        .get(0);
    assert!(tls, "the connection is encrypted");
    tf_fleet::migrate(&mut client).expect("migrates over it");

    std::fs::write(&password, "wrong\n").expect("written");
    let refused = tf_fleet::connect(&settings(&cluster, "localhost", &password))
        .err()
        .expect("a wrong password is refused");
    assert!(refused.to_string().contains("password"), "{refused}");
    std::fs::write(&password, "fleet-s3cret\n").expect("written");

    // The certificate names localhost, not 127.0.0.1.
    let refused = tf_fleet::connect(&settings(&cluster, "127.0.0.1", &password))
        .err()
        .expect("a name the certificate lacks is refused");
    assert!(refused.to_string().contains("certificate"), "{refused}");

    let other = Cluster::start_with(Options {
        password: None,
        tls: true,
    });
    let mut foreign = settings(&cluster, "localhost", &password);
    foreign.ca_file = Some(other.ca_file());
    let refused = tf_fleet::connect(&foreign)
        .err()
        .expect("another CA is refused");
    assert!(refused.to_string().contains("certificate"), "{refused}");

    std::fs::write(&password, "").expect("written");
    let empty = tf_fleet::connect(&settings(&cluster, "localhost", &password))
        .err()
        .expect("an empty password file is refused");
    assert!(empty.to_string().contains("first line is empty"), "{empty}");
}
