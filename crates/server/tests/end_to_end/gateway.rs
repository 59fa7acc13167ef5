//! The upload gateway over real HTTP: a real trustmint with `[gateway]` on, in front of a
//! recording index (an actix-web server that keeps what reached it), and TLS on the HTTP
//! listener with a CA generated here. The real clients and a real pypiserver are in
//! `tests/interop/test_gateway.py`; this file pins the error mapping.

use crate::observability;
use crate::support;

use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use futures::StreamExt as _;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use serde_json::json;
use sha2::{Digest, Sha256};
use support::{PROJECT, TestApp, spawn_app_with};
use trustmint_testkit::claims::GitHubClaims;

const UPSTREAM_USER: &str = "trustmint";
const UPSTREAM_PASSWORD: &str = "index-only-secret";
const BOUNDARY: &str = "gatewaytestboundary";

/// What reached the index.
#[derive(Debug, Clone)]
struct Received {
    authorization: String,
    content_type: String,
    sha256: String,
    length: usize,
}

/// An index that records complete uploads and answers `status` after `delay_ms`.
#[derive(Default)]
struct RecordingIndex {
    received: Mutex<Vec<Received>>,
    status: AtomicU16,
    delay_ms: AtomicU64,
}

async fn index_upload(
    request: HttpRequest,
    mut payload: web::Payload,
    index: web::Data<RecordingIndex>,
) -> HttpResponse {
    let mut hasher = Sha256::new();
    let mut length = 0;
    while let Some(chunk) = payload.next().await {
        // A body cut off by the gateway ends here: nothing is recorded.
        let Ok(chunk) = chunk else {
            return HttpResponse::BadRequest().body("truncated");
        };
        length += chunk.len();
        hasher.update(&chunk);
    }
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    index.received.lock().expect("index state").push(Received {
        authorization: header("authorization"),
        content_type: header("content-type"),
        sha256: hex::encode(hasher.finalize()),
        length,
    });
    tokio::time::sleep(Duration::from_millis(index.delay_ms.load(Ordering::SeqCst))).await;
    let status = index.status.load(Ordering::SeqCst);
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).expect("a valid status"))
        .content_type("text/plain")
        .body(format!("index says {status}"))
}

/// Starts the index on a free port; returns its state and URL.
fn start_index() -> (web::Data<RecordingIndex>, String) {
    let index = web::Data::new(RecordingIndex::default());
    index.status.store(200, Ordering::SeqCst);
    let data = index.clone();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .route("/", web::post().to(index_upload))
    })
    .workers(1)
    .disable_signals()
    .bind("127.0.0.1:0")
    .expect("bind index");
    let url = format!("http://{}/", server.addrs()[0]);
    tokio::spawn(server.run());
    (index, url)
}

async fn gateway_app(upstream: &str, configure: impl FnOnce(&mut trustmint::Settings)) -> TestApp {
    let upstream = upstream.to_owned();
    spawn_app_with(move |settings, _| {
        settings.gateway.enabled = true;
        settings.gateway.upstream = upstream;
        settings.gateway.upstream_username = UPSTREAM_USER.into();
        settings.gateway.upstream_password = UPSTREAM_PASSWORD.into();
        configure(settings);
    })
    .await
}

/// The legacy upload form as twine sends it, the file last.
fn upload_form(
    name: &str,
    file_name: &str,
    content: &[u8],
    after_file: &[(&str, &str)],
) -> Vec<u8> {
    let mut body = Vec::new();
    for (field, value) in [
        (":action", "file_upload"),
        ("protocol_version", "1"),
        ("name", name),
        ("version", "1.0"),
        ("filetype", "sdist"),
    ] {
        body.extend_from_slice(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{field}\"\r\n\r\n{value}\r\n")
                .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"content\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes(),
    );
    body.extend_from_slice(content);
    body.extend_from_slice(b"\r\n");
    for (field, value) in after_file {
        body.extend_from_slice(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{field}\"\r\n\r\n{value}\r\n")
                .as_bytes(),
        );
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

fn basic(token: &str) -> String {
    use base64::Engine as _;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("__token__:{token}"))
    )
}

async fn mint(app: &TestApp) -> String {
    let (status, body) = app.mint(&app.github_jwt(GitHubClaims::new())).await;
    assert_eq!(status, 200, "{body}");
    body["token"].as_str().expect("minted token").to_owned()
}

