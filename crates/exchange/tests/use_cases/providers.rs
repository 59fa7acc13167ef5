//! One testkit OIDC issuer per CI platform: GitHub (public, enterprise slug, GHES),
//! GitLab (gitlab.com and self-managed), Google and ActiveState; issuer isolation,
//! per-issuer kill switch and algorithms, reusable workflows, GitLab id pinning and
//! replay keys per issuer. Every refusal is asserted with its exact code and
//! description.
//!
//! Tokens of the public issuers carry their real `iss` (`https://gitlab.com`, …); the
//! exchange fetches the keys from the test issuer through a configured `jwks_uri`, as an
//! operator behind an egress proxy would.

use serde_json::{Value, json};
use trustmint_exchange::Clock as _;
use trustmint_testkit::claims::{ActiveStateClaims, GitHubClaims, GitLabClaims, GoogleClaims};
use trustmint_testkit::memory_exchange::{
    ExchangeBuilder, MemoryExchange, PROJECT, github_declaration,
};
use trustmint_testkit::{IssuerOptions, KeyAlgorithm, TestIssuer};

use crate::providers_support::{assert_minted_for, no_publisher, with};
use crate::support::{INVALID_TOKEN, assert_error, code_of};

const GITHUB_ISS: &str = "https://token.actions.githubusercontent.com";
const GITLAB_ISS: &str = "https://gitlab.com";
const GOOGLE_ISS: &str = "https://accounts.google.com";
const ACTIVESTATE_ISS: &str = "https://platform.activestate.com/api/v1/oauth/oidc";

/// A test issuer served under `path` (`/my-enterprise`, `/_services/token`).
async fn issuer_at(path: &str) -> TestIssuer {
    TestIssuer::start_with(IssuerOptions {
        path: path.to_owned(),
        ..IssuerOptions::default()
    })
    .await
}

/// A test issuer whose keys are of `algorithm`.
async fn issuer_with(algorithm: KeyAlgorithm) -> TestIssuer {
    TestIssuer::start_with(IssuerOptions {
        algorithm,
        ..IssuerOptions::default()
    })
    .await
}

/// `http://127.0.0.1:PORT` of a test issuer (its URL without the path).
fn origin_of(issuer: &TestIssuer) -> String {
    let url = issuer.url();
    let authority_start = url.find("://").map_or(0, |at| at + 3);
    match url[authority_start..].find('/') {
        Some(path_start) => url[..authority_start + path_start].to_owned(),
        None => url,
    }
}

/// A public issuer `url` whose keys come from the test issuer's JWKS.
fn public_issuer(url: &str, kind: &str, keys: &TestIssuer) -> Value {
    json!({ "url": url, "kind": kind, "jwks_uri": keys.jwks_uri() })
}

/// An exchange trusting exactly `issuers` and declaring exactly `publishers`; `issuer`
/// is kept alive by the exchange (other issuers must be kept alive by the test).
fn exchange_trusting(
    issuer: TestIssuer,
    issuers: Vec<Value>,
    publishers: Vec<Value>,
) -> MemoryExchange {
    ExchangeBuilder::new(issuer)
        .issuers(issuers)
        .publishers(publishers)
        .build()
}

/// A GitLab publisher for `namespace/project`'s `.gitlab-ci.yml`.
fn gitlab_publisher(issuer: &str, namespace: &str, project: &str, projects: &[&str]) -> Value {
    json!({
        "kind": "gitlab",
        "issuer": issuer,
        "projects": projects,
        "namespace": namespace,
        "project": project,
        "workflow_filepath": ".gitlab-ci.yml",
    })
}

/// Signs GitHub claims for `iss` with `keys`, issued at the exchange's now.
fn github_jwt(fx: &MemoryExchange, keys: &TestIssuer, iss: &str, claims: GitHubClaims) -> String {
    keys.sign(&claims.build(iss, "pypi", fx.clock.now()))
}

/// Signs GitLab claims for `iss` with `keys`, issued at the exchange's now.
fn gitlab_jwt(fx: &MemoryExchange, keys: &TestIssuer, iss: &str, claims: GitLabClaims) -> String {
    keys.sign(&claims.build(iss, "pypi", fx.clock.now()))
}

// === one exchange per provider ===

