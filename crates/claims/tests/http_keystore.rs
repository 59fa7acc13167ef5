//! The real `HttpFetcher` against the testkit issuer (and a raw TCP server for the
//! streaming cap and redirects): discovery, JWKS, rotation, outages, caps, timeouts.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use trustmint_claims::{
    ClaimsError, FetchError, HttpFetcher, IssuerRegistry, IssuerSettings, JwksFetcher, JwtVerifier,
    KeyStore, KeyStoreSettings, NoopObserver, VerifiedClaims,
};
use trustmint_publishers::Provider;
use trustmint_testkit::claims::GitHubClaims;
use trustmint_testkit::{IssuerOptions, KeyAlgorithm, SignOptions, TestIssuer};

fn now() -> i64 {
    i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_secs(),
    )
    .expect("i64")
}

fn named(settings: IssuerSettings) -> IssuerSettings {
    IssuerSettings {
        name: Some("local".into()),
        ..settings
    }
}

fn verifier(settings: IssuerSettings, keystore: KeyStoreSettings) -> JwtVerifier {
    let fetcher = HttpFetcher::new(&keystore).expect("client");
    let registry = IssuerRegistry::new(&[named(settings)]).expect("registry");
    JwtVerifier::new(
        registry,
        KeyStore::new(Arc::new(fetcher), keystore, Arc::new(NoopObserver)),
        "pypi".into(),
    )
}

/// No refresh cooldown, so rotations are picked up immediately.
fn eager() -> KeyStoreSettings {
    KeyStoreSettings {
        refresh_cooldown: Duration::ZERO,
        failure_backoff: Duration::ZERO,
        ..KeyStoreSettings::default()
    }
}

fn token(issuer: &TestIssuer) -> String {
    issuer.sign(&GitHubClaims::new().build(&issuer.url(), "pypi", now()))
}

async fn check(verifier: &JwtVerifier, jwt: &str) -> Result<VerifiedClaims, ClaimsError> {
    let routed = verifier.route(jwt)?;
    verifier.verify(&routed, now()).await
}

#[tokio::test]
async fn discovery_then_jwks() {
    let issuer = TestIssuer::start().await;
    let verifier = verifier(
        IssuerSettings::exact(Provider::GitHub, issuer.url()),
        KeyStoreSettings::default(),
    );
    let verified = check(&verifier, &token(&issuer)).await.expect("verifies");
    assert_eq!(verified.iss, issuer.url());
    assert_eq!(verified.claims["repository"], "octo-org/sampleproject");
    assert_eq!(
        (issuer.discovery_fetch_count(), issuer.jwks_fetch_count()),
        (1, 1)
    );
    // Cached: no more fetches.
    check(&verifier, &token(&issuer)).await.expect("verifies");
    assert_eq!(
        (issuer.discovery_fetch_count(), issuer.jwks_fetch_count()),
        (1, 1)
    );
    let status = verifier.keystore().status();
    assert_eq!(status.len(), 1);
    assert_eq!(
        (status[0].issuer_name.as_str(), status[0].keys),
        ("local", 1)
    );
    assert_eq!(
        status[0].source,
        format!("{}/.well-known/openid-configuration", issuer.url())
    );
}

#[tokio::test]
async fn configured_jwks_uri_skips_discovery() {
    let issuer = TestIssuer::start_with(IssuerOptions {
        serve_discovery: false,
        ..IssuerOptions::default()
    })
    .await;
    let settings = IssuerSettings {
        jwks_uri: Some(issuer.jwks_uri()),
        ..IssuerSettings::exact(Provider::GitHub, issuer.url())
    };
    let verifier = verifier(settings, KeyStoreSettings::default());
    check(&verifier, &token(&issuer)).await.expect("verifies");
    assert_eq!(
        (issuer.discovery_fetch_count(), issuer.jwks_fetch_count()),
        (0, 1)
    );
}

