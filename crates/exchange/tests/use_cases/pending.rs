//! Pending publishers: registered for a project the index has not created yet, they
//! mint for it (and say so) until they expire; the index confirms the one whose upload
//! created the project, and every other pending publisher for that name is stale.

use trustmint_publishers::PENDING_PUBLISHER_TTL_SECS;
use trustmint_testkit::claims::GitHubClaims;
use trustmint_testkit::memory_exchange::ExchangeBuilder;

use crate::support::{assert_allowed, assert_denied, assert_error, code_of, github_publisher};

const NEW_PROJECT: &str = "brand-new-project";

#[tokio::test]
async fn a_pending_publisher_mints_for_its_new_project_until_confirmed() {
    let fx = ExchangeBuilder::start().await.publishers(vec![]).build();
    let pending = fx
        .exchange
        .create_publisher(github_publisher(
            &fx.issuer.url(),
            "sampleproject",
            &[NEW_PROJECT],
            true,
        ))
        .await
        .expect("created")
        .publisher;
    let minted = fx.mint_default().await;
    assert_eq!(crate::support::names(&minted.projects), [NEW_PROJECT]);
    assert_eq!(minted.publisher().map(|p| &p.id), Some(&pending.id));
    assert_eq!(minted.publisher().map(|p| p.pending), Some(true));
    let token = minted.token.expose_secret();
    assert!(
        assert_allowed(fx.verify(token, NEW_PROJECT).await)
            .publisher
            .pending
    );

    let confirmed = fx
        .exchange
        .confirm_publisher(pending.id.as_str())
        .await
        .expect("confirmed");
    assert!(!confirmed.already_confirmed);
    assert_eq!(confirmed.publisher.id, pending.id);
    assert!(!confirmed.publisher.pending);
    assert_eq!(
        confirmed.publisher.expires_at, None,
        "confirmed never expires"
    );
    let again = fx
        .exchange
        .confirm_publisher(pending.id.as_str())
        .await
        .expect("again");
    assert!(again.already_confirmed);
    assert_eq!(again.publisher, confirmed.publisher);

    // The live token keeps working and now reports a normal publisher.
    assert!(
        !assert_allowed(fx.verify(token, NEW_PROJECT).await)
            .publisher
            .pending
    );
    let minted = fx.mint_default().await;
    assert_eq!(minted.publisher().map(|p| p.pending), Some(false));
}

#[tokio::test]
async fn concurrent_confirmations_have_exactly_one_winner() {
    let fx = ExchangeBuilder::start().await.publishers(vec![]).build();
    let pending = fx
        .exchange
        .create_publisher(github_publisher(
            &fx.issuer.url(),
            "sampleproject",
            &[NEW_PROJECT],
            true,
        ))
        .await
        .expect("created")
        .publisher;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (exchange, id) = (fx.exchange.clone(), pending.id.as_str().to_owned());
        tasks.spawn(async move { exchange.confirm_publisher(&id).await });
    }
    let results = tasks.join_all().await;
    let winners = results
        .iter()
        .map(|result| result.as_ref().expect("confirm answers"))
        .filter(|confirmed| !confirmed.already_confirmed)
        .count();
    assert_eq!(winners, 1, "{results:?}");
}

#[tokio::test]
async fn a_pending_publisher_whose_project_exists_is_invalid_pending_publisher() {
    let fx = ExchangeBuilder::start().await.publishers(vec![]).build();
    let url = fx.issuer.url();
    // The project exists: another repository's normal publisher lists it.
    fx.exchange
        .create_publisher(github_publisher(&url, "other-repo", &[NEW_PROJECT], false))
        .await
        .expect("normal publisher");
    fx.exchange
        .create_publisher(github_publisher(
            &url,
            "sampleproject",
            &[NEW_PROJECT],
            true,
        ))
        .await
        .expect("pending publisher");
    let jwt = fx.github_jwt(GitHubClaims::new());
    assert_error(
        fx.mint(&jwt).await,
        "invalid-pending-publisher",
        "valid token, but project already exists",
    );
    // Not burnt: the same JWT gets the same answer, not invalid-reuse-token.
    assert_eq!(code_of(fx.mint(&jwt).await), "invalid-pending-publisher");
}

#[tokio::test]
async fn when_one_pending_publisher_is_confirmed_the_others_stop() {
    let fx = ExchangeBuilder::start().await.publishers(vec![]).build();
    let url = fx.issuer.url();
    let a = fx
        .exchange
        .create_publisher(github_publisher(
            &url,
            "sampleproject",
            &[NEW_PROJECT],
            true,
        ))
        .await
        .expect("pending A")
        .publisher;
    let b = fx
        .exchange
        .create_publisher(github_publisher(&url, "other-repo", &[NEW_PROJECT], true))
        .await
        .expect("pending B")
        .publisher;
    let b_claims = || GitHubClaims::new().repository("octo-org/other-repo");
    let token_a = fx.mint_default().await;
    let token_b = fx.mint(&fx.github_jwt(b_claims())).await.expect("B mints");
    assert_eq!(token_a.publisher().map(|p| &p.id), Some(&a.id));
    assert_eq!(token_b.publisher().map(|p| &p.id), Some(&b.id));

    fx.exchange
        .confirm_publisher(b.id.as_str())
        .await
        .expect("confirm B");
    assert_denied(
        fx.verify(token_a.token.expose_secret(), NEW_PROJECT).await,
        &format!("pending publisher is no longer valid: project '{NEW_PROJECT}' already exists"),
    );
    assert!(
        !assert_allowed(fx.verify(token_b.token.expose_secret(), NEW_PROJECT).await)
            .publisher
            .pending
    );
    assert_error(
        fx.mint(&fx.github_jwt(GitHubClaims::new())).await,
        "invalid-pending-publisher",
        "valid token, but project already exists",
    );
    fx.mint(&fx.github_jwt(b_claims()))
        .await
        .expect("B still mints");
}

#[tokio::test]
async fn confirming_an_unknown_publisher_is_not_found() {
    let fx = ExchangeBuilder::start().await.build();
    assert_error(
        fx.exchange.confirm_publisher("no-such-publisher").await,
        "not-found",
        "no pending publisher with id 'no-such-publisher' (it may have expired)",
    );
}

#[tokio::test]
async fn an_expired_pending_publisher_no_longer_matches() {
    let fx = ExchangeBuilder::start().await.publishers(vec![]).build();
    fx.exchange
        .create_publisher(github_publisher(
            &fx.issuer.url(),
            "sampleproject",
            &[NEW_PROJECT],
            true,
        ))
        .await
        .expect("pending publisher");
    fx.clock.advance(PENDING_PUBLISHER_TTL_SECS - 1);
    fx.mint_default().await;
    fx.clock.advance(1);
    // JWTs are signed at the exchange's clock, so only the publisher has expired.
    let jwt = fx.github_jwt(GitHubClaims::new());
    assert_eq!(code_of(fx.mint(&jwt).await), "invalid-publisher");
}