#[tokio::test]
async fn github_actions_public_issuer_exchanges() {
    let keys = TestIssuer::start().await;
    let issuers = vec![public_issuer(GITHUB_ISS, "github", &keys)];
    // No `issuer` field: the publisher trusts github.com's issuer.
    let publisher = with(
        github_declaration(GITHUB_ISS, &[PROJECT], "pypi"),
        json!({ "issuer": null }),
    );
    let fx = exchange_trusting(keys, issuers, vec![publisher]);
    let jwt = github_jwt(
        &fx,
        &fx.issuer,
        GITHUB_ISS,
        GitHubClaims::new().environment("pypi"),
    );
    let allowed = assert_minted_for(&fx, fx.mint(&jwt).await, PROJECT).await;
    assert_eq!(allowed.projects, [PROJECT]);
    assert_eq!(allowed.claims["issuer"], GITHUB_ISS);
    assert_eq!(allowed.claims["environment"], "pypi");
    assert_eq!(
        allowed.claims["publisher_url"],
        "https://github.com/octo-org/sampleproject/commit/2f9a6d1f8e1c3b7a5d4e6f80912a3b4c5d6e7f80"
    );
}

#[tokio::test]
async fn gitlab_com_issuer_exchanges() {
    let keys = TestIssuer::start().await;
    let issuers = vec![public_issuer(GITLAB_ISS, "gitlab", &keys)];
    let publisher = with(
        gitlab_publisher("", "ns", "proj", &["gitlab-project"]),
        json!({ "issuer": null }),
    );
    let fx = exchange_trusting(keys, issuers, vec![publisher]);
    let jwt = gitlab_jwt(
        &fx,
        &fx.issuer,
        GITLAB_ISS,
        GitLabClaims::new().tag("v1.0.0"),
    );
    let allowed = assert_minted_for(&fx, fx.mint(&jwt).await, "gitlab-project").await;
    assert_eq!(allowed.projects, ["gitlab-project"]);
    assert_eq!(allowed.claims["issuer"], GITLAB_ISS);
    assert_eq!(allowed.claims["ref_path"], "refs/tags/v1.0.0");
    assert_eq!(
        allowed.claims["publisher_url"],
        "https://gitlab.com/ns/proj/commit/714a629c0b401fdce83e847fc9589983fc6f46bc"
    );
}

#[tokio::test]
async fn self_managed_gitlab_with_subgroups_exchanges() {
    let gitlab = TestIssuer::start().await;
    let url = gitlab.url();
    let issuers = vec![json!({ "url": url, "kind": "gitlab" })];
    let publisher = with(
        gitlab_publisher(&url, "group/sub.group/team", "proj", &["self-managed"]),
        json!({ "environment": "release" }),
    );
    let fx = exchange_trusting(gitlab, issuers, vec![publisher]);
    let claims = GitLabClaims::new()
        .project_path("group/sub.group/team/proj")
        .environment("release");
    let allowed = assert_minted_for(
        &fx,
        fx.mint(&gitlab_jwt(&fx, &fx.issuer, &url, claims)).await,
        "self-managed",
    )
    .await;
    assert_eq!(allowed.claims["issuer"], url);
    assert_eq!(allowed.claims["project_path"], "group/sub.group/team/proj");
    assert_eq!(
        allowed.claims["ci_config_ref_uri"],
        format!(
            "{}/group/sub.group/team/proj//.gitlab-ci.yml@refs/heads/main",
            url.trim_start_matches("http://")
        )
    );

    // The environment is case-sensitive on GitLab (PyPI #18330).
    let claims = GitLabClaims::new()
        .project_path("group/sub.group/team/proj")
        .environment("Release");
    assert_error(
        fx.mint(&gitlab_jwt(&fx, &fx.issuer, &url, claims)).await,
        "invalid-publisher",
        &no_publisher(
            "Publisher with matching claims was not found; the publisher for project 'group/sub.group/team/proj' expects environment 'release' but the token's environment is 'Release' (only the letter case differs: GitLab environments are case-sensitive)",
        ),
    );
}

