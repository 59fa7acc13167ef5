//! The development OIDC issuer behind `trustmint dev-issuer`.
//!
//! ⚠️ A development tool: it signs whatever claims you ask for with a throwaway key
//! generated at startup (no files, nothing persisted). Never configure it as an issuer
//! of a production trustmint.
//!
//! Endpoints (all on `http://ADDR`):
//! * `GET /.well-known/openid-configuration` (and under `/gitlab`, `/google`,
//!   `/activestate`): discovery for one issuer URL per CI kind; all share
//!   `GET /.well-known/jwks`.
//! * `GET|POST /token?kind=github&audience=pypi&repository=owner/repo&workflow=release.yml&ref=…&environment=…`
//!   → `200 {"token": "<jwt>", "claims": {…}}`, or the bare JWT as `text/plain` with
//!   `&format=text` (handy for `TOKEN=$(curl …)`). Parameters are query parameters for
//!   both methods; unknown ones are refused (400) so typos do not go unnoticed.
//!   Per kind: github `repository`, `repository_owner_id`, `workflow`, `ref`, `sha`,
//!   `environment`, `event_name`; gitlab `project_path`, `ci_config_path`, `ref`,
//!   `sha`, `environment`; google `email`, `sub`; activestate `organization`,
//!   `project`, `actor`, `actor_id`.
//! * `GET /_apis/idtoken?api-version=2.0&audience=pypi` with `Authorization: bearer
//!   <anything non-empty>` → `{"value": "<jwt>"}`: shaped like GitHub's
//!   `ACTIONS_ID_TOKEN_REQUEST_URL`, so the Python `id` package (and
//!   gh-action-pypi-publish) work with `GITHUB_ACTIONS=true`,
//!   `ACTIONS_ID_TOKEN_REQUEST_URL=http://ADDR/_apis/idtoken?api-version=2.0` and any
//!   `ACTIONS_ID_TOKEN_REQUEST_TOKEN`. The `id` package appends `audience` to the URL's
//!   query, so GitHub claim parameters can be baked into that URL too.

use std::collections::HashMap;
use std::future::Future;
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener};
use std::time::{SystemTime, UNIX_EPOCH};

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use crate::claims::{ActiveStateClaims, GitHubClaims, GitLabClaims, GoogleClaims};
use crate::keys::{KeyAlgorithm, SignOptions};
use crate::server::{IssuerState, KeyRing, configure_issuer_routes, start_server};

/// Issuer path per CI kind; `github` is the server root.
const KIND_PATHS: [(&str, &str); 4] = [
    ("github", ""),
    ("gitlab", "/gitlab"),
    ("google", "/google"),
    ("activestate", "/activestate"),
];

const COMMON_PARAMS: [&str; 4] = ["kind", "audience", "format", "api-version"];
const GITHUB_PARAMS: [&str; 7] = [
    "repository",
    "repository_owner_id",
    "workflow",
    "ref",
    "sha",
    "environment",
    "event_name",
];
const GITLAB_PARAMS: [&str; 5] = [
    "project_path",
    "ci_config_path",
    "ref",
    "sha",
    "environment",
];
const GOOGLE_PARAMS: [&str; 2] = ["email", "sub"];
const ACTIVESTATE_PARAMS: [&str; 4] = ["organization", "project", "actor", "actor_id"];

/// Runs the dev issuer on `addr` until `shutdown` completes. Prints the issuer URLs,
/// a ready-to-paste trustmint config and curl / `id` command lines on startup. The
/// first stdout line is `trustmint dev issuer listening on http://HOST:PORT`.
pub async fn run_dev_issuer(addr: SocketAddr, shutdown: impl Future) -> std::io::Result<()> {
    run_dev_issuer_on(TcpListener::bind(addr)?, shutdown).await
}

/// [`run_dev_issuer`] on an already bound listener (tests bind port 0 and keep the
/// address).
pub async fn run_dev_issuer_on(
    listener: TcpListener,
    shutdown: impl Future,
) -> std::io::Result<()> {
    let local = listener.local_addr()?;
    let shown_ip = if local.ip().is_unspecified() {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    } else {
        local.ip()
    };
    let base_url = format!("http://{}", SocketAddr::new(shown_ip, local.port()));
    let kid = format!(
        "dev-{}",
        uuid::Uuid::new_v4()
            .simple()
            .to_string()
            .get(..8)
            .unwrap_or("key")
    );
    let ring =
        KeyRing::new(KeyAlgorithm::RS256, &kid, "dev-rotated-").map_err(std::io::Error::other)?;
    let state = web::Data::new(IssuerState::new(base_url.clone(), ring, true));

    let paths: Vec<String> = KIND_PATHS
        .iter()
        .map(|(_, path)| (*path).to_owned())
        .collect();
    let (server, handle, _) = start_server(listener, state, move |config| {
        configure_issuer_routes(config, &paths);
        config
            .route("/token", web::get().to(token))
            .route("/token", web::post().to(token))
            .route("/_apis/idtoken", web::get().to(actions_id_token))
            .route("/", web::get().to(help));
    })?;

    print_startup(&base_url, &kid, shown_ip.is_loopback());

    tokio::select! {
        result = server => result,
        _ = shutdown => {
            handle.stop(true).await;
            Ok(())
        }
    }
}

