//! The measured scenarios: mint over HTTP, verify over gRPC, the 250-project publisher
//! of PyPI #18514, and refused (forged) JWTs.

use std::sync::Arc;
use std::time::Instant;

use futures::StreamExt as _;
use trustmint_testkit::TestIssuer;
use trustmint_testkit::claims::GitHubClaims;

use crate::child::DECLARED_PROJECT;
use crate::clients::{self, mint_body};
use crate::error::BenchError;
use crate::jwts::{sign_batch, with_broken_signature};
use crate::load;
use crate::run::{Bench, MINT_HISTOGRAM, ScenarioResult, VERIFY_HISTOGRAM};

/// Mints before measuring: the first fetches the issuer's JWKS (cold path); the rest
/// warm connections, allocator and caches.
const WARM_UP_MINTS: usize = 200;

/// Tokens minted up front for a verify scenario, used round-robin.
const VERIFY_POOL: usize = 500;

/// Distinct forged JWTs, used round-robin (refused before the replay guard, so reuse
/// costs the service the same as fresh ones).
const FORGED_POOL: usize = 64;

/// Projects of the big publisher (PyPI #18514: "200+ projects").
pub(crate) const MANY_PROJECTS: usize = 250;

/// Repository of the API-registered publisher listing one project.
const SINGLE_REPOSITORY: &str = "single";
/// Repository of the API-registered publisher listing [`MANY_PROJECTS`].
const MONOREPO: &str = "monorepo";

/// What the warm-up saw.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct WarmUp {
    /// Latency of the very first mint (includes discovery + JWKS fetch), µs.
    pub(crate) cold_first_mint_us: f64,
    /// Warm-up mints that succeeded (of [`WARM_UP_MINTS`]).
    pub(crate) warm_mints_ok: usize,
}

fn claims_for(repository: &str) -> GitHubClaims {
    GitHubClaims::new().repository(format!("octo-org/{repository}"))
}

/// Mints `jwts` over HTTP with the bench's concurrency; the tokens that came back.
async fn mint_all(bench: &Bench, jwts: &[String]) -> Vec<String> {
    let client = bench.http().clone();
    let url = bench.service.http_url.clone();
    futures::stream::iter(jwts.iter().map(|jwt| {
        let (client, url, body) = (client.clone(), url.clone(), mint_body(jwt));
        async move { clients::mint(&client, &url, body).await.ok() }
    }))
    .buffer_unordered(bench.concurrency)
    .filter_map(|token| async move { token })
    .collect()
    .await
}

/// The cold first mint and the warm-up.
pub(crate) async fn warm_up(bench: &Bench) -> Result<WarmUp, BenchError> {
    let batch = sign_batch(&bench.rs256, &GitHubClaims::new(), WARM_UP_MINTS);
    let (first, rest) = batch
        .jwts
        .split_first()
        .ok_or_else(|| BenchError::Setup("no warm-up JWTs".to_owned()))?;
    let started = Instant::now();
    clients::mint(bench.http(), &bench.service.http_url, mint_body(first))
        .await
        .map_err(|failure| BenchError::Setup(format!("the first mint failed: {failure}")))?;
    let cold_first_mint_us = started.elapsed().as_secs_f64() * 1e6;
    let warm_mints_ok = 1 + mint_all(bench, rest).await.len();
    Ok(WarmUp {
        cold_first_mint_us,
        warm_mints_ok,
    })
}

/// Mint over HTTP with `requests` fresh JWTs for `claims` from `issuer`.
async fn http_mint(
    bench: &Bench,
    name: &str,
    what: &str,
    issuer: &TestIssuer,
    claims: &GitHubClaims,
    requests: usize,
) -> Result<ScenarioResult, BenchError> {
    let batch = sign_batch(issuer, claims, requests);
    let bodies: Arc<Vec<String>> = Arc::new(batch.jwts.iter().map(|jwt| mint_body(jwt)).collect());
    drop(batch.jwts);
    let url: Arc<str> = Arc::from(bench.service.http_url.as_str());
    let load = load::run(
        bench.plan(bodies.len()),
        &bench.http_clients,
        move |client, n| {
            let (bodies, url) = (bodies.clone(), url.clone());
            async move {
                let body = bodies.get(n).cloned().unwrap_or_default();
                clients::mint(&client, &url, body).await.map(|_| ())
            }
        },
    );
    bench
        .measure(
            name,
            what,
            MINT_HISTOGRAM,
            Some(batch.signing_time.as_secs_f64()),
            load,
        )
        .await
}

