//! End to end: tokens of every kind from the dev issuer verify through `JwtVerifier`
//! with the issuer entries the dev issuer prints.

use std::net::TcpListener;
use std::sync::Arc;

use serde_json::Value;
use trustmint_claims::{
    HttpFetcher, IssuerRegistry, IssuerSettings, JwtVerifier, KeyStore, KeyStoreSettings,
    NoopObserver,
};
use trustmint_publishers::Provider;

#[tokio::test]
async fn dev_issuer_tokens_verify_for_every_kind() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(trustmint_testkit::run_dev_issuer_on(listener, async move {
        let _ = stopped.await;
    }));

    let kinds = [
        (Provider::GitHub, "github", ""),
        (Provider::GitLab, "gitlab", "/gitlab"),
        (Provider::Google, "google", "/google"),
        (Provider::ActiveState, "activestate", "/activestate"),
    ];
    let settings: Vec<IssuerSettings> = kinds
        .iter()
        .map(|(kind, _, path)| IssuerSettings::exact(*kind, format!("{base}{path}")))
        .collect();
    let registry = IssuerRegistry::new(&settings).expect("the printed config is valid");
    let fetcher = HttpFetcher::new(&KeyStoreSettings::default()).expect("client");
    let keystore = KeyStore::new(
        Arc::new(fetcher),
        KeyStoreSettings::default(),
        Arc::new(NoopObserver),
    );
    let verifier = JwtVerifier::new(registry, keystore, "pypi".into());

    let client = reqwest::Client::new();
    for (kind, name, path) in kinds {
        let response = client
            .get(format!("{base}/token?kind={name}&format=text"))
            .send()
            .await
            .expect("request");
        assert_eq!(response.status().as_u16(), 200);
        let jwt = response.text().await.expect("body").trim_end().to_owned();
        let routed = verifier.route(&jwt).expect("routes");
        assert_eq!(routed.issuer.kind, kind);
        let now = i64::try_from(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .expect("clock")
                .as_secs(),
        )
        .expect("i64");
        let verified = verifier.verify(&routed, now).await.expect("verifies");
        assert_eq!(verified.iss, format!("{base}{path}"));
        assert_eq!(verified.claims.get("aud"), Some(&Value::from("pypi")));
    }
    // One key source per issuer URL (each has its own discovery document).
    assert_eq!(verifier.keystore().status().len(), 4);

    stop.send(()).expect("stop");
    assert_eq!(
        server.await.expect("join").map_err(|e| e.to_string()),
        Ok(())
    );
}
