//! The app spawner for end-to-end tests: a real `trustmint::Application` on free ports,
//! a real testkit OIDC issuer, and an HTTP client. Each test gets its own of each.

#![allow(dead_code, unreachable_pub)]

// Redis targets and replicas, and `trustmint` processes (redis_replicas, redis_faults,
// rate_limit).
pub mod redis_setup;
pub mod service_panics;
pub mod test_ca;
pub mod trustmint_process;

use std::net::SocketAddr;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use tokio::sync::oneshot;
use trustmint::{Application, Settings};
use trustmint_testkit::TestIssuer;
use trustmint_testkit::claims::GitHubClaims;

/// The publisher every default app declares (the testkit's default GitHub claims match it).
pub use trustmint_testkit::memory_exchange::PROJECT;

/// A running app and the issuer it trusts.
pub struct TestApp {
    pub http: String,
    pub grpc_addr: SocketAddr,
    pub issuer: TestIssuer,
    pub client: reqwest::Client,
    pub app: std::sync::Arc<trustmint_exchange::Exchange>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

/// Unix seconds now.
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Settings for a test app: free ports, memory store, no rate limit, one GitHub issuer
/// (the test issuer) and one declared publisher for `octo-org/sampleproject`.
pub fn base_settings(issuer: &TestIssuer) -> Settings {
    let mut settings = Settings::load(None, std::iter::empty()).expect("default settings");
    settings.server.http_addr = "127.0.0.1:0".into();
    settings.server.grpc_addr = "127.0.0.1:0".into();
    settings.server.http_workers = 1;
    settings.server.location = "https://upload.example.org".into();
    settings.rate_limit.enabled = false;
    settings.issuers = vec![issuer_settings(&issuer.url(), "github")];
    settings.publishers = vec![github_publisher(&issuer.url(), &[PROJECT], "")];
    settings
}

/// An `[[issuers]]` entry.
pub fn issuer_settings(url: &str, kind: &str) -> trustmint_claims::IssuerSettings {
    serde_json::from_value(json!({ "url": url, "kind": kind })).expect("issuer settings")
}

/// A `[[publishers]]` entry for the testkit's default GitHub repository (testkit's
/// `github_declaration`, which the use-case tests declare too).
pub fn github_publisher(issuer: &str, projects: &[&str], environment: &str) -> Value {
    trustmint_testkit::memory_exchange::github_declaration(issuer, projects, environment)
}

/// `[[issuers]]` trusting `issuer` as a GitHub issuer and `[[publishers]]` with the
/// [`github_publisher`] of [`PROJECT`] (no environment), as a `trustmint serve` config
/// file holds them.
pub fn github_publisher_toml(issuer: &str) -> String {
    let publisher = github_publisher(issuer, &[PROJECT], "");
    format!(
        r#"[[issuers]]
url = "{issuer}"
kind = "github"

[[publishers]]
kind = "github"
issuer = "{issuer}"
projects = ["{PROJECT}"]
repository_owner = {owner}
repository_owner_id = {owner_id}
repository_name = {name}
workflow_filename = {workflow}
"#,
        owner = publisher["repository_owner"],
        owner_id = publisher["repository_owner_id"],
        name = publisher["repository_name"],
        workflow = publisher["workflow_filename"],
    )
}

/// Spawns the default app.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_, _| {}).await
}

/// Spawns an app after `configure` adjusted the default settings.
pub async fn spawn_app_with(configure: impl FnOnce(&mut Settings, &TestIssuer)) -> TestApp {
    let issuer = TestIssuer::start().await;
    let mut settings = base_settings(&issuer);
    configure(&mut settings, &issuer);
    spawn_with_settings(issuer, &settings).await
}

/// Spawns an app from explicit settings.
pub async fn spawn_with_settings(issuer: TestIssuer, settings: &Settings) -> TestApp {
    let application = Application::build(settings).await.expect("app builds");
    let http = format!("http://{}", application.http_addr());
    let grpc_addr = application.grpc_addr();
    let app = application.exchange().clone();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(application.run_until(async move {
        let _ = stopped.await;
    }));
    TestApp {
        http,
        grpc_addr,
        issuer,
        client: reqwest::Client::new(),
        app,
        stop: Some(stop),
        task: Some(task),
    }
}