/// Prints the startup text to stdout (errors writing it are ignored: it is advice).
fn print_startup(base_url: &str, kid: &str, loopback: bool) {
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "trustmint dev issuer listening on {base_url}");
    if !loopback {
        let _ = writeln!(
            stdout,
            "warning: not a loopback address; trustmint accepts plain-http issuers only on loopback"
        );
    }
    let _ = writeln!(stdout, "{}", banner(base_url, kid));
    let _ = stdout.flush();
}

/// The startup text: issuer URLs, config and command lines (no secrets: the only
/// identifier shown is the throwaway key's id).
pub(crate) fn banner(base_url: &str, kid: &str) -> String {
    let mut text = format!(
        "DEVELOPMENT ONLY: tokens are signed with a throwaway RS256 key (kid {kid}) generated at startup.\n\
         Never configure this issuer in production.\n\n\
         Issuer URLs (one per CI kind; all share the JWKS at {base_url}/.well-known/jwks):\n"
    );
    for (kind, path) in KIND_PATHS {
        text.push_str(&format!("  {kind:<12} {base_url}{path}\n"));
    }
    text.push_str("\ntrustmint config (paste into your config file):\n");
    for (kind, path) in KIND_PATHS {
        text.push_str(&format!(
            "  [[issuers]]\n  url = \"{base_url}{path}\"\n  kind = \"{kind}\"\n"
        ));
    }
    // The publisher names the dev issuer: a publisher without `issuer` trusts GitHub's
    // public issuer, which this config does not list (check-config would refuse it).
    text.push_str(&format!(
        "  [[publishers]]\n  kind = \"github\"\n  issuer = \"{base_url}\"\n  projects = [\"sampleproject\"]\n  repository_owner = \"octo-org\"\n  \
         repository_owner_id = \"92345678\"\n  repository_name = \"sampleproject\"\n  workflow_filename = \"release.yml\"\n"
    ));
    text.push_str(&format!(
        "\nGet a GitHub-Actions-shaped token and exchange it (trustmint on 127.0.0.1:8080):\n  \
         TOKEN=$(curl -s '{base_url}/token?audience=pypi&repository=octo-org/sampleproject&workflow=release.yml&format=text')\n  \
         curl -s -X POST http://127.0.0.1:8080/_/oidc/mint-token -H 'Content-Type: application/json' -d \"{{\\\"token\\\": \\\"$TOKEN\\\"}}\"\n\
         \nOther kinds: add kind=gitlab|google|activestate to /token (see the docs of trustmint_testkit::run_dev_issuer).\n\
         \nWith the Python `id` package (what pypa/gh-action-pypi-publish uses):\n  \
         GITHUB_ACTIONS=true ACTIONS_ID_TOKEN_REQUEST_URL='{base_url}/_apis/idtoken?api-version=2.0' \
         ACTIONS_ID_TOKEN_REQUEST_TOKEN=dev python -m id pypi\n"
    ));
    text
}

async fn help(state: web::Data<IssuerState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body(banner(&state.base_url, &state.current_kid()))
}

async fn token(
    state: web::Data<IssuerState>,
    query: web::Query<HashMap<String, String>>,
) -> HttpResponse {
    let params = query.into_inner();
    match issue(&state, &params) {
        Ok((jwt, _)) if params.get("format").map(String::as_str) == Some("text") => {
            HttpResponse::Ok()
                .content_type("text/plain; charset=utf-8")
                .body(format!("{jwt}\n"))
        }
        Ok((jwt, claims)) => HttpResponse::Ok().json(json!({"token": jwt, "claims": claims})),
        Err(message) => HttpResponse::BadRequest().json(json!({"message": message})),
    }
}

/// The `ACTIONS_ID_TOKEN_REQUEST_URL` look-alike the `id` package calls.
async fn actions_id_token(
    state: web::Data<IssuerState>,
    request: HttpRequest,
    query: web::Query<HashMap<String, String>>,
) -> HttpResponse {
    let authorized = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split_once(' '))
        .is_some_and(|(scheme, credential)| {
            scheme.eq_ignore_ascii_case("bearer") && !credential.trim().is_empty()
        });
    if !authorized {
        return HttpResponse::Unauthorized().json(json!({
            "message": "missing `Authorization: bearer <ACTIONS_ID_TOKEN_REQUEST_TOKEN>` (any value works here)"
        }));
    }
    let mut params = query.into_inner();
    if params.get("kind").is_some_and(|kind| kind != "github") {
        return HttpResponse::BadRequest()
            .json(json!({"message": "this endpoint only issues GitHub Actions tokens"}));
    }
    params.insert("kind".into(), "github".into());
    match issue(&state, &params) {
        Ok((jwt, _)) => HttpResponse::Ok().json(json!({"value": jwt})),
        Err(message) => HttpResponse::BadRequest().json(json!({"message": message})),
    }
}

