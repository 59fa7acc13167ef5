//! The closed-loop scenarios: exchange (HTTP mint-token) and verify (gRPC VerifyToken)
//! at each concurrency level — `_c1` rows send one request at a time, so their latency
//! is a single request's cost with nothing queued in front of it; the higher levels show
//! throughput — and the optional 250-project publisher of PyPI #18514 and refused
//! (forged) JWTs.

use std::sync::Arc;
use std::time::Instant;

use futures::StreamExt as _;
use trustmint_testkit::TestIssuer;
use trustmint_testkit::claims::GitHubClaims;

use crate::child::DECLARED_PROJECT;
use crate::clients::{self, mint_body};
use crate::error::BenchError;
use crate::jwts::{sign_batch, with_broken_signature};
use crate::load::{self, LoadPlan};
use crate::run::{Bench, MINT_HISTOGRAM, ScenarioResult, VERIFY_HISTOGRAM};

/// Mints before measuring: the first fetches the issuer's JWKS (cold path); the rest
/// warm connections, allocator and caches.
const WARM_UP_MINTS: usize = 200;

/// Requests of a sequential (`_c1`) row, at most: enough for a p99.
const SEQUENTIAL_REQUESTS: usize = 1_000;

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

/// One mint row: which JWTs, how many, how concurrently.
struct MintRow<'a> {
    name: String,
    what: &'a str,
    issuer: &'a TestIssuer,
    claims: GitHubClaims,
    plan: LoadPlan,
}

/// One verify row.
struct VerifyRow<'a> {
    name: String,
    what: String,
    tokens: Arc<Vec<String>>,
    project: &'a str,
    plan: LoadPlan,
}

fn claims_for(repository: &str) -> GitHubClaims {
    GitHubClaims::new().repository(format!("octo-org/{repository}"))
}

/// The loaded row and the sequential (`_c1`) row of an optional scenario.
fn both_plans(bench: &Bench, requests: usize) -> [(String, LoadPlan); 2] {
    [
        (String::new(), bench.plan(requests)),
        (
            "_c1".to_owned(),
            bench.plan_at(requests.min(SEQUENTIAL_REQUESTS), 1),
        ),
    ]
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
    // The other issuers' first fetches happen here too, not inside a measurement.
    for issuer in [&bench.es256, &bench.rotation] {
        let jwt = sign_batch(issuer, &GitHubClaims::new(), 1).jwts;
        let first = jwt.first().map(|jwt| mint_body(jwt)).unwrap_or_default();
        clients::mint(bench.http(), &bench.service.http_url, first)
            .await
            .map_err(|failure| {
                BenchError::Setup(format!("the first mint from {}: {failure}", issuer.url()))
            })?;
    }
    Ok(WarmUp {
        cold_first_mint_us,
        warm_mints_ok,
    })
}

/// Mint over HTTP with fresh JWTs (signed before the clock starts).
async fn http_mint(bench: &Bench, row: MintRow<'_>) -> Result<ScenarioResult, BenchError> {
    let batch = sign_batch(row.issuer, &row.claims, row.plan.requests);
    let bodies: Arc<Vec<String>> = Arc::new(batch.jwts.iter().map(|jwt| mint_body(jwt)).collect());
    drop(batch.jwts);
    let url: Arc<str> = Arc::from(bench.service.http_url.as_str());
    let load = load::run(row.plan, &bench.http_clients, move |client, n| {
        let (bodies, url) = (bodies.clone(), url.clone());
        async move {
            let body = bodies.get(n).cloned().unwrap_or_default();
            clients::mint(&client, &url, body).await.map(|_| ())
        }
    });
    let signing = Some(batch.signing_time.as_secs_f64());
    bench
        .measure(&row.name, row.what, MINT_HISTOGRAM, signing, row.plan, load)
        .await
}

/// Verify over gRPC, round-robin over the row's tokens.
async fn grpc_verify(bench: &Bench, row: VerifyRow<'_>) -> Result<ScenarioResult, BenchError> {
    if row.tokens.is_empty() {
        return Err(BenchError::Setup(format!(
            "{}: no token could be minted to verify",
            row.name
        )));
    }
    let tokens = row.tokens.clone();
    let project: Arc<str> = Arc::from(row.project);
    let load = load::run(row.plan, &bench.token_clients, move |client, n| {
        let token = tokens[n % tokens.len()].clone();
        let project = project.to_string();
        clients::verify(client, token, project)
    });
    bench
        .measure(&row.name, &row.what, VERIFY_HISTOGRAM, None, row.plan, load)
        .await
}