#[tokio::test]
async fn google_with_and_without_sub_exchanges() {
    let keys = TestIssuer::start().await;
    let issuers = vec![public_issuer(GOOGLE_ISS, "google", &keys)];
    let email = "pypi-publisher@my-project.iam.gserviceaccount.com";
    let pinned_only = "pinned@my-project.iam.gserviceaccount.com";
    let publishers = vec![
        json!({ "kind": "google", "projects": ["google-any"], "email": email }),
        json!({ "kind": "google", "projects": ["google-pinned"], "email": email, "sub": "111" }),
        json!({ "kind": "google", "projects": ["google-only"], "email": pinned_only, "sub": "111" }),
    ];
    let fx = exchange_trusting(keys, issuers, publishers);
    let google =
        |claims: GoogleClaims| fx.jwt_for(claims.build(GOOGLE_ISS, "pypi", fx.clock.now()));

    // The publisher with the token's `sub` is more specific than the one without.
    let allowed = assert_minted_for(
        &fx,
        fx.mint(&google(GoogleClaims::new().subject("111"))).await,
        "google-pinned",
    )
    .await;
    assert_eq!(allowed.projects, ["google-pinned"]);
    assert_eq!(allowed.claims["sub"], "111");

    // Any other subject (or none at all) falls back to the publisher without `sub`.
    for claims in [
        GoogleClaims::new().subject("222"),
        GoogleClaims::new().without("sub"),
    ] {
        let allowed = assert_minted_for(&fx, fx.mint(&google(claims)).await, "google-any").await;
        assert_eq!(allowed.projects, ["google-any"]);
        assert_eq!(allowed.claims["email"], email);
    }

    // Only a `sub`-pinned publisher for this email: another subject is refused.
    let jwt = google(GoogleClaims::new().email(pinned_only).subject("222"));
    assert_error(
        fx.mint(&jwt).await,
        "invalid-publisher",
        &no_publisher(
            "Publisher with matching claims was not found; the publisher for email 'pinned@my-project.iam.gserviceaccount.com' expects sub '111' but the token's sub is '222'",
        ),
    );

    // Google tokens have no jti: the JWT itself is the one-time key.
    let jwt = google(GoogleClaims::new().subject("333"));
    fx.mint(&jwt).await.expect("the first exchange");
    assert_error(
        fx.mint(&jwt).await,
        "invalid-reuse-token",
        "invalid token: already used",
    );
}

#[tokio::test]
async fn activestate_exchanges() {
    let keys = TestIssuer::start().await;
    let issuers = vec![public_issuer(ACTIVESTATE_ISS, "activestate", &keys)];
    let publisher = json!({
        "kind": "activestate",
        "projects": ["activestate-project"],
        "organization": "octo-org",
        "project": "sampleproject",
        "actor": "octocat",
        "actor_id": "7f1c2d3e-4b5a-4c6d-8e9f-0a1b2c3d4e5f",
    });
    let fx = exchange_trusting(keys, issuers, vec![publisher]);
    let activestate = |claims: ActiveStateClaims| {
        fx.jwt_for(claims.build(ACTIVESTATE_ISS, "pypi", fx.clock.now()))
    };

    let allowed = assert_minted_for(
        &fx,
        fx.mint(&activestate(ActiveStateClaims::new())).await,
        "activestate-project",
    )
    .await;
    assert_eq!(allowed.claims["organization"], "octo-org");
    assert_eq!(
        allowed.claims["publisher_url"],
        "https://platform.activestate.com/octo-org/sampleproject"
    );

    assert_error(
        fx.mint(&activestate(
            ActiveStateClaims::new().builder("someone-else"),
        ))
        .await,
        "invalid-publisher",
        &no_publisher(
            "Check failed for required claim 'builder'; the publisher for project 'octo-org/sampleproject' expects builder 'pypi-publisher' but the token's builder is 'someone-else'",
        ),
    );
}

// === GitHub Enterprise: slugs and GHES through url_pattern ===

#[tokio::test]
async fn github_enterprise_slug_exchanges_through_a_url_pattern() {
    // Keys by OIDC discovery of the token's own `iss`: …/my-enterprise/.well-known/…
    let slug = issuer_at("/my-enterprise").await;
    let pattern = format!("{}/*", origin_of(&slug));
    let slug_url = slug.url();
    let issuers = vec![
        json!({ "url_pattern": pattern, "kind": "github" }),
        public_issuer(GITHUB_ISS, "github", &slug),
    ];
    let publishers = vec![
        github_declaration(&slug_url, &["enterprise-project"], ""),
        // Same repository on github.com: never matches the enterprise's tokens.
        with(
            github_declaration(GITHUB_ISS, &["public-project"], ""),
            json!({ "issuer": null }),
        ),
    ];
    let fx = exchange_trusting(slug, issuers, publishers);
    let jwt = github_jwt(&fx, &fx.issuer, &slug_url, GitHubClaims::new());
    let allowed = assert_minted_for(&fx, fx.mint(&jwt).await, "enterprise-project").await;
    assert_eq!(allowed.projects, ["enterprise-project"]);
    assert_eq!(allowed.claims["issuer"], slug_url);
    assert_eq!(fx.issuer.discovery_fetch_count(), 1);

    // The pattern's `*` is one path segment: neither the bare origin nor a sub-path.
    for iss in [origin_of(&fx.issuer), format!("{slug_url}/nested")] {
        assert_error(
            fx.mint(&github_jwt(&fx, &fx.issuer, &iss, GitHubClaims::new()))
                .await,
            "invalid-payload",
            "unknown trusted publishing issuer",
        );
    }
}