/// POSTs `body` to the gateway; (status, WWW-Authenticate, body text).
async fn post_upload(
    app: &TestApp,
    authorization: Option<&str>,
    body: impl Into<reqwest::Body>,
) -> (u16, String, String) {
    let mut request = app
        .client
        .post(format!("{}/legacy/", app.http))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(body);
    if let Some(authorization) = authorization {
        request = request.header("authorization", authorization);
    }
    let response = request.send().await.expect("request sent");
    let status = response.status().as_u16();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (status, challenge, response.text().await.unwrap_or_default())
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn uploads_metric(metrics: &str, outcome: &str) -> u64 {
    let series = format!("trustmint_gateway_uploads_total{{outcome=\"{outcome}\"}} ");
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(&series))
        .map_or(0, |value| value.trim().parse().expect("a metric value"))
}

#[tokio::test]
async fn an_allowed_upload_reaches_the_index_unchanged_with_the_index_credentials() {
    let (index, upstream) = start_index();
    let app = gateway_app(&upstream, |_| {}).await;
    let token = mint(&app).await;
    let content: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let body = upload_form(
        "SampleProject",
        "sampleproject-1.0.tar.gz",
        &content,
        &[("attestations", "[]")],
    );
    let (status, _, text) = post_upload(&app, Some(&basic(&token)), body.clone()).await;
    assert_eq!((status, text.as_str()), (200, "index says 200"));
    let received = index.received.lock().unwrap().clone();
    assert_eq!(received.len(), 1);
    let expected_authorization = {
        use base64::Engine as _;
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD
                .encode(format!("{UPSTREAM_USER}:{UPSTREAM_PASSWORD}"))
        )
    };
    assert_eq!(
        received[0].authorization, expected_authorization,
        "the token never reaches the index"
    );
    assert_eq!(
        received[0].content_type,
        format!("multipart/form-data; boundary={BOUNDARY}")
    );
    assert_eq!(
        (received[0].length, received[0].sha256.clone()),
        (body.len(), sha256_hex(&body))
    );

    // Bearer works too, and a chunked body (no Content-Length) streams the same.
    let stream = futures::stream::iter(
        body.chunks(7000)
            .map(|c| Ok::<_, std::io::Error>(c.to_vec()))
            .collect::<Vec<_>>(),
    );
    let (status, _, _) = post_upload(
        &app,
        Some(&format!("Bearer {token}")),
        reqwest::Body::wrap_stream(stream),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(index.received.lock().unwrap()[1].sha256, sha256_hex(&body));
    let (_, metrics) = app.get("/metrics").await;
    assert_eq!(uploads_metric(&metrics, "uploaded"), 2, "{metrics}");
    assert!(metrics.contains("trustmint_gateway_upload_duration_seconds_count 2"));
}

#[tokio::test]
async fn missing_or_malformed_credentials_are_401_with_a_basic_challenge() {
    let (index, upstream) = start_index();
    let app = gateway_app(&upstream, |_| {}).await;
    let body = upload_form(PROJECT, "sampleproject-1.0.tar.gz", b"x", &[]);
    let alice = {
        use base64::Engine as _;
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("alice:pw")
        )
    };
    for (authorization, message) in [
        (
            None,
            "authentication required: upload with username __token__ and a trustmint token as the password",
        ),
        (
            Some("Digest x"),
            "malformed Authorization header: use Basic __token__:<token> or Bearer <token>",
        ),
        (
            Some(alice.as_str()),
            "only API tokens are accepted here: use the username __token__",
        ),
    ] {
        let (status, challenge, text) = post_upload(&app, authorization, body.clone()).await;
        assert_eq!(
            (status, challenge.as_str(), text.as_str()),
            (401, "Basic realm=\"trustmint\"", message)
        );
    }
    assert!(index.received.lock().unwrap().is_empty());
}

