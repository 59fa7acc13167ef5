//! Attenuation over VerifyToken: a holder appends caveats the way pymacaroons does (no
//! key needed) and gets a token that verifies only within the narrower scope. Removing
//! or reordering caveats breaks the HMAC chain; a caveat trustmint does not understand
//! denies.

use trustmint_exchange::Clock as _;
use trustmint_grpc::pb;
use trustmint_testkit::claims::GitHubClaims;
use trustmint_testkit::memory_exchange::PROJECT;
use trustmint_tokens::RawCaveat;

use crate::declared::declaring;
use crate::support::TestServer;
use trustmint_testkit::token_surgery::{attenuate, tamper};

const OTHER: &str = "otherproject";

#[track_caller]
fn assert_reason(response: &pb::VerifyTokenResponse, reason: &str) {
    assert!(!response.allowed, "{response:?}");
    assert_eq!(response.reason, reason);
}

#[tokio::test]
async fn a_narrower_project_list_verifies_only_for_those_projects() {
    let server = declaring(&[PROJECT, OTHER], "").await;
    let grpc = server.anonymous();
    let minted = grpc
        .mint_ok(&server.fx.github_jwt(GitHubClaims::new()))
        .await;
    for project in [PROJECT, OTHER] {
        assert!(
            grpc.verify(&minted.token, project).await.allowed,
            "{project}"
        );
    }

    let narrowed = attenuate(&minted.token, &[r#"[1,["otherproject"]]"#]);
    let verified = grpc.verify(&narrowed, OTHER).await;
    assert!(verified.allowed, "{verified:?}");
    assert!(verified.attenuated);
    assert_eq!(verified.projects, vec![OTHER.to_owned()]);
    assert_eq!(verified.token_id, minted.token_id);
    assert_reason(
        &grpc.verify(&narrowed, PROJECT).await,
        "project-scoped token is not valid for project: 'sampleproject'",
    );
    // Attenuation cannot widen: a caveat naming a project the token never had adds
    // nothing, because every ProjectName caveat must hold.
    let widened = attenuate(&minted.token, &[r#"[1,["sampleproject","evil"]]"#]);
    assert_reason(
        &grpc.verify(&widened, "evil").await,
        "project-scoped token is not valid for project: 'evil'",
    );
}

#[tokio::test]
async fn an_earlier_expiry_shortens_the_token() {
    let server = TestServer::start().await;
    let grpc = server.anonymous();
    let minted = grpc
        .mint_ok(&server.fx.github_jwt(GitHubClaims::new()))
        .await;
    let t = server.fx.clock.now();
    let short = attenuate(&minted.token, &[&format!("[0,{},{}]", t + 60, t)]);
    let verified = grpc.verify(&short, PROJECT).await;
    assert!(verified.allowed, "{verified:?}");
    assert_eq!(verified.expires_at, t + 60);
    assert!(verified.attenuated);
    // A later expiry cannot extend it: the minted caveat still holds the earlier one.
    let long = attenuate(
        &minted.token,
        &[&format!("[0,{},{}]", minted.expires_at + 3600, t)],
    );
    assert_eq!(
        grpc.verify(&long, PROJECT).await.expires_at,
        minted.expires_at
    );
}

#[tokio::test]
async fn removing_or_reordering_caveats_breaks_the_signature() {
    let server = TestServer::start().await;
    let grpc = server.anonymous();
    let minted = grpc
        .mint_ok(&server.fx.github_jwt(GitHubClaims::new()))
        .await;
    let narrowed = attenuate(&minted.token, &[r#"[1,["otherproject"]]"#]);

    let cases: Vec<(&str, String)> = vec![
        (
            "the appended caveat removed",
            tamper(&narrowed, |m| {
                m.caveats.pop();
            }),
        ),
        (
            "the minted project caveat removed",
            tamper(&minted.token, |m| {
                m.caveats.remove(1);
            }),
        ),
        (
            "the minted expiry removed",
            tamper(&minted.token, |m| {
                m.caveats.remove(0);
            }),
        ),
        (
            "minted caveats swapped",
            tamper(&minted.token, |m| m.caveats.swap(0, 1)),
        ),
        (
            "appended caveat moved to the front",
            tamper(&narrowed, |m| m.caveats.rotate_right(1)),
        ),
        (
            "a caveat rewritten",
            tamper(&minted.token, |m| {
                m.caveats[1] = RawCaveat::first_party(&br#"[1,["evil"]]"#[..]);
            }),
        ),
    ];
    for (name, token) in cases {
        let verified = grpc.verify(&token, PROJECT).await;
        assert_reason(&verified, "signatures do not match");
        assert!(verified.publisher.is_none(), "{name}");
    }
}

#[tokio::test]
async fn a_caveat_trustmint_does_not_understand_denies() {
    let server = TestServer::start().await;
    let grpc = server.anonymous();
    let minted = grpc
        .mint_ok(&server.fx.github_jwt(GitHubClaims::new()))
        .await;
    for (predicate, reason) in [
        (r#"[9,"anything"]"#, "caveat has unknown tag: 9"),
        ("account = alice", "caveat is not valid JSON"),
        (
            r#"{"version":1,"permissions":"user"}"#,
            "caveat must be an array",
        ),
        (
            r#"[2,["4a6c7d3e"]]"#,
            "token with project ID restriction cannot be verified by this service",
        ),
        (
            r#"[3,"user-1"]"#,
            "token with user restriction without a user",
        ),
    ] {
        assert_reason(
            &grpc
                .verify(&attenuate(&minted.token, &[predicate]), PROJECT)
                .await,
            reason,
        );
    }
}
