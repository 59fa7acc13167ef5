//! GitHub secret scanning's endpoint: reports signed with a test P-256 key served at
//! the configured keys URL (a real HTTP server on 127.0.0.1, as GitHub's would be).

use actix_web::{App, HttpResponse, HttpServer, web};
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::sign::Signer;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use trustmint_exchange::Ecosystem;
use trustmint_http::SecretScanningSettings;
use trustmint_testkit::claims::GitHubClaims;
use trustmint_testkit::memory_exchange::PROJECT;

use super::{CRATES_AUDIENCE, all_doors};
use crate::support::TestServer;

const PATH: &str = "/_/secret-scanning/github";
const KEY_ID: &str = "test-key-1";

fn p256_key() -> PKey<Private> {
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).expect("curve");
    PKey::from_ec_key(EcKey::generate(&group).expect("key")).expect("pkey")
}

/// Serves `{"public_keys": [...]}` for `key` on 127.0.0.1; returns the URL.
fn serve_keys(key: &PKey<Private>) -> String {
    let pem = String::from_utf8(key.public_key_to_pem().expect("pem")).expect("utf-8");
    let body = json!({ "public_keys": [
        { "key_identifier": KEY_ID, "key": pem, "is_current": true }
    ]})
    .to_string();
    let server = HttpServer::new(move || {
        let body = body.clone();
        App::new().route(
            "/meta/public_keys/secret_scanning",
            web::get().to(move || {
                let body = body.clone();
                async move {
                    HttpResponse::Ok()
                        .content_type("application/json")
                        .body(body)
                }
            }),
        )
    })
    .workers(1)
    .disable_signals()
    .bind("127.0.0.1:0")
    .expect("bind");
    let addr = server.addrs()[0];
    tokio::spawn(server.run());
    format!("http://{addr}/meta/public_keys/secret_scanning")
}

fn sign(key: &PKey<Private>, body: &[u8]) -> String {
    use base64::Engine as _;
    let mut signer = Signer::new(MessageDigest::sha256(), key).expect("signer");
    let signature = signer.sign_oneshot_to_vec(body).expect("sign");
    base64::engine::general_purpose::STANDARD.encode(signature)
}

async fn report(server: &TestServer, body: &str, headers: &[(&str, String)]) -> (u16, Value) {
    let mut request = server
        .client
        .post(format!("{}{PATH}", server.url))
        .header("content-type", "application/json")
        .body(body.to_owned());
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    let response = request.send().await.expect("sent");
    let status = response.status().as_u16();
    (
        status,
        serde_json::from_str(&response.text().await.unwrap_or_default()).unwrap_or(Value::Null),
    )
}

fn sha256_hex(text: &str) -> String {
    hex_lower(&Sha256::digest(text.as_bytes()))
}