#[tokio::test]
async fn tokens_that_may_not_upload_the_project_are_403_and_nothing_lands() {
    let (index, upstream) = start_index();
    let app = gateway_app(&upstream, |_| {}).await;
    let token = mint(&app).await;
    let other = upload_form("other-project", "other_project-1.0.tar.gz", b"x", &[]);
    let (status, _, text) = post_upload(&app, Some(&basic(&token)), other).await;
    assert_eq!(
        (status, text.as_str()),
        (
            403,
            "Invalid API Token: project-scoped token is not valid for project: 'other-project'"
        )
    );
    let garbage = upload_form(PROJECT, "sampleproject-1.0.tar.gz", b"x", &[]);
    let (status, _, text) = post_upload(&app, Some(&basic("pypi-garbage")), garbage).await;
    assert_eq!(status, 403, "{text}");
    assert!(text.starts_with("Invalid API Token: "), "{text}");

    // Revoked: refused with the verify reason.
    assert_eq!(
        app.post(
            "/_/oidc/revoke-token",
            json!({ "token": token }).to_string()
        )
        .await
        .0,
        204
    );
    let body = upload_form(PROJECT, "sampleproject-1.0.tar.gz", b"x", &[]);
    let (status, _, text) = post_upload(&app, Some(&basic(&token)), body).await;
    assert_eq!(
        (status, text.as_str()),
        (
            403,
            "Invalid API Token: token is expired or has been revoked"
        )
    );
    assert!(index.received.lock().unwrap().is_empty());
    let (_, metrics) = app.get("/metrics").await;
    assert_eq!(uploads_metric(&metrics, "denied"), 3, "{metrics}");
}

#[tokio::test]
async fn forms_that_could_smuggle_another_project_are_400_and_nothing_lands() {
    let (index, upstream) = start_index();
    let app = gateway_app(&upstream, |_| {}).await;
    let token = mint(&app).await;
    let auth = basic(&token);
    let cases = [
        (
            upload_form(PROJECT, "victim-1.0.tar.gz", b"x", &[]),
            "file 'victim-1.0.tar.gz' does not belong to project 'sampleproject'",
        ),
        (
            upload_form(PROJECT, "sampleproject-1.0.tar.gz", &vec![b'a'; 200_000], &[("name", "victim")]),
            "the form field 'name' appears more than once",
        ),
        (
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"content\"; filename=\"sampleproject-1.0.tar.gz\"\r\n\r\nx\r\n--{BOUNDARY}--\r\n").into_bytes(),
            "the form field 'name' must come before the file",
        ),
        (b"not multipart at all".to_vec(), "malformed multipart body: the body does not start with the boundary"),
    ];
    for (body, message) in cases {
        let (status, _, text) = post_upload(&app, Some(&auth), body).await;
        assert_eq!((status, text.as_str()), (400, message));
    }
    let response = app
        .client
        .post(format!("{}/legacy/", app.http))
        .header("authorization", &auth)
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(
        response.text().await.unwrap(),
        "the upload must be multipart/form-data with a boundary"
    );
    assert!(
        index.received.lock().unwrap().is_empty(),
        "a cut-off body never completes at the index"
    );
}

#[tokio::test]
async fn uploads_over_the_limit_are_413_whether_declared_or_streamed() {
    let (index, upstream) = start_index();
    let app = gateway_app(&upstream, |settings| {
        settings.gateway.max_upload_bytes = 64 * 1024
    })
    .await;
    let token = mint(&app).await;
    let body = upload_form(
        PROJECT,
        "sampleproject-1.0.tar.gz",
        &vec![b'z'; 100_000],
        &[],
    );
    let (status, _, text) = post_upload(&app, Some(&basic(&token)), body.clone()).await;
    assert_eq!(
        (status, text.as_str()),
        (413, "File too large. Limit is 65536 bytes.")
    );
    // Chunked: the limit is found while streaming, and the index's copy is cut off.
    let stream = futures::stream::iter(
        body.chunks(4096)
            .map(|c| Ok::<_, std::io::Error>(c.to_vec()))
            .collect::<Vec<_>>(),
    );
    let (status, _, _) = post_upload(
        &app,
        Some(&basic(&token)),
        reqwest::Body::wrap_stream(stream),
    )
    .await;
    assert_eq!(status, 413);
    assert!(index.received.lock().unwrap().is_empty());
}

