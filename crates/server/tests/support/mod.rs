//! The app spawner for end-to-end tests: a real `trustmint::Application` on free ports,
//! a real testkit OIDC issuer, and an HTTP client. Each test gets its own of each.

#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use tokio::sync::oneshot;
use trustmint::{Application, Settings};
use trustmint_testkit::TestIssuer;
use trustmint_testkit::claims::GitHubClaims;

/// The publisher every default app declares (the testkit's default GitHub claims match it).
pub const PROJECT: &str = "sampleproject";

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

/// A `[[publishers]]` entry for the testkit's default GitHub repository.
pub fn github_publisher(issuer: &str, projects: &[&str], environment: &str) -> Value {
    json!({
        "kind": "github",
        "issuer": issuer,
        "projects": projects,
        "repository_owner": "octo-org",
        "repository_owner_id": "92345678",
        "repository_name": "sampleproject",
        "workflow_filename": "release.yml",
        "environment": environment,
    })
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
