//! TLS and mTLS of the gRPC listener, with a throwaway CA generated at test time
//! (rcgen): the `[grpc] tls_cert_file`/`tls_key_file`/`tls_client_ca_file` settings as
//! an operator writes them, and tonic's rustls client as an index uses it.

use std::path::Path;

use rcgen::ExtendedKeyUsagePurpose;
use tonic::Code;
use tonic::transport::{Certificate, ClientTlsConfig, Endpoint, Identity};
use trustmint_testkit::claims::GitHubClaims;

use super::support::test_ca::{Leaf, TestCa};
use super::support::{PROJECT, TestApp, spawn_app_with};
use super::{Bearer, Grpc, channel};

fn write(dir: &Path, name: &str, contents: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, contents).expect("pem file");
    path.display().to_string()
}

/// An app serving gRPC over TLS with `server`; with `client_ca`, clients need a
/// certificate that CA signed.
async fn tls_app(dir: &Path, server: &Leaf, client_ca: Option<&TestCa>) -> TestApp {
    let cert = write(dir, "server.pem", &server.cert);
    let key = write(dir, "server.key", &server.key);
    let client_ca = client_ca.map(|ca| write(dir, "clients-ca.pem", &ca.pem));
    spawn_app_with(move |settings, _| {
        settings.grpc.tls_cert_file = cert;
        settings.grpc.tls_key_file = key;
        settings.grpc.tls_client_ca_file = client_ca.unwrap_or_default();
    })
    .await
}

/// A TLS client that trusts `ca` for the server name `localhost`, optionally presenting
/// a client certificate.
fn tls_client(app: &TestApp, ca: &TestCa, identity: Option<&Leaf>) -> Grpc {
    let mut tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(&ca.pem))
        .domain_name("localhost");
    if let Some(leaf) = identity {
        tls = tls.identity(Identity::from_pem(&leaf.cert, &leaf.key));
    }
    let channel = Endpoint::from_shared(format!("https://{}", app.grpc_addr))
        .expect("endpoint")
        .tls_config(tls)
        .expect("client TLS config")
        .connect_lazy();
    Grpc::with(channel, Bearer::none())
}

#[tokio::test]
async fn tls_serves_the_api_to_clients_that_trust_the_ca() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ca = TestCa::new("trustmint test CA");
    let server = ca.sign(&["localhost"], ExtendedKeyUsagePurpose::ServerAuth);
    let app = tls_app(dir.path(), &server, None).await;

    let grpc = tls_client(&app, &ca, None);
    let minted = grpc.mint_ok(&app.github_jwt(GitHubClaims::new())).await;
    assert!(grpc.verify(&minted.token, PROJECT).await.allowed);

    // A client that does not trust the CA, and a plaintext client, get nowhere.
    let stranger = TestCa::new("another CA");
    let status = tls_client(&app, &stranger, None)
        .try_verify(&minted.token, PROJECT)
        .await
        .expect_err("untrusted server certificate");
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    assert_eq!(status.message(), "invalid peer certificate: UnknownIssuer");
    let status = Grpc::with(channel(&app), Bearer::none())
        .try_verify(&minted.token, PROJECT)
        .await
        .expect_err("plaintext to a TLS listener");
    assert_transport_refusal(&status, "");
}

/// The connection was refused during or right after the handshake: tonic reports
/// UNAVAILABLE (handshake failed on our side) or UNKNOWN "transport error" (the server
/// closed the stream or sent a TLS alert); `alert` must appear in the cause.
#[track_caller]
fn assert_transport_refusal(status: &tonic::Status, alert: &str) {
    assert!(
        matches!(status.code(), Code::Unavailable | Code::Unknown),
        "{status:?}"
    );
    assert!(format!("{status:?}").contains(alert), "{alert}: {status:?}");
}

#[tokio::test]
async fn mtls_refuses_clients_without_a_certificate_from_the_client_ca() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server_ca = TestCa::new("server CA");
    let clients_ca = TestCa::new("index clients CA");
    let server = server_ca.sign(&["localhost"], ExtendedKeyUsagePurpose::ServerAuth);
    let app = tls_app(dir.path(), &server, Some(&clients_ca)).await;

    let index = clients_ca.sign(&["index.example.org"], ExtendedKeyUsagePurpose::ClientAuth);
    let grpc = tls_client(&app, &server_ca, Some(&index));
    let minted = grpc.mint_ok(&app.github_jwt(GitHubClaims::new())).await;
    assert!(grpc.verify(&minted.token, PROJECT).await.allowed);

    let impostor_ca = TestCa::new("impostor CA");
    let impostor = impostor_ca.sign(&["index.example.org"], ExtendedKeyUsagePurpose::ClientAuth);
    for (name, client, alert) in [
        (
            "no client certificate",
            tls_client(&app, &server_ca, None),
            "CertificateRequired",
        ),
        (
            "a certificate from another CA",
            tls_client(&app, &server_ca, Some(&impostor)),
            "UnknownCA",
        ),
    ] {
        let status = client
            .try_verify(&minted.token, PROJECT)
            .await
            .expect_err(name);
        assert_transport_refusal(&status, alert);
    }
}