#[tokio::test]
async fn enterprise_slugs_under_one_pattern_are_isolated_from_each_other() {
    // github.com's own enterprise pattern, one key set for every slug (the keys come
    // from the test issuer), many enterprises.
    let keys = TestIssuer::start().await;
    let issuers = vec![json!({
        "url_pattern": format!("{GITHUB_ISS}/*"),
        "kind": "github",
        "jwks_uri": keys.jwks_uri(),
    })];
    let acme = format!("{GITHUB_ISS}/acme");
    let globex = format!("{GITHUB_ISS}/globex");
    let initech = format!("{GITHUB_ISS}/initech");
    let publishers = vec![
        github_declaration(&acme, &["acme-project"], ""),
        github_declaration(&globex, &["globex-project"], ""),
    ];
    let fx = exchange_trusting(keys, issuers, publishers);

    let from_acme = github_jwt(&fx, &fx.issuer, &acme, GitHubClaims::new().jti("same-jti"));
    let allowed = assert_minted_for(&fx, fx.mint(&from_acme).await, "acme-project").await;
    assert_eq!(allowed.projects, ["acme-project"]);
    assert_eq!(allowed.claims["issuer"], acme);
    // An enterprise slug is still github.com.
    assert_eq!(
        allowed.claims["publisher_url"],
        "https://github.com/octo-org/sampleproject/commit/2f9a6d1f8e1c3b7a5d4e6f80912a3b4c5d6e7f80"
    );

    // Same repository, same jti, another enterprise: only its own publisher matches,
    // and it is not a replay of acme's token (the replay key has the real `iss`).
    let from_globex = github_jwt(
        &fx,
        &fx.issuer,
        &globex,
        GitHubClaims::new().jti("same-jti"),
    );
    let allowed = assert_minted_for(&fx, fx.mint(&from_globex).await, "globex-project").await;
    assert_eq!(allowed.projects, ["globex-project"]);
    assert_error(
        fx.mint(&from_acme).await,
        "invalid-reuse-token",
        "invalid token: already used",
    );

    // An enterprise without a publisher of its own gets nothing.
    assert_error(
        fx.mint(&github_jwt(&fx, &fx.issuer, &initech, GitHubClaims::new()))
            .await,
        "invalid-publisher",
        &no_publisher(&format!(
            "Publisher with matching claims was not found; no publisher is registered for repository 'octo-org/sampleproject' with issuer '{initech}'"
        )),
    );
    // github.com itself is not under the pattern.
    assert_error(
        fx.mint(&github_jwt(
            &fx,
            &fx.issuer,
            GITHUB_ISS,
            GitHubClaims::new(),
        ))
        .await,
        "invalid-payload",
        "unknown trusted publishing issuer",
    );
}

#[tokio::test]
async fn ghes_issuer_exchanges_through_a_url_pattern() {
    // GHES-shaped `iss` (`…/_services/token`), keys by discovery under that path. On
    // loopback the host cannot be a wildcard (plain http needs a literal loopback host),
    // so the pattern varies a path segment; the host-label test follows.
    let ghes = issuer_at("/_services/token").await;
    let pattern = format!("{}/*/token", origin_of(&ghes));
    let url = ghes.url();
    let issuers = vec![json!({ "url_pattern": pattern, "kind": "github" })];
    let publishers = vec![github_declaration(&url, &["ghes-project"], "")];
    let fx = exchange_trusting(ghes, issuers, publishers);
    let allowed = assert_minted_for(
        &fx,
        fx.mint(&github_jwt(&fx, &fx.issuer, &url, GitHubClaims::new()))
            .await,
        "ghes-project",
    )
    .await;
    assert_eq!(allowed.claims["issuer"], url);
    // A GHES publisher links to its own host.
    assert_eq!(
        allowed.claims["publisher_url"],
        format!(
            "{}/octo-org/sampleproject/commit/2f9a6d1f8e1c3b7a5d4e6f80912a3b4c5d6e7f80",
            origin_of(&fx.issuer)
        )
    );
}