#[tokio::test]
async fn key_rotation_is_picked_up() {
    let issuer = TestIssuer::start().await;
    let verifier = verifier(
        IssuerSettings::exact(Provider::GitHub, issuer.url()),
        eager(),
    );
    let old = token(&issuer);
    check(&verifier, &old).await.expect("key-1 verifies");

    assert_eq!(issuer.rotate_key_dropping_old(), "key-2");
    let rotated = token(&issuer);
    assert_eq!(
        check(&verifier, &rotated).await.map(|v| v.iss),
        Ok(issuer.url())
    );
    assert_eq!(issuer.jwks_fetch_count(), 2);
    // The refresh replaced the set: key-1 is no longer trusted.
    assert_eq!(
        check(&verifier, &old).await.map(|v| v.iss),
        Err(ClaimsError::InvalidToken(format!(
            "key id \"key-1\" not found for issuer {:?}",
            issuer.url()
        )))
    );
}

#[tokio::test]
async fn issuer_down_cached_keys_still_verify_and_new_kids_are_unavailable() {
    let issuer = TestIssuer::start().await;
    let verifier = verifier(
        IssuerSettings::exact(Provider::GitHub, issuer.url()),
        eager(),
    );
    check(&verifier, &token(&issuer))
        .await
        .expect("warms the cache");

    issuer.set_failing(true);
    let still_good = token(&issuer);
    assert_eq!(
        check(&verifier, &still_good).await.map(|v| v.iss),
        Ok(issuer.url())
    );

    issuer.rotate_key();
    assert_eq!(
        check(&verifier, &token(&issuer)).await.map(|v| v.iss),
        Err(ClaimsError::KeysUnavailable(
            "local: fetching discovery document: HTTP status 500".into()
        ))
    );

    issuer.set_failing(false);
    assert_eq!(
        check(&verifier, &token(&issuer)).await.map(|v| v.iss),
        Ok(issuer.url())
    );
}

#[tokio::test]
async fn oversized_jwks_is_rejected() {
    let issuer = TestIssuer::start().await;
    issuer.set_jwks_padding(300 * 1024);
    let verifier = verifier(
        IssuerSettings::exact(Provider::GitHub, issuer.url()),
        KeyStoreSettings::default(),
    );
    assert_eq!(
        check(&verifier, &token(&issuer)).await.map(|v| v.iss),
        Err(ClaimsError::KeysUnavailable(
            "local: fetching JWKS: response larger than 262144 bytes".into()
        ))
    );
}