/// Exchange at each concurrency level: config-declared publisher, one project.
pub(crate) async fn exchange_levels(
    bench: &Bench,
    levels: &[usize],
    requests: usize,
) -> Result<Vec<ScenarioResult>, BenchError> {
    let mut results = Vec::new();
    for &level in levels {
        let row = MintRow {
            name: format!("exchange_c{level}"),
            what: "POST /_/oidc/mint-token, fresh RS256 GitHub JWT, config-declared publisher (1 project); success = 200 with a token",
            issuer: &bench.rs256,
            claims: GitHubClaims::new(),
            plan: bench.plan_at(requests, level),
        };
        results.push(http_mint(bench, row).await?);
    }
    Ok(results)
}

/// [`VERIFY_POOL`] tokens of the declared publisher, minted over HTTP.
pub(crate) async fn verify_pool(bench: &Bench) -> Result<Arc<Vec<String>>, BenchError> {
    let batch = sign_batch(&bench.rs256, &GitHubClaims::new(), VERIFY_POOL);
    let tokens = mint_all(bench, &batch.jwts).await;
    if tokens.is_empty() {
        return Err(BenchError::Setup(
            "no token could be minted to verify".to_owned(),
        ));
    }
    Ok(Arc::new(tokens))
}

/// Verify at each concurrency level, round-robin over `tokens`.
pub(crate) async fn verify_levels(
    bench: &Bench,
    tokens: &Arc<Vec<String>>,
    levels: &[usize],
    requests: usize,
) -> Result<Vec<ScenarioResult>, BenchError> {
    let mut results = Vec::new();
    for &level in levels {
        let row = VerifyRow {
            name: format!("verify_c{level}"),
            what: format!(
                "TokenService.VerifyToken, {} tokens minted beforehand (round-robin), project '{DECLARED_PROJECT}'; success = allowed",
                tokens.len()
            ),
            tokens: tokens.clone(),
            project: DECLARED_PROJECT,
            plan: bench.plan_at(requests, level),
        };
        results.push(grpc_verify(bench, row).await?);
    }
    Ok(results)
}

/// Optional: the PyPI #18514 shape. Registers two publishers over the API, one with
/// one project and one with [`MANY_PROJECTS`], and mints (and verifies) with each, so
/// the only difference between paired rows is the number of projects.
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
    for (suffix, plan) in both_plans(bench, requests) {
        for (repository, projects) in [(SINGLE_REPOSITORY, 1), (MONOREPO, MANY_PROJECTS)] {
            let row = MintRow {
                name: format!(
                    "http_mint_api_{projects}_project{}{suffix}",
                    if projects == 1 { "" } else { "s" }
                ),
                what: "mint, API-registered publisher listing that many projects (PyPI #18514: > 5 s for 200+); the token's caveat names them all",
                issuer: &bench.rs256,
                claims: claims_for(repository),
                plan,
            };
            results.push(http_mint(bench, row).await?);
        }
    }
    let batch = sign_batch(&bench.rs256, &claims_for(MONOREPO), VERIFY_POOL);
    let tokens = Arc::new(mint_all(bench, &batch.jwts).await);
    let middle = &many[MANY_PROJECTS / 2];
    for (suffix, plan) in both_plans(bench, requests) {
        let row = VerifyRow {
            name: format!("grpc_verify_250_projects{suffix}"),
            what: format!(
                "VerifyToken of 250-project tokens ({} minted beforehand) for '{middle}'",
                tokens.len()
            ),
            tokens: tokens.clone(),
            project: middle,
            plan,
        };
        results.push(grpc_verify(bench, row).await?);
    }
    Ok(results)
}

/// Optional: forged JWTs (right issuer and kid, one signature character changed):
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
    let plan = bench.plan(requests);
    let load = load::run(plan, &bench.http_clients, move |client, n| {
        let body = bodies[n % bodies.len()].clone();
        let url = url.clone();
        async move { clients::mint_refused(&client, &url, body).await }
    });
    bench
        .measure(
            "http_mint_bad_signature",
            "POST /_/oidc/mint-token with an RS256 JWT whose signature is broken (full RSA verify, then refused); success = 422 invalid-token",
            MINT_HISTOGRAM,
            None,
            plan,
            load,
        )
        .await
}
