//! TokenService.VerifyToken: allowed with the publisher, provenance and scope; denied
//! (an OK response, allowed = false) with PyPI's reason otherwise.

use tonic::Code;
use trustmint_exchange::Clock as _;
use trustmint_grpc::pb;
use trustmint_testkit::claims::GitHubClaims;
use trustmint_testkit::memory_exchange::{ExchangeBuilder, PROJECT};

use crate::calls::{OWNER, REPOSITORY, SHA, WORKFLOW};
use crate::declared::declaring;
use crate::support::{TestServer, assert_invalid_argument};
use trustmint_testkit::token_surgery::{attenuate, tamper};

/// A denial: allowed = false, the reason, and nothing else.
#[track_caller]
fn assert_denied(response: &pb::VerifyTokenResponse, reason: &str) {
    assert_eq!(
        response,
        &pb::VerifyTokenResponse {
            allowed: false,
            reason: reason.to_owned(),
            ..pb::VerifyTokenResponse::default()
        }
    );
}

#[tokio::test]
async fn allowed_carries_publisher_claims_expiry_and_scope() {
    let server = TestServer::start().await;
    let grpc = server.anonymous();
    let minted = grpc
        .mint_ok(&server.fx.github_jwt(GitHubClaims::new()))
        .await;

    let verified = grpc.verify(&minted.token, PROJECT).await;
    assert!(verified.allowed, "{verified:?}");
    assert_eq!(verified.reason, "");
    assert_eq!(verified.publisher, minted.publisher);
    assert_eq!(verified.expires_at, minted.expires_at);
    assert_eq!(verified.projects, vec![PROJECT.to_owned()]);
    assert_eq!(verified.token_id, minted.token_id);
    assert!(!verified.attenuated);
    let claim = |key: &str| verified.claims.get(key).map(String::as_str);
    let repository = format!("{OWNER}/{REPOSITORY}");
    assert_eq!(claim("repository"), Some(repository.as_str()));
    assert_eq!(claim("workflow"), Some(WORKFLOW));
    assert_eq!(claim("ref"), Some("refs/heads/main"));
    assert_eq!(claim("sha"), Some(SHA));
    assert_eq!(
        claim("publisher_url"),
        Some(format!("{}/{repository}/commit/{SHA}", server.fx.issuer.url()).as_str())
    );
    assert_eq!(claim("token_id"), Some(minted.token_id.as_str()));
    // Everything stored at mint time comes back, plus the token id.
    let mut expected = minted.claims.clone();
    expected.insert("token_id".to_owned(), minted.token_id.clone());
    assert_eq!(verified.claims, expected);
}

#[tokio::test]
async fn environment_claim_comes_back_when_the_job_had_one() {
    let server = declaring(&[PROJECT], "pypi").await;
    let grpc = server.anonymous();
    let minted = grpc
        .mint_ok(
            &server
                .fx
                .github_jwt(GitHubClaims::new().environment("pypi")),
        )
        .await;
    let verified = grpc.verify(&minted.token, PROJECT).await;
    assert!(verified.allowed, "{verified:?}");
    assert_eq!(
        verified.claims.get("environment").map(String::as_str),
        Some("pypi")
    );
    match verified.publisher.and_then(|p| p.kind) {
        Some(pb::publisher::Kind::Github(github)) => assert_eq!(github.environment, "pypi"),
        other => panic!("expected a GitHub publisher, got {other:?}"),
    }
}

#[tokio::test]
async fn another_project_is_denied_with_pypis_text() {
    let server = TestServer::start().await;
    let grpc = server.anonymous();
    let minted = grpc
        .mint_ok(&server.fx.github_jwt(GitHubClaims::new()))
        .await;
    assert_denied(
        &grpc.verify(&minted.token, "otherproject").await,
        "project-scoped token is not valid for project: 'otherproject'",
    );
}

#[tokio::test]
async fn a_changed_signature_does_not_match() {
    let server = TestServer::start().await;
    let grpc = server.anonymous();
    let minted = grpc
        .mint_ok(&server.fx.github_jwt(GitHubClaims::new()))
        .await;
    let forged = tamper(&minted.token, |macaroon| macaroon.signature[31] ^= 0x01);
    assert_denied(
        &grpc.verify(&forged, PROJECT).await,
        "signatures do not match",
    );
}