#[tokio::test]
async fn ghes_host_label_pattern_routes_each_host_to_its_own_publishers() {
    // `https://*.ghe.example.com/_services/token` with the keys at a fixed jwks_uri: the
    // token's `iss` is only routed (never fetched), so real GHES host names work here.
    let keys = TestIssuer::start().await;
    let issuers = vec![json!({
        "url_pattern": "https://*.ghe.example.com/_services/token",
        "kind": "github",
        "jwks_uri": keys.jwks_uri(),
    })];
    let acme = "https://acme.ghe.example.com/_services/token";
    let publishers = vec![github_declaration(acme, &["acme-project"], "")];
    let fx = exchange_trusting(keys, issuers, publishers);

    let allowed = assert_minted_for(
        &fx,
        fx.mint(&github_jwt(&fx, &fx.issuer, acme, GitHubClaims::new()))
            .await,
        "acme-project",
    )
    .await;
    assert_eq!(
        allowed.claims["publisher_url"],
        "https://acme.ghe.example.com/octo-org/sampleproject/commit/2f9a6d1f8e1c3b7a5d4e6f80912a3b4c5d6e7f80"
    );

    let other_host = "https://evil.ghe.example.com/_services/token";
    assert_error(
        fx.mint(&github_jwt(
            &fx,
            &fx.issuer,
            other_host,
            GitHubClaims::new(),
        ))
        .await,
        "invalid-publisher",
        &no_publisher(&format!(
            "Publisher with matching claims was not found; no publisher is registered for repository 'octo-org/sampleproject' with issuer '{other_host}'"
        )),
    );
    for outside in [
        "https://acme.ghe.example.com.evil.com/_services/token",
        "https://a.b.ghe.example.com/_services/token",
        "https://acme.ghe.example.com/_services/token/x",
        "http://acme.ghe.example.com/_services/token",
    ] {
        assert_error(
            fx.mint(&github_jwt(&fx, &fx.issuer, outside, GitHubClaims::new()))
                .await,
            "invalid-payload",
            "unknown trusted publishing issuer",
        );
    }
}

// === issuer isolation ===

#[tokio::test]
async fn a_second_gitlab_instance_never_matches_the_first_ones_publisher() {
    let first = TestIssuer::start().await;
    let second = TestIssuer::start().await;
    let (first_url, second_url) = (first.url(), second.url());
    let issuers = vec![
        json!({ "url": first_url, "kind": "gitlab" }),
        json!({ "url": second_url, "kind": "gitlab" }),
    ];
    let publishers = vec![gitlab_publisher(
        &first_url,
        "ns",
        "proj",
        &["first-project"],
    )];
    let fx = exchange_trusting(first, issuers, publishers);

    let allowed = assert_minted_for(
        &fx,
        fx.mint(&gitlab_jwt(
            &fx,
            &fx.issuer,
            &first_url,
            GitLabClaims::new(),
        ))
        .await,
        "first-project",
    )
    .await;
    assert_eq!(allowed.claims["issuer"], first_url);

    // A genuine token of the second instance, same project path.
    assert_error(
        fx.mint(&gitlab_jwt(&fx, &second, &second_url, GitLabClaims::new()))
            .await,
        "invalid-publisher",
        &no_publisher(&format!(
            "Publisher with matching claims was not found; no publisher is registered for project 'ns/proj' with issuer '{second_url}'"
        )),
    );
    // The second instance claiming the first one's host in ci_config_ref_uri changes
    // nothing: the lookup is by the verified `iss`.
    let forged_host = GitLabClaims::new().ci_config_host(first_url.trim_start_matches("http://"));
    assert_eq!(
        code_of(
            fx.mint(&gitlab_jwt(&fx, &second, &second_url, forged_host))
                .await
        ),
        "invalid-publisher"
    );
}