#[tokio::test]
async fn index_failures_map_to_502_and_504() {
    // Down: nothing listens on the port any more.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let down = format!("http://{}/", closed.local_addr().unwrap());
    drop(closed);
    let app = gateway_app(&down, |_| {}).await;
    let token = mint(&app).await;
    let body = upload_form(PROJECT, "sampleproject-1.0.tar.gz", b"x", &[]);
    let (status, _, text) = post_upload(&app, Some(&basic(&token)), body.clone()).await;
    assert_eq!(
        (status, text.as_str()),
        (502, "the index behind the gateway cannot be reached")
    );

    // Slow: past timeout_secs.
    let (index, upstream) = start_index();
    index.delay_ms.store(3000, Ordering::SeqCst);
    let app = gateway_app(&upstream, |settings| settings.gateway.timeout_secs = 1).await;
    let token = mint(&app).await;
    let (status, _, text) = post_upload(&app, Some(&basic(&token)), body.clone()).await;
    assert_eq!(
        (status, text.as_str()),
        (504, "the index behind the gateway did not answer in time")
    );

    // The index refuses trustmint's own credentials: the operator's problem, not a 401 for the client.
    index.delay_ms.store(0, Ordering::SeqCst);
    index.status.store(401, Ordering::SeqCst);
    let (status, _, text) = post_upload(&app, Some(&basic(&token)), body.clone()).await;
    assert_eq!(status, 502, "{text}");
    assert!(
        text.starts_with("the index refused the gateway's upload credentials (HTTP 401)"),
        "{text}"
    );

    // Any other answer of the index is relayed as it is.
    index.status.store(409, Ordering::SeqCst);
    let (status, _, text) = post_upload(&app, Some(&basic(&token)), body).await;
    assert_eq!((status, text.as_str()), (409, "index says 409"));
}

#[tokio::test]
async fn every_upload_is_an_audit_event_in_the_stream() {
    use observability::audit_stream::{delete_prefix, local_redis, read_events, unique_prefix};
    let mut redis = local_redis().await;
    let prefix = unique_prefix();
    let (_index, upstream) = start_index();
    let stream_prefix = prefix.clone();
    let app = gateway_app(&upstream, move |settings| {
        settings.store.backend = trustmint_store::Backend::Redis;
        settings.store.redis_url = observability::audit_stream::LOCAL_REDIS_URL.to_owned();
        settings.store.key_prefix = stream_prefix;
    })
    .await;
    let token = mint(&app).await;
    let token_id = trustmint_tokens::parse_token(&token, "pypi-")
        .unwrap()
        .identifier
        .token_id;
    let publisher_id = app.app.list_publishers(PROJECT).await.unwrap()[0]
        .id
        .to_string();
    let body = upload_form("SampleProject", "sampleproject-1.0.tar.gz", b"x", &[]);
    assert_eq!(post_upload(&app, Some(&basic(&token)), body).await.0, 200);
    let other = upload_form("other-project", "other_project-1.0.tar.gz", b"x", &[]);
    assert_eq!(post_upload(&app, Some(&basic(&token)), other).await.0, 403);
    assert_eq!(post_upload(&app, None, b"x".to_vec()).await.0, 401);

    let events = read_events(&mut redis, &prefix).await;
    delete_prefix(&mut redis, &prefix).await;
    let uploads: Vec<_> = events
        .iter()
        .filter(|event| event["action"] == "upload")
        .map(|event| {
            let mut event = event.clone();
            event.remove("time");
            event
        })
        .collect();
    let expected = |pairs: &[(&str, &str)]| -> observability::audit_stream::StoredEvent {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    };
    assert_eq!(
        uploads,
        [
            expected(&[
                ("action", "upload"),
                ("outcome", "success"),
                ("client_ip", "127.0.0.1"),
                ("projects", PROJECT),
                ("version", "1.0"),
                ("file_name", "sampleproject-1.0.tar.gz"),
                ("publisher_id", &publisher_id),
                ("token_id", &token_id),
                ("upstream_status", "200"),
            ]),
            expected(&[
                ("action", "upload"),
                ("outcome", "failure"),
                ("code", "denied"),
                (
                    "reason",
                    "project-scoped token is not valid for project: 'other-project'"
                ),
                ("client_ip", "127.0.0.1"),
                ("projects", "other-project"),
                ("version", "1.0"),
                ("file_name", "other_project-1.0.tar.gz"),
            ]),
            expected(&[
                ("action", "upload"),
                ("outcome", "failure"),
                ("code", "unauthenticated"),
                (
                    "reason",
                    "authentication required: upload with username __token__ and a trustmint token as the password"
                ),
                ("client_ip", "127.0.0.1"),
            ]),
        ]
    );
    // Neither the token nor the index password is in any event.
    for event in &events {
        for value in event.values() {
            assert!(!value.contains(&token) && !value.contains(UPSTREAM_PASSWORD));
        }
    }
}

// === TLS on the HTTP listener ===

struct TestCa {
    pem: String,
    issuer: Issuer<'static, KeyPair>,
}