fn hex_lower(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Every door, and the secret scanning endpoint trusting `key` (served locally).
async fn spawn_scanned(key: &PKey<Private>) -> TestServer {
    let settings = SecretScanningSettings {
        enabled: true,
        keys_url: serve_keys(key),
        ..SecretScanningSettings::default()
    };
    TestServer::with(all_doors(&[PROJECT]).await, |state| {
        *state = state
            .clone()
            .with_secret_scanning(&settings)
            .expect("valid secret scanning settings");
    })
    .await
}

/// A PyPI token (PyPI's door) and a crates token (crates.io's door), both over HTTP.
async fn minted(server: &TestServer) -> (String, String) {
    let pypi = server.mint_pypi().await;
    let jwt = server.jwt_for(GitHubClaims::new(), CRATES_AUDIENCE);
    let (status, body) =
        super::crates_io::exchange(server, json!({ "jwt": jwt }).to_string()).await;
    assert_eq!(status, 200, "{body}");
    (pypi, body["token"].as_str().expect("a string").to_owned())
}

#[tokio::test]
async fn leaked_tokens_are_revoked_and_labelled() {
    let key = p256_key();
    let server = spawn_scanned(&key).await;
    let (pypi, crates) = minted(&server).await;
    // A well-formed token under our prefix that we never minted, and a stranger's.
    let forged = format!("pypi-{}", &pypi["pypi-".len()..pypi.len() - 4]) + "AAAA";
    let stranger = "ghp_0123456789abcdefghijklmnopqrstuvwxyz";
    let body = json!([
        { "token": pypi, "type": "trustmint_pypi", "url": "https://github.com/octo-org/sampleproject/blob/main/leak.txt", "source": "content" },
        { "token": crates, "type": "trustmint_crates", "url": "https://gist.github.com/x", "source": "gist" },
        { "token": forged, "type": "trustmint_pypi", "url": "https://github.com/x/y", "source": "content" },
        { "token": stranger, "type": "trustmint_pypi", "url": "https://github.com/x/z", "source": "content" },
    ])
    .to_string();
    let signature = sign(&key, body.as_bytes());
    let (status, answer) = report(
        &server,
        &body,
        &[
            ("Github-Public-Key-Identifier", KEY_ID.to_owned()),
            ("Github-Public-Key-Signature", signature),
        ],
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        answer,
        json!([
            { "token_hash": sha256_hex(&pypi), "token_type": "trustmint_pypi", "label": "true_positive" },
            { "token_hash": sha256_hex(&crates), "token_type": "trustmint_crates", "label": "true_positive" },
            { "token_hash": sha256_hex(&forged), "token_type": "trustmint_pypi", "label": "false_positive" },
            { "token_hash": sha256_hex(stranger), "token_type": "trustmint_pypi", "label": "false_positive" },
        ])
    );
    let revoked = (false, "token is expired or has been revoked".to_owned());
    assert_eq!(
        server
            .verify_in(&pypi, "sampleproject", Ecosystem::Pypi)
            .await,
        revoked
    );
    assert_eq!(
        server
            .verify_in(&crates, "serde_json", Ecosystem::Crates)
            .await,
        revoked
    );
    let metrics = server.get("/metrics").await.body;
    let metrics = metrics.as_str().expect("the metrics text");
    assert!(
        metrics.contains("trustmint_leaked_tokens_total{label=\"true_positive\"} 2"),
        "{metrics}"
    );
}

#[tokio::test]
async fn unsigned_or_badly_signed_reports_change_nothing() {
    let key = p256_key();
    let server = spawn_scanned(&key).await;
    let (pypi, _) = minted(&server).await;
    let body = json!([{ "token": pypi, "type": "t", "url": "u", "source": "content" }]).to_string();
    let other_body = json!([]).to_string();
    let cases = [
        (
            vec![],
            "Github-Public-Key-Identifier and Github-Public-Key-Signature are required",
        ),
        (
            vec![
                ("Github-Public-Key-Identifier", KEY_ID.to_owned()),
                (
                    "Github-Public-Key-Signature",
                    sign(&key, other_body.as_bytes()),
                ),
            ],
            "the signature does not verify",
        ),
        (
            vec![
                ("Github-Public-Key-Identifier", KEY_ID.to_owned()),
                (
                    "Github-Public-Key-Signature",
                    sign(&p256_key(), body.as_bytes()),
                ),
            ],
            "the signature does not verify",
        ),
        (
            vec![
                ("Github-Public-Key-Identifier", "someone-else".to_owned()),
                ("Github-Public-Key-Signature", sign(&key, body.as_bytes())),
            ],
            "unknown Github-Public-Key-Identifier",
        ),
        (
            vec![
                ("Github-Public-Key-Identifier", KEY_ID.to_owned()),
                ("Github-Public-Key-Signature", "not base64!".to_owned()),
            ],
            "the signature does not verify",
        ),
    ];
    for (headers, message) in cases {
        assert_eq!(
            report(&server, &body, &headers).await,
            (401, json!({ "message": message })),
            "{headers:?}"
        );
    }
    assert_eq!(
        server
            .verify_in(&pypi, "sampleproject", Ecosystem::Pypi)
            .await,
        (true, String::new())
    );
}