#[tokio::test]
async fn a_gitlab_token_never_matches_a_github_publisher() {
    let github = TestIssuer::start().await;
    let gitlab = TestIssuer::start().await;
    let gitlab_url = gitlab.url();
    let issuers = vec![
        json!({ "url": github.url(), "kind": "github" }),
        json!({ "url": gitlab_url, "kind": "gitlab" }),
    ];
    let publishers = vec![github_declaration(&github.url(), &[PROJECT], "")];
    let fx = exchange_trusting(github, issuers, publishers);

    // A GitLab token for a project path equal to the GitHub repository.
    let claims = GitLabClaims::new().project_path("octo-org/sampleproject");
    assert_error(
        fx.mint(&gitlab_jwt(&fx, &gitlab, &gitlab_url, claims))
            .await,
        "invalid-publisher",
        &no_publisher(&format!(
            "Publisher with matching claims was not found; no publisher is registered for project 'octo-org/sampleproject' with issuer '{gitlab_url}'"
        )),
    );
    // A GitLab-signed token dressed in GitHub's claims is read with GitLab's rules.
    let dressed = github_jwt(&fx, &gitlab, &gitlab_url, GitHubClaims::new());
    assert_error(
        fx.mint(&dressed).await,
        "invalid-publisher",
        &no_publisher("Missing claim 'project_path'"),
    );
    // The GitHub publisher still works for its own issuer.
    let jwt = fx.github_jwt(GitHubClaims::new());
    assert_minted_for(&fx, fx.mint(&jwt).await, PROJECT).await;
}

#[tokio::test]
async fn a_disabled_issuer_is_not_enabled_and_others_of_its_kind_still_work() {
    let disabled = TestIssuer::start().await;
    let enabled = TestIssuer::start().await;
    let (disabled_url, enabled_url) = (disabled.url(), enabled.url());
    let issuers = vec![
        json!({ "url": disabled_url, "kind": "gitlab", "enabled": false }),
        json!({ "url": enabled_url, "kind": "gitlab" }),
    ];
    let publishers = vec![
        gitlab_publisher(&disabled_url, "ns", "proj", &["disabled-project"]),
        gitlab_publisher(&enabled_url, "ns", "proj", &["enabled-project"]),
    ];
    let fx = exchange_trusting(disabled, issuers, publishers);
    assert_error(
        fx.mint(&gitlab_jwt(
            &fx,
            &fx.issuer,
            &disabled_url,
            GitLabClaims::new(),
        ))
        .await,
        "not-enabled",
        "gitlab trusted publishing functionality not enabled",
    );
    // Refused before any key fetch.
    assert_eq!(fx.issuer.jwks_fetch_count(), 0);
    assert_minted_for(
        &fx,
        fx.mint(&gitlab_jwt(
            &fx,
            &enabled,
            &enabled_url,
            GitLabClaims::new(),
        ))
        .await,
        "enabled-project",
    )
    .await;
}

// === algorithms per issuer ===

#[tokio::test]
async fn es256_ps256_and_eddsa_issuers_exchange_when_configured() {
    let es256 = issuer_with(KeyAlgorithm::ES256).await;
    let ps256 = issuer_with(KeyAlgorithm::PS256).await;
    let eddsa = issuer_with(KeyAlgorithm::EdDSA).await;
    let rs256_only = TestIssuer::start().await;
    let issuers = vec![
        json!({ "url": es256.url(), "kind": "gitlab", "algorithms": ["ES256"] }),
        json!({ "url": ps256.url(), "kind": "github", "algorithms": ["PS256", "RS256"] }),
        json!({ "url": eddsa.url(), "kind": "github", "algorithms": ["EdDSA"] }),
        json!({ "url": rs256_only.url(), "kind": "github" }),
    ];
    let publishers = vec![
        gitlab_publisher(&es256.url(), "ns", "proj", &["es256-project"]),
        github_declaration(&ps256.url(), &["ps256-project"], ""),
        github_declaration(&eddsa.url(), &["eddsa-project"], ""),
        github_declaration(&rs256_only.url(), &["rs256-project"], ""),
    ];
    let fx = exchange_trusting(rs256_only, issuers, publishers);

    let cases = [
        (
            gitlab_jwt(&fx, &es256, &es256.url(), GitLabClaims::new()),
            "es256-project",
        ),
        (
            github_jwt(&fx, &ps256, &ps256.url(), GitHubClaims::new()),
            "ps256-project",
        ),
        (
            github_jwt(&fx, &eddsa, &eddsa.url(), GitHubClaims::new()),
            "eddsa-project",
        ),
        (fx.github_jwt(GitHubClaims::new()), "rs256-project"),
    ];
    for (jwt, project) in cases {
        let header = jwt.split('.').next().unwrap_or_default().to_owned();
        let allowed = assert_minted_for(&fx, fx.mint(&jwt).await, project).await;
        assert_eq!(allowed.projects, [project], "header {header}");
    }
}