#[tokio::test]
async fn slow_issuer_times_out() {
    let issuer = TestIssuer::start().await;
    issuer.set_response_delay(Duration::from_secs(3));
    let settings = KeyStoreSettings {
        fetch_timeout: Duration::from_millis(300),
        ..KeyStoreSettings::default()
    };
    let verifier = verifier(
        IssuerSettings::exact(Provider::GitHub, issuer.url()),
        settings,
    );
    let started = Instant::now();
    assert_eq!(
        check(&verifier, &token(&issuer)).await.map(|v| v.iss),
        Err(ClaimsError::KeysUnavailable(
            "local: fetching discovery document: timed out".into()
        ))
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn enterprise_slug_through_a_url_pattern() {
    let issuer = TestIssuer::start_with(IssuerOptions {
        path: "/octo-enterprise".into(),
        ..IssuerOptions::default()
    })
    .await;
    let base = issuer.url().trim_end_matches("/octo-enterprise").to_owned();
    let verifier = verifier(
        IssuerSettings::pattern(Provider::GitHub, format!("{base}/*")),
        KeyStoreSettings::default(),
    );
    let verified = check(&verifier, &token(&issuer)).await.expect("verifies");
    assert_eq!(verified.iss, format!("{base}/octo-enterprise"));
    assert!(verified.issuer.is_pattern());
    assert_eq!(issuer.discovery_fetch_count(), 1);
}

#[tokio::test]
async fn ghes_style_issuer_path() {
    let issuer = TestIssuer::start_with(IssuerOptions {
        path: "/_services/token".into(),
        ..IssuerOptions::default()
    })
    .await;
    let verifier = verifier(
        IssuerSettings::exact(Provider::GitHub, issuer.url()),
        KeyStoreSettings::default(),
    );
    assert_eq!(
        check(&verifier, &token(&issuer)).await.map(|v| v.iss),
        Ok(issuer.url())
    );
}

#[tokio::test]
async fn algorithms_over_http() {
    for (algorithm, name) in [
        (KeyAlgorithm::PS256, "PS256"),
        (KeyAlgorithm::ES256, "ES256"),
        (KeyAlgorithm::EdDSA, "EdDSA"),
    ] {
        let issuer = TestIssuer::start_with(IssuerOptions {
            algorithm,
            ..IssuerOptions::default()
        })
        .await;
        let settings = IssuerSettings {
            algorithms: Some(vec![name.into()]),
            ..IssuerSettings::exact(Provider::GitHub, issuer.url())
        };
        let verifier = verifier(settings, KeyStoreSettings::default());
        assert_eq!(
            check(&verifier, &token(&issuer)).await.map(|v| v.iss),
            Ok(issuer.url()),
            "{name}"
        );
    }
}

#[tokio::test]
async fn signing_with_an_extra_published_key() {
    let issuer = TestIssuer::start().await;
    let ec = issuer.add_key(KeyAlgorithm::ES256);
    let settings = IssuerSettings {
        algorithms: Some(vec!["RS256".into(), "ES256".into()]),
        ..IssuerSettings::exact(Provider::GitHub, issuer.url())
    };
    let verifier = verifier(settings, KeyStoreSettings::default());
    let claims = GitHubClaims::new().build(&issuer.url(), "pypi", now());
    let jwt = issuer.sign_with(
        SignOptions::default().signed_by(ec.clone()).with_kid(ec),
        &claims,
    );
    assert_eq!(
        check(&verifier, &jwt).await.map(|v| v.iss),
        Ok(issuer.url())
    );
}

/// A one-shot raw HTTP server: answers every connection with `response`.
async fn raw_server(response: Vec<u8>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let response = response.clone();
            tokio::spawn(async move {
                let mut request = [0u8; 4096];
                let _ = socket.read(&mut request).await;
                let _ = socket.write_all(&response).await;
                // Keep streaming filler for "endless" responses until the client hangs up.
                if response.ends_with(b"\r\n")
                    && response.starts_with(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked")
                {
                    let chunk = format!("{:x}\r\n{}\r\n", 64 * 1024, "a".repeat(64 * 1024));
                    while socket.write_all(chunk.as_bytes()).await.is_ok() {}
                }
            });
        }
    });
    format!("http://{address}")
}

#[tokio::test]
async fn streamed_body_is_cut_at_the_cap() {
    let url = raw_server(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n"
            .to_vec(),
    )
    .await;
    let fetcher = HttpFetcher::with_limits(Duration::from_secs(5), 256 * 1024).expect("client");
    let started = Instant::now();
    assert_eq!(
        fetcher.fetch(&format!("{url}/jwks")).await,
        Err(FetchError::TooLarge { limit: 256 * 1024 })
    );
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn redirect_to_another_host_is_not_followed() {
    let response =
        b"HTTP/1.1 302 Found\r\nLocation: http://localhost:1/jwks\r\nContent-Length: 0\r\n\r\n"
            .to_vec();
    let url = raw_server(response).await;
    let fetcher = HttpFetcher::with_limits(Duration::from_secs(5), 1024).expect("client");
    assert_eq!(
        fetcher.fetch(&format!("{url}/jwks")).await,
        Err(FetchError::Status(302))
    );
}

#[tokio::test]
async fn non_2xx_is_an_error() {
    let url = raw_server(b"HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\n{}".to_vec()).await;
    let fetcher = HttpFetcher::with_limits(Duration::from_secs(5), 1024).expect("client");
    assert_eq!(fetcher.fetch(&url).await, Err(FetchError::Status(404)));
}

#[tokio::test]
async fn fetcher_returns_the_body() {
    let url =
        raw_server(b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n{\"keys\":[]}".to_vec()).await;
    let fetcher = HttpFetcher::with_limits(Duration::from_secs(5), 1024).expect("client");
    let body = fetcher.fetch(&url).await.expect("body");
    assert_eq!(
        serde_json::from_slice::<Value>(&body).expect("json"),
        serde_json::json!({"keys": []})
    );
}
