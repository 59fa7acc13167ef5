//! The dev issuer's endpoints, including the one the Python `id` package calls.

use std::net::TcpListener;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use tokio::sync::oneshot;
use trustmint_testkit::run_dev_issuer_on;

struct DevIssuer {
    url: String,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

async fn start() -> DevIssuer {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(run_dev_issuer_on(listener, async move {
        let _ = stopped.await;
    }));
    DevIssuer {
        url,
        stop: Some(stop),
        task,
    }
}

async fn request(builder: reqwest::RequestBuilder) -> (u16, String, String) {
    let response = builder.send().await.expect("request");
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (status, content_type, response.text().await.expect("body"))
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).expect("json body")
}

fn payload(jwt: &str) -> Value {
    let segment = jwt.split('.').nth(1).expect("payload segment");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(segment).expect("base64")).expect("json")
}

#[tokio::test]
async fn token_endpoint_json_and_text() {
    let dev = start().await;
    let client = reqwest::Client::new();
    let (status, _, body) = request(client.get(format!(
        "{}/token?audience=pypi&repository=pypa/sampleproject&workflow=release.yml&ref=refs/tags/v1&environment=pypi",
        dev.url
    )))
    .await;
    assert_eq!(status, 200, "{body}");
    let body = json(&body);
    let claims = payload(body["token"].as_str().expect("token"));
    assert_eq!(claims, body["claims"]);
    assert_eq!(claims["iss"], dev.url);
    assert_eq!(claims["aud"], "pypi");
    assert_eq!(claims["repository"], "pypa/sampleproject");
    assert_eq!(
        claims["job_workflow_ref"],
        "pypa/sampleproject/.github/workflows/release.yml@refs/tags/v1"
    );
    assert_eq!(claims["environment"], "pypi");

    let (status, content_type, text) =
        request(client.post(format!("{}/token?format=text", dev.url))).await;
    assert_eq!(
        (status, content_type.as_str()),
        (200, "text/plain; charset=utf-8")
    );
    assert_eq!(
        payload(text.trim_end())["repository"],
        "octo-org/sampleproject"
    );
}

#[tokio::test]
async fn each_kind_has_its_own_issuer_url_with_discovery() {
    let dev = start().await;
    let client = reqwest::Client::new();
    for (kind, path, claim, expected) in [
        ("gitlab", "/gitlab", "project_path", "ns/proj"),
        ("google", "/google", "email_verified", "true"),
        ("activestate", "/activestate", "builder", "pypi-publisher"),
    ] {
        let (status, _, body) = request(client.get(format!("{}/token?kind={kind}", dev.url))).await;
        assert_eq!(status, 200, "{body}");
        let claims = json(&body)["claims"].clone();
        assert_eq!(claims["iss"], format!("{}{path}", dev.url), "{kind}");
        let value = match &claims[claim] {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        assert_eq!(value, expected, "{kind}");
        let (status, _, discovery) = request(client.get(format!(
            "{}{path}/.well-known/openid-configuration",
            dev.url
        )))
        .await;
        assert_eq!(status, 200);
        assert_eq!(json(&discovery)["issuer"], format!("{}{path}", dev.url));
        assert_eq!(
            json(&discovery)["jwks_uri"],
            format!("{}/.well-known/jwks", dev.url)
        );
    }
}

#[tokio::test]
async fn bad_parameters_are_refused() {
    let dev = start().await;
    let client = reqwest::Client::new();
    let rows = [
        (
            "repo=octo/x",
            "unknown parameter \"repo\" for kind github; accepted: kind, audience, format, api-version, repository, repository_owner_id, workflow, ref, sha, environment, event_name",
        ),
        (
            "kind=bitbucket",
            "unknown kind \"bitbucket\"; use github, gitlab, google or activestate",
        ),
        ("format=xml", "format must be json or text"),
        ("repository=noslash", "repository must be owner/name"),
    ];
    for (query, message) in rows {
        let (status, _, body) = request(client.get(format!("{}/token?{query}", dev.url))).await;
        assert_eq!(
            (status, json(&body)["message"].as_str()),
            (400, Some(message)),
            "{query}"
        );
    }
}

#[tokio::test]
async fn actions_id_token_endpoint_behaves_like_github() {
    let dev = start().await;
    let client = reqwest::Client::new();
    let url = format!(
        "{}/_apis/idtoken?api-version=2.0&repository=octo-org/other&audience=testpypi",
        dev.url
    );

    let (status, _, body) = request(client.get(&url)).await;
    assert_eq!(status, 401, "{body}");
    let (status, _, _) = request(client.get(&url).header("Authorization", "bearer ")).await;
    assert_eq!(status, 401);

    let (status, _, body) = request(
        client
            .get(&url)
            .header("Authorization", "bearer some-request-token"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let value = json(&body)["value"].as_str().expect("value").to_owned();
    let claims = payload(&value);
    assert_eq!(
        (claims["aud"].as_str(), claims["repository"].as_str()),
        (Some("testpypi"), Some("octo-org/other"))
    );

    let (status, _, _) = request(
        client
            .get(format!("{url}&kind=gitlab"))
            .header("Authorization", "Bearer x"),
    )
    .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn help_page_and_shutdown() {
    let mut dev = start().await;
    let (status, _, text) = request(reqwest::Client::new().get(format!("{}/", dev.url))).await;
    assert_eq!(status, 200);
    assert!(text.starts_with("DEVELOPMENT ONLY"), "{text}");
    assert!(text.contains(&format!("url = \"{}/gitlab\"", dev.url)));

    dev.stop.take().expect("sender").send(()).expect("send");
    let result = (&mut dev.task).await.expect("join");
    assert_eq!(result.map_err(|e| e.to_string()), Ok(()));
    assert!(
        reqwest::get(format!("{}/", dev.url)).await.is_err(),
        "stopped"
    );
}