#[tokio::test]
async fn a_token_signed_with_an_algorithm_the_issuer_does_not_allow_is_invalid() {
    // An ES256 issuer configured without `algorithms` (RS256 only).
    let es256 = issuer_with(KeyAlgorithm::ES256).await;
    let url = es256.url();
    let issuers = vec![json!({ "url": url, "kind": "github" })];
    let publishers = vec![github_declaration(&url, &[PROJECT], "")];
    let fx = exchange_trusting(es256, issuers, publishers);
    assert_error(
        fx.mint(&fx.github_jwt(GitHubClaims::new())).await,
        "invalid-token",
        INVALID_TOKEN,
    );
    // The header is refused before any key is fetched.
    assert_eq!(fx.issuer.jwks_fetch_count(), 0);
}

// === reusable workflows ===

/// The default publisher plus, optionally, one that trusts a shared reusable workflow.
async fn exchange_with_reusable(trusted: Option<&str>) -> MemoryExchange {
    let issuer = TestIssuer::start().await;
    let url = issuer.url();
    let mut publishers = vec![github_declaration(&url, &[PROJECT], "")];
    if let Some(workflow_repository) = trusted {
        publishers.push(with(
            github_declaration(&url, &["shared-release"], ""),
            json!({ "workflow_repository": workflow_repository, "workflow_filename": "publish.yml" }),
        ));
    }
    let issuers = vec![json!({ "url": url, "kind": "github" })];
    exchange_trusting(issuer, issuers, publishers)
}

/// Claims of `octo-org/sampleproject`'s release.yml calling `<from>`'s publish.yml.
fn calling_reusable(from: &str) -> GitHubClaims {
    GitHubClaims::new().job_workflow_ref(format!(
        "{from}/.github/workflows/publish.yml@refs/heads/main"
    ))
}

#[tokio::test]
async fn a_reusable_workflow_from_another_repository_needs_a_publisher_that_trusts_it() {
    let fx = exchange_with_reusable(None).await;
    let jwt = fx.github_jwt(calling_reusable("octo-org/shared-workflows"));
    assert_error(
        fx.mint(&jwt).await,
        "invalid-publisher",
        &no_publisher(
            "Publisher with matching claims was not found; the publisher for repository 'octo-org/sampleproject' expects workflow_filename 'release.yml' but the token's job_workflow_ref names 'publish.yml'; the token comes from the reusable workflow 'octo-org/shared-workflows/.github/workflows/publish.yml' called from 'octo-org/sampleproject', and no publisher trusts it: set workflow_repository = 'octo-org/shared-workflows' and workflow_filename = 'publish.yml' on the publisher to trust it",
        ),
    );
}

#[tokio::test]
async fn a_reusable_workflow_is_accepted_when_workflow_repository_names_it() {
    let fx = exchange_with_reusable(Some("octo-org/shared-workflows")).await;
    let jwt = fx.github_jwt(calling_reusable("octo-org/shared-workflows"));
    let allowed = assert_minted_for(&fx, fx.mint(&jwt).await, "shared-release").await;
    assert_eq!(allowed.projects, ["shared-release"]);
    assert_eq!(
        allowed.claims["job_workflow_ref"],
        "octo-org/shared-workflows/.github/workflows/publish.yml@refs/heads/main"
    );
    assert_eq!(
        allowed.claims["workflow_ref"],
        "octo-org/sampleproject/.github/workflows/release.yml@refs/heads/main"
    );

    // The same file name from a repository nobody trusts.
    let jwt = fx.github_jwt(calling_reusable("evil-org/shared-workflows"));
    assert_error(
        fx.mint(&jwt).await,
        "invalid-publisher",
        &no_publisher(
            "The job_workflow_ref claim does not match, expecting the reusable workflow 'octo-org/shared-workflows/.github/workflows/publish.yml' at any ref, got 'evil-org/shared-workflows/.github/workflows/publish.yml@refs/heads/main'; 2 publishers for repository 'octo-org/sampleproject' did not match: #1 (publish.yml from octo-org/shared-workflows) expects workflow_repository 'octo-org/shared-workflows' but the token's job_workflow_ref names 'evil-org/shared-workflows'; #2 (release.yml) expects workflow_filename 'release.yml' but the token's job_workflow_ref names 'publish.yml'; the token comes from the reusable workflow 'evil-org/shared-workflows/.github/workflows/publish.yml' called from 'octo-org/sampleproject', and no publisher trusts it: set workflow_repository = 'evil-org/shared-workflows' and workflow_filename = 'publish.yml' on the publisher to trust it",
        ),
    );
}

// === GitLab specifics ===