/// Verify over gRPC, round-robin over `tokens`, for `project`.
async fn grpc_verify(
    bench: &Bench,
    name: &str,
    what: &str,
    tokens: Vec<String>,
    project: &str,
    requests: usize,
) -> Result<ScenarioResult, BenchError> {
    if tokens.is_empty() {
        return Err(BenchError::Setup(format!(
            "{name}: no token could be minted to verify"
        )));
    }
    let tokens = Arc::new(tokens);
    let project: Arc<str> = Arc::from(project);
    let load = load::run(
        bench.plan(requests),
        &bench.token_clients,
        move |client, n| {
            let token = tokens[n % tokens.len()].clone();
            let project = project.to_string();
            clients::verify(client, token, project)
        },
    );
    bench
        .measure(name, what, VERIFY_HISTOGRAM, None, load)
        .await
}

/// Scenario 1: mint with the config-declared publisher (one project).
pub(crate) async fn mint_declared(
    bench: &Bench,
    requests: usize,
) -> Result<ScenarioResult, BenchError> {
    http_mint(
        bench,
        "http_mint",
        "POST /_/oidc/mint-token, fresh RS256 GitHub JWT, config-declared publisher (1 project); success = 200 with a token",
        &bench.rs256,
        &GitHubClaims::new(),
        requests,
    )
    .await
}

/// Scenario 2: verify tokens of the declared publisher.
pub(crate) async fn verify_declared(
    bench: &Bench,
    requests: usize,
) -> Result<ScenarioResult, BenchError> {
    let batch = sign_batch(&bench.rs256, &GitHubClaims::new(), VERIFY_POOL);
    let tokens = mint_all(bench, &batch.jwts).await;
    grpc_verify(
        bench,
        "grpc_verify",
        &format!(
            "TokenService.VerifyToken, {} tokens minted beforehand (round-robin), project '{DECLARED_PROJECT}'; success = allowed",
            tokens.len()
        ),
        tokens,
        DECLARED_PROJECT,
        requests,
    )
    .await
}

/// Scenario 3: the PyPI #18514 shape. Registers two publishers over the API, one with
/// one project and one with [`MANY_PROJECTS`], and mints (and verifies) with each, so
/// the only difference between the rows is the number of projects.
pub(crate) async fn many_projects(
    bench: &Bench,
    requests: usize,
) -> Result<Vec<ScenarioResult>, BenchError> {
    let mut publishers =
        clients::publisher_client(&bench.service.grpc_url, &bench.grpc_auth_token).await?;
    let many: Vec<String> = (0..MANY_PROJECTS)
        .map(|i| format!("bench-project-{i:03}"))
        .collect();
    let issuer = bench.rs256.url();
    clients::register_github_publisher(
        &mut publishers,
        &issuer,
        SINGLE_REPOSITORY,
        vec!["bench-single".to_owned()],
    )
    .await?;
    clients::register_github_publisher(&mut publishers, &issuer, MONOREPO, many.clone()).await?;

    let mut results = Vec::new();
    results.push(
        http_mint(
            bench,
            "http_mint_api_1_project",
            "mint, API-registered publisher listing 1 project (baseline for the next row)",
            &bench.rs256,
            &claims_for(SINGLE_REPOSITORY),
            requests,
        )
        .await?,
    );
    results.push(
        http_mint(
            bench,
            "http_mint_api_250_projects",
            "mint, API-registered publisher listing 250 projects (PyPI #18514: > 5 s there); the token's caveat names all 250",
            &bench.rs256,
            &claims_for(MONOREPO),
            requests,
        )
        .await?,
    );
    let batch = sign_batch(&bench.rs256, &claims_for(MONOREPO), VERIFY_POOL);
    let tokens = mint_all(bench, &batch.jwts).await;
    let middle = &many[MANY_PROJECTS / 2];
    results.push(
        grpc_verify(
            bench,
            "grpc_verify_250_projects",
            &format!(
                "VerifyToken of 250-project tokens ({} minted beforehand) for '{middle}'",
                tokens.len()
            ),
            tokens,
            middle,
            requests,
        )
        .await?,
    );
    Ok(results)
}

/// Scenario 4: forged JWTs (right issuer and kid, one signature character changed):
/// what attack traffic costs. Success = PyPI's 422 `invalid-token`.
pub(crate) async fn forged_signatures(
    bench: &Bench,
    requests: usize,
) -> Result<ScenarioResult, BenchError> {
    let batch = sign_batch(&bench.rs256, &GitHubClaims::new(), FORGED_POOL);
    let bodies: Arc<Vec<String>> = Arc::new(
        batch
            .jwts
            .iter()
            .map(|jwt| mint_body(&with_broken_signature(jwt)))
            .collect(),
    );
    let url: Arc<str> = Arc::from(bench.service.http_url.as_str());
    let load = load::run(
        bench.plan(requests),
        &bench.http_clients,
        move |client, n| {
            let body = bodies[n % bodies.len()].clone();
            let url = url.clone();
            async move { clients::mint_refused(&client, &url, body).await }
        },
    );
    bench
        .measure(
            "http_mint_bad_signature",
            "POST /_/oidc/mint-token with an RS256 JWT whose signature is broken (full RSA verify, then refused); success = 422 invalid-token",
            MINT_HISTOGRAM,
            None,
            load,
        )
        .await
}