#[tokio::test]
async fn an_earlier_expiry_in_the_past_is_expired() {
    let server = TestServer::start().await;
    let grpc = server.anonymous();
    let minted = grpc
        .mint_ok(&server.fx.github_jwt(GitHubClaims::new()))
        .await;
    let t = server.fx.clock.now();
    let expired = attenuate(&minted.token, &[&format!("[0,{},{}]", t - 1, t - 100)]);
    assert_denied(&grpc.verify(&expired, PROJECT).await, "token is expired");
}

#[tokio::test]
async fn malformed_tokens_are_denied_and_bad_projects_are_invalid_arguments() {
    let server = TestServer::start().await;
    let grpc = server.anonymous();
    let cases = [
        ("", "malformed token: missing prefix 'pypi-'"),
        ("ghp_notours", "malformed token: missing prefix 'pypi-'"),
        ("pypi-", "malformed token: empty"),
        ("pypi-!!!", "malformed token: not base64"),
    ];
    for (token, reason) in cases {
        assert_denied(&grpc.verify(token, PROJECT).await, reason);
    }
    let minted = grpc
        .mint_ok(&server.fx.github_jwt(GitHubClaims::new()))
        .await;
    let status = grpc
        .try_verify(&minted.token, "")
        .await
        .expect_err("empty project");
    assert_invalid_argument(&status, "project", "project name is empty");
    let status = grpc
        .try_verify(&minted.token, "-bad-")
        .await
        .expect_err("invalid project");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_invalid_argument(
        &status,
        "project",
        "project name '-bad-' is not valid: use ASCII letters, digits, '.', '_' and '-', starting and ending with a letter or digit",
    );
}

#[tokio::test]
async fn project_names_are_compared_pep_503_normalised() {
    let server = declaring(&[PROJECT, "Sample_Project"], "").await;
    let grpc = server.anonymous();
    let minted = grpc
        .mint_ok(&server.fx.github_jwt(GitHubClaims::new()))
        .await;
    assert_eq!(
        minted.projects,
        vec!["sample-project".to_owned(), PROJECT.to_owned()]
    );
    // Spellings of the same two names, as an index might pass them along.
    for (asked, normalised) in [
        ("SampleProject", PROJECT),
        ("SAMPLEPROJECT", PROJECT),
        ("Sample_Project", "sample-project"),
        ("sample.project", "sample-project"),
        ("SAMPLE__-.project", "sample-project"),
    ] {
        let verified = grpc.verify(&minted.token, asked).await;
        assert!(verified.allowed, "{asked}: {verified:?}");
        assert_eq!(
            verified.projects,
            vec!["sample-project".to_owned(), PROJECT.to_owned()],
            "{asked} → {normalised}"
        );
    }
    // '-' separates words: "sample-project" is not "sampleproject", and the reason
    // names the normalised form.
    let narrowed = attenuate(&minted.token, &[r#"[1,["sampleproject"]]"#]);
    assert_denied(
        &grpc.verify(&narrowed, "Sample_Project").await,
        "project-scoped token is not valid for project: 'sample-project'",
    );
}

#[tokio::test]
async fn not_before_gets_the_configured_skew_allowance() {
    // A token whose not_before lies 3 s ahead: a verifying node running behind the
    // minting node sees exactly this.
    let lenient = TestServer::start().await;
    let strict = TestServer::with(
        ExchangeBuilder::start()
            .await
            .settings(|settings| settings.not_before_skew_secs = 0),
        None,
    )
    .await;
    for (server, expected_reason) in [(&lenient, None), (&strict, Some("token is expired"))] {
        let grpc = server.anonymous();
        let minted = grpc
            .mint_ok(&server.fx.github_jwt(GitHubClaims::new()))
            .await;
        let ahead = attenuate(
            &minted.token,
            &[&format!(
                "[0,{},{}]",
                minted.expires_at,
                server.fx.clock.now() + 3
            )],
        );
        let verified = grpc.verify(&ahead, PROJECT).await;
        match expected_reason {
            None => {
                assert!(verified.allowed, "default skew 5 s: {verified:?}");
                assert!(verified.attenuated);
            }
            Some(reason) => assert_denied(&verified, reason),
        }
    }
}