#[tokio::test]
async fn gitlab_namespace_and_project_ids_pin_the_publisher() {
    let gitlab = TestIssuer::start().await;
    let url = gitlab.url();
    let issuers = vec![json!({ "url": url, "kind": "gitlab" })];
    let publishers = vec![with(
        gitlab_publisher(&url, "ns", "proj", &["pinned-project"]),
        json!({ "namespace_id": "72", "project_id": 4242 }),
    )];
    let fx = exchange_trusting(gitlab, issuers, publishers);

    let jwt = gitlab_jwt(&fx, &fx.issuer, &url, GitLabClaims::new().ids("4242", "72"));
    let allowed = assert_minted_for(&fx, fx.mint(&jwt).await, "pinned-project").await;
    assert_eq!(
        (
            allowed.claims["namespace_id"].as_str(),
            allowed.claims["project_id"].as_str()
        ),
        ("72", "4242")
    );

    // The path was deleted and re-created by someone else: new ids.
    let jwt = gitlab_jwt(&fx, &fx.issuer, &url, GitLabClaims::new().ids("5555", "72"));
    assert_error(
        fx.mint(&jwt).await,
        "invalid-publisher",
        &no_publisher(
            "Publisher with matching claims was not found; the publisher for project 'ns/proj' expects project_id '4242' but the token's project_id is '5555' (ids never change: this path now belongs to another namespace or project, or the configured id is wrong)",
        ),
    );
    let jwt = gitlab_jwt(&fx, &fx.issuer, &url, GitLabClaims::new().ids("4242", "73"));
    assert_error(
        fx.mint(&jwt).await,
        "invalid-publisher",
        &no_publisher(
            "Publisher with matching claims was not found; the publisher for project 'ns/proj' expects namespace_id '72' but the token's namespace_id is '73' (ids never change: this path now belongs to another namespace or project, or the configured id is wrong)",
        ),
    );
}

#[tokio::test]
async fn a_mixed_case_gitlab_publisher_accepts_the_lowercase_token() {
    // PyPI #18797: a publisher stored as coBib/cobib fails PyPI's exact comparison
    // although GitLab paths are case-insensitive.
    let keys = TestIssuer::start().await;
    let issuers = vec![public_issuer(GITLAB_ISS, "gitlab", &keys)];
    let publishers = vec![gitlab_publisher("", "coBib", "CoBib", &["cobib"])];
    let fx = exchange_trusting(keys, issuers, publishers);
    let jwt = gitlab_jwt(
        &fx,
        &fx.issuer,
        GITLAB_ISS,
        GitLabClaims::new().project_path("cobib/cobib"),
    );
    let allowed = assert_minted_for(&fx, fx.mint(&jwt).await, "cobib").await;
    assert_eq!(
        allowed.claims["ci_config_ref_uri"],
        "gitlab.com/cobib/cobib//.gitlab-ci.yml@refs/heads/main"
    );
}

// === replay keys per issuer ===

#[tokio::test]
async fn the_same_jti_from_two_issuers_is_not_a_replay_but_the_same_jwt_is() {
    let first = TestIssuer::start().await;
    let second = TestIssuer::start().await;
    let (first_url, second_url) = (first.url(), second.url());
    let issuers = vec![
        json!({ "url": first_url, "kind": "github" }),
        json!({ "url": second_url, "kind": "github" }),
    ];
    let publishers = vec![
        github_declaration(&first_url, &["first-project"], ""),
        github_declaration(&second_url, &["second-project"], ""),
    ];
    let fx = exchange_trusting(first, issuers, publishers);

    let from_first = github_jwt(
        &fx,
        &fx.issuer,
        &first_url,
        GitHubClaims::new().jti("shared-jti"),
    );
    let from_second = github_jwt(
        &fx,
        &second,
        &second_url,
        GitHubClaims::new().jti("shared-jti"),
    );
    assert_minted_for(&fx, fx.mint(&from_first).await, "first-project").await;
    assert_minted_for(&fx, fx.mint(&from_second).await, "second-project").await;

    for jwt in [
        from_first,
        from_second,
        // A different JWT of the first issuer reusing its jti is a replay too.
        github_jwt(
            &fx,
            &fx.issuer,
            &first_url,
            GitHubClaims::new().jti("shared-jti").sha("0".repeat(40)),
        ),
    ] {
        assert_error(
            fx.mint(&jwt).await,
            "invalid-reuse-token",
            "invalid token: already used",
        );
    }
}