impl TestCa {
    fn new() -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("test certificate");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "trustmint test CA");
        let key = KeyPair::generate().expect("test certificate");
        let cert = params.self_signed(&key).expect("test certificate");
        Self {
            pem: cert.pem(),
            issuer: Issuer::new(params, key),
        }
    }

    /// (certificate PEM, key PEM) for localhost and 127.0.0.1.
    fn leaf(&self) -> (String, String) {
        let mut params =
            CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
                .expect("test certificate");
        params.use_authority_key_identifier_extension = true;
        let key = KeyPair::generate().expect("test certificate");
        let cert = params
            .signed_by(&key, &self.issuer)
            .expect("test certificate");
        (cert.pem(), key.serialize_pem())
    }
}

#[tokio::test]
async fn the_http_listener_serves_https_with_http1_and_h2() {
    let dir = tempfile::tempdir().expect("test certificate");
    let ca = TestCa::new();
    let (cert, key) = ca.leaf();
    let cert_file = dir.path().join("tls.crt");
    let key_file = dir.path().join("tls.key");
    std::fs::write(&cert_file, cert).unwrap();
    std::fs::write(&key_file, key).unwrap();
    let (cert_path, key_path) = (
        cert_file.display().to_string(),
        key_file.display().to_string(),
    );
    let app = spawn_app_with(move |settings, _| {
        settings.server.tls_cert_file = cert_path;
        settings.server.tls_key_file = key_path;
    })
    .await;
    let port = app.http.rsplit(':').next().unwrap().to_owned();
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(ca.pem.as_bytes()).unwrap())
        .build()
        .unwrap();
    for host in ["localhost", "127.0.0.1"] {
        let response = client
            .get(format!("https://{host}:{port}/_/oidc/audience"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.text().await.unwrap(), r#"{"audience":"pypi"}"#);
    }
    // Plain HTTP on the TLS port gets no answer.
    assert!(
        app.client
            .get(format!("http://127.0.0.1:{port}/healthz"))
            .send()
            .await
            .is_err()
    );
    // ALPN offers h2 and http/1.1.
    for (offered, expected) in [
        (b"h2".to_vec(), b"h2".to_vec()),
        (b"http/1.1".to_vec(), b"http/1.1".to_vec()),
    ] {
        let ca_pem = ca.pem.clone();
        let port = port.clone();
        let negotiated = tokio::task::spawn_blocking(move || alpn(&ca_pem, &port, offered))
            .await
            .unwrap();
        assert_eq!(negotiated, Some(expected));
    }
}

/// The ALPN protocol a rustls client that offers only `protocol` gets.
fn alpn(ca_pem: &str, port: &str, protocol: Vec<u8>) -> Option<Vec<u8>> {
    use rustls::pki_types::pem::PemObject as _;
    use std::io::Write as _;
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(
            rustls::pki_types::CertificateDer::from_pem_slice(ca_pem.as_bytes())
                .expect("TLS handshake"),
        )
        .expect("TLS handshake");
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("TLS handshake")
    .with_root_certificates(roots)
    .with_no_client_auth();
    config.alpn_protocols = vec![protocol];
    let mut connection = rustls::ClientConnection::new(
        Arc::new(config),
        "localhost".try_into().expect("TLS handshake"),
    )
    .expect("TLS handshake");
    let mut socket =
        std::net::TcpStream::connect(format!("127.0.0.1:{port}")).expect("TLS handshake");
    let mut stream = rustls::Stream::new(&mut connection, &mut socket);
    stream.flush().expect("TLS handshake");
    while stream.conn.is_handshaking() {
        stream.conn.complete_io(stream.sock).expect("TLS handshake");
    }
    connection.alpn_protocol().map(<[u8]>::to_vec)
}

#[tokio::test]
async fn unusable_tls_files_are_configuration_errors_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.pem").display().to_string();
    let garbage = dir.path().join("garbage.pem");
    std::fs::write(&garbage, "not pem").unwrap();
    let issuer = trustmint_testkit::TestIssuer::start().await;
    let mut settings = support::base_settings(&issuer);
    settings.server.tls_cert_file = missing.clone();
    let error = trustmint::Application::build(&settings)
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(
        error,
        "invalid configuration: server.tls_cert_file: set both tls_cert_file and tls_key_file, or neither"
    );
    settings.server.tls_key_file = garbage.display().to_string();
    let error = trustmint::Application::build(&settings)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        error.starts_with(&format!(
            "invalid configuration: server.tls_cert_file: cannot read '{missing}'"
        )),
        "{error}"
    );
}