impl TestApp {
    /// A JWT for `claims`, signed by the test issuer, audience `pypi`.
    pub fn github_jwt(&self, claims: GitHubClaims) -> String {
        self.issuer
            .sign(&claims.build(&self.issuer.url(), "pypi", now()))
    }

    /// POSTs `body` to `path`; returns the status and the JSON body (Null if none).
    pub async fn post(&self, path: &str, body: impl Into<reqwest::Body>) -> (u16, Value) {
        let response = self
            .client
            .post(format!("{}{path}", self.http))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("request sent");
        let status = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// POSTs `{"token": jwt}` to `/_/oidc/mint-token`.
    pub async fn mint(&self, jwt: &str) -> (u16, Value) {
        self.post("/_/oidc/mint-token", json!({ "token": jwt }).to_string())
            .await
    }

    /// GETs `path`; returns the status and the body text.
    pub async fn get(&self, path: &str) -> (u16, String) {
        let response = self
            .client
            .get(format!("{}{path}", self.http))
            .send()
            .await
            .expect("request sent");
        (
            response.status().as_u16(),
            response.text().await.unwrap_or_default(),
        )
    }

    /// Stops the app gracefully and waits for it.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("app task").expect("app stopped cleanly");
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Asserts PyPI's error body: `{"message": "Token request failed", "errors": [{code, description}]}`.
#[track_caller]
pub fn assert_token_error(response: &(u16, Value), status: u16, code: &str, description: &str) {
    assert_eq!(response.0, status, "status; body: {}", response.1);
    assert_eq!(
        response.1["message"], "Token request failed",
        "body: {}",
        response.1
    );
    let errors = response.1["errors"].as_array().expect("errors array");
    assert_eq!(errors.len(), 1, "exactly one error: {}", response.1);
    assert_eq!(errors[0]["code"], code, "code; body: {}", response.1);
    assert_eq!(
        errors[0]["description"], description,
        "description; body: {}",
        response.1
    );
}

// === helpers for tests with several issuers and providers ===

/// An `[[issuers]]` entry from any JSON shape (`url` or `url_pattern`, `jwks_uri`,
/// `algorithms`, `enabled`, …).
pub fn issuer_entry(entry: Value) -> trustmint_claims::IssuerSettings {
    serde_json::from_value(entry).expect("issuer settings")
}

/// `http://127.0.0.1:PORT` of a test issuer (its URL without the path).
pub fn origin_of(issuer: &TestIssuer) -> String {
    let url = issuer.url();
    let authority_start = url.find("://").map_or(0, |at| at + 3);
    match url[authority_start..].find('/') {
        Some(path_start) => url[..authority_start + path_start].to_owned(),
        None => url,
    }
}

/// Spawns an app that trusts exactly `issuers` and declares exactly `publishers`; `issuer`
/// is kept alive by the returned app (other issuers must be kept alive by the test).
pub async fn spawn_app_trusting(
    issuer: TestIssuer,
    issuers: Vec<trustmint_claims::IssuerSettings>,
    publishers: Vec<Value>,
) -> TestApp {
    let mut settings = base_settings(&issuer);
    settings.issuers = issuers;
    settings.publishers = publishers;
    spawn_with_settings(issuer, &settings).await
}

/// Signs `claims` with `issuer`'s current key.
pub fn signed_by(issuer: &TestIssuer, claims: &Value) -> String {
    issuer.sign(claims)
}

impl TestApp {
    /// Asserts a successful exchange (200, exactly `success`, `token`, `expires`, a
    /// `pypi-` token), then verifies the token for `project` through the use case and
    /// returns what the index would learn: the publisher, the projects, the provenance.
    pub async fn assert_minted_for(
        &self,
        response: &(u16, Value),
        project: &str,
    ) -> trustmint_exchange::Allowed {
        assert_eq!(response.0, 200, "status; body: {}", response.1);
        assert_eq!(response.1["success"], true, "body: {}", response.1);
        let token = response.1["token"].as_str().expect("token string");
        assert!(token.starts_with("pypi-"), "the token has the pypi- prefix");
        assert!(response.1["expires"].as_i64().is_some(), "{}", response.1);
        let verification = self
            .app
            .verify(trustmint_exchange::VerifyRequest {
                token: token.into(),
                project: project.to_owned(),
            })
            .await
            .expect("verify runs");
        match verification {
            trustmint_exchange::Verification::Allowed(allowed) => *allowed,
            denied => panic!("minted token does not verify for {project}: {denied:?}"),
        }
    }
}