/// Builds and signs a token from request parameters.
fn issue(state: &IssuerState, params: &HashMap<String, String>) -> Result<(String, Value), String> {
    let kind = params.get("kind").map_or("github", String::as_str);
    let path = KIND_PATHS
        .iter()
        .find(|(name, _)| *name == kind)
        .map(|(_, path)| *path)
        .ok_or_else(|| {
            format!("unknown kind {kind:?}; use github, gitlab, google or activestate")
        })?;
    let kind_params: &[&str] = match kind {
        "github" => &GITHUB_PARAMS,
        "gitlab" => &GITLAB_PARAMS,
        "google" => &GOOGLE_PARAMS,
        _ => &ACTIVESTATE_PARAMS,
    };
    if let Some(unknown) = params.keys().find(|name| {
        !COMMON_PARAMS.contains(&name.as_str()) && !kind_params.contains(&name.as_str())
    }) {
        return Err(format!(
            "unknown parameter {unknown:?} for kind {kind}; accepted: {}",
            [&COMMON_PARAMS[..], kind_params].concat().join(", ")
        ));
    }
    if let Some(format) = params.get("format")
        && format != "text"
        && format != "json"
    {
        return Err("format must be json or text".to_owned());
    }
    let get = |name: &str| params.get(name).filter(|value| !value.is_empty());
    let iss = format!("{}{path}", state.base_url);
    let audience = get("audience").map_or("pypi", String::as_str);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0));
    let claims = match kind {
        "github" => {
            let mut builder = GitHubClaims::new();
            if let Some(v) = get("repository") {
                if !v.contains('/') {
                    return Err("repository must be owner/name".to_owned());
                }
                builder = builder.repository(v);
            }
            if let Some(v) = get("repository_owner_id") {
                builder = builder.repository_owner_id(v);
            }
            if let Some(v) = get("workflow") {
                builder = builder.workflow(v);
            }
            if let Some(v) = get("ref") {
                builder = builder.git_ref(v);
            }
            if let Some(v) = get("sha") {
                builder = builder.sha(v);
            }
            if let Some(v) = get("environment") {
                builder = builder.environment(v);
            }
            if let Some(v) = get("event_name") {
                builder = builder.event_name(v);
            }
            builder.build(&iss, audience, now)
        }
        "gitlab" => {
            let mut builder = GitLabClaims::new();
            if let Some(v) = get("project_path") {
                builder = builder.project_path(v);
            }
            if let Some(v) = get("ci_config_path") {
                builder = builder.ci_config_path(v);
            }
            if let Some(v) = get("ref") {
                builder = match v.strip_prefix("refs/tags/") {
                    Some(tag) => builder.tag(tag),
                    None => builder.branch(v.strip_prefix("refs/heads/").unwrap_or(v)),
                };
            }
            if let Some(v) = get("sha") {
                builder = builder.sha(v);
            }
            if let Some(v) = get("environment") {
                builder = builder.environment(v);
            }
            builder.build(&iss, audience, now)
        }
        "google" => {
            let mut builder = GoogleClaims::new();
            if let Some(v) = get("email") {
                builder = builder.email(v);
            }
            if let Some(v) = get("sub") {
                builder = builder.subject(v);
            }
            builder.build(&iss, audience, now)
        }
        _ => {
            let mut builder = ActiveStateClaims::new();
            if let Some(v) = get("organization") {
                builder = builder.organization(v);
            }
            if let Some(v) = get("project") {
                builder = builder.project(v);
            }
            if let (Some(actor), Some(actor_id)) = (get("actor"), get("actor_id")) {
                builder = builder.actor(actor, actor_id);
            }
            builder.build(&iss, audience, now)
        }
    };
    let jwt = state
        .sign(&SignOptions::default(), &claims)
        .map_err(|error| error.to_string())?;
    Ok((jwt, claims))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn banner_has_config_and_commands_but_no_key_material() {
        let text = banner("http://127.0.0.1:9000", "dev-1234abcd");
        assert!(text.contains("DEVELOPMENT ONLY"));
        assert!(text.contains(
            "  [[issuers]]\n  url = \"http://127.0.0.1:9000/gitlab\"\n  kind = \"gitlab\"\n"
        ));
        assert!(text.contains("TOKEN=$(curl -s 'http://127.0.0.1:9000/token?audience=pypi&repository=octo-org/sampleproject&workflow=release.yml&format=text')"));
        assert!(text.contains(
            "ACTIONS_ID_TOKEN_REQUEST_URL='http://127.0.0.1:9000/_apis/idtoken?api-version=2.0'"
        ));
        assert!(!text.contains("BEGIN"), "no PEM in the banner");
    }
}
