//! Publisher management: create (validated with the config rules, idempotent), get,
//! list, delete; config-declared publishers are read-only; deleting a publisher stops
//! its live tokens.

use serde_json::json;
use trustmint_exchange::Clock as _;
use trustmint_publishers::{Origin, PENDING_PUBLISHER_TTL_SECS};
use trustmint_testkit::claims::GitHubClaims;
use trustmint_testkit::memory_exchange::{ExchangeBuilder, PROJECT};

use crate::support::{
    assert_allowed, assert_denied, assert_error, github_publisher, github_spec,
    new_publisher_with_spec,
};

/// PyPI's words for an identity declared in the config file.
fn declared_text(id: &str) -> String {
    format!(
        "publisher {id} is declared in the configuration file and cannot be changed through the API; edit the [[publishers]] entry instead"
    )
}

#[tokio::test]
async fn create_get_list_delete() {
    let fx = ExchangeBuilder::start()
        .await
        .clock_at(1_800_000_000)
        .build();
    let url = fx.issuer.url();
    let created = fx
        .exchange
        .create_publisher(github_publisher(
            &url,
            "other-repo",
            &["New_Project"],
            false,
        ))
        .await
        .expect("created");
    assert!(created.created);
    let publisher = created.publisher;
    assert_eq!(publisher.projects.len(), 1);
    assert_eq!(publisher.projects[0].as_str(), "new-project");
    assert!(!publisher.pending);
    assert_eq!(publisher.origin, Origin::Api);
    assert_eq!(publisher.created_at, 1_800_000_000);
    assert_eq!(publisher.expires_at, None);

    let id = publisher.id.as_str().to_owned();
    assert_eq!(fx.exchange.get_publisher(&id).await, Ok(publisher.clone()));
    assert_eq!(
        fx.exchange.list_publishers("new.project").await,
        Ok(vec![publisher.clone()])
    );
    let declared = fx.exchange.list_publishers(PROJECT).await.expect("list");
    assert_eq!(declared.len(), 1);
    assert_eq!(declared[0].origin, Origin::Config);
    assert_eq!(
        fx.exchange.list_publishers("nobody-publishes-this").await,
        Ok(vec![])
    );

    assert_eq!(
        fx.exchange.delete_publisher(&id).await,
        Ok(Some(publisher.clone()))
    );
    assert_error(
        fx.exchange.get_publisher(&id).await,
        "not-found",
        &format!("no publisher with id '{id}'"),
    );
    assert_eq!(fx.exchange.list_publishers("new-project").await, Ok(vec![]));
    assert_eq!(
        fx.exchange.delete_publisher(&id).await,
        Ok(None),
        "idempotent"
    );
}

#[tokio::test]
async fn creating_an_identical_publisher_returns_the_existing_one() {
    let fx = ExchangeBuilder::start().await.build();
    let url = fx.issuer.url();
    let create = |projects: &'static [&'static str]| {
        fx.exchange
            .create_publisher(github_publisher(&url, "other-repo", projects, false))
    };
    let first = create(&["alpha"]).await.expect("created");
    let again = create(&["alpha"]).await.expect("again");
    assert!(!again.created);
    assert_eq!(again.publisher, first.publisher);
    let widened = create(&["beta"]).await.expect("widened");
    assert_eq!(widened.publisher.id, first.publisher.id);
    let projects: Vec<&str> = widened
        .publisher
        .projects
        .iter()
        .map(|p| p.as_str())
        .collect();
    assert_eq!(projects, ["alpha", "beta"]);
    // The declared identity: the declared publisher comes back, nothing is stored.
    let declared = fx
        .exchange
        .create_publisher(github_publisher(&url, "sampleproject", &[PROJECT], false))
        .await
        .expect("declared identity");
    assert_eq!(declared.publisher.origin, Origin::Config);
    assert_eq!(
        fx.exchange.list_publishers(PROJECT).await,
        Ok(vec![declared.publisher])
    );
}

#[tokio::test]
async fn invalid_input_is_invalid_argument_naming_the_field() {
    let fx = ExchangeBuilder::start().await.build();
    let url = fx.issuer.url();
    let with = |key: &str, value: &str| {
        let mut spec = github_spec(&url, "other-repo");
        spec[key] = json!(value);
        new_publisher_with_spec(spec, &["alpha"], false)
    };
    let cases = vec![
        (
            with("workflow_filename", "release"),
            "workflow_filename: must end in '.yml' or '.yaml', e.g. 'release.yml'",
        ),
        (
            with("repository_owner", ""),
            "repository_owner: is required",
        ),
        (
            with("repository_owner_id", "0123"),
            "repository_owner_id: must be a positive whole number without leading zeros, e.g. '647025'",
        ),
        (
            with("issuer", "http://gitlab.example.com"),
            "issuer: must use https (http is accepted only for localhost, 127.0.0.1 and [::1])",
        ),
        (
            with("issuer", "https://ghe.example.com/_services/token"),
            "issuer: no [[issuers]] entry of kind github serves 'https://ghe.example.com/_services/token', so this publisher could never match",
        ),
        (
            new_publisher_with_spec(
                json!({ "kind": "google", "email": "release@example.iam.gserviceaccount.com" }),
                &["alpha"],
                false,
            ),
            "kind: google publishers trust only 'https://accounts.google.com', but no [[issuers]] entry of kind google serves 'https://accounts.google.com'; add an [[issuers]] entry with url = 'https://accounts.google.com' and kind = 'google'",
        ),
        (
            github_publisher(&url, "other-repo", &["-bad-"], false),
            "projects: project name '-bad-' is not valid: use ASCII letters, digits, '.', '_' and '-', starting and ending with a letter or digit",
        ),
        (
            github_publisher(&url, "other-repo", &[], false),
            "projects: at least one project is required",
        ),
        (
            github_publisher(&url, "other-repo", &["alpha", "beta"], true),
            "projects: a pending publisher names exactly one project (the one it will create)",
        ),
    ];
    for (request, description) in cases {
        assert_error(
            fx.exchange.create_publisher(request).await,
            "invalid-argument",
            description,
        );
    }
    // A name no ecosystem accepts ('-bad-' is a valid npm name, so it is looked up as one).
    assert_error(
        fx.exchange.list_publishers("bad name").await,
        "invalid-argument",
        "project: project name 'bad name' is not valid: use ASCII letters, digits, '.', '_' and '-', starting and ending with a letter or digit",
    );
    // Nothing was stored by the refused requests.
    assert_eq!(fx.exchange.list_publishers("alpha").await, Ok(vec![]));
}

#[tokio::test]
async fn a_declared_publisher_cannot_be_deleted_or_gain_projects() {
    let fx = ExchangeBuilder::start().await.build();
    let declared = fx
        .exchange
        .list_publishers(PROJECT)
        .await
        .expect("list")
        .remove(0);
    let id = declared.id.as_str().to_owned();
    assert_error(
        fx.exchange.delete_publisher(&id).await,
        "failed-precondition",
        &declared_text(&id),
    );
    assert_eq!(fx.exchange.get_publisher(&id).await, Ok(declared));
    assert_error(
        fx.exchange
            .create_publisher(github_publisher(
                &fx.issuer.url(),
                "sampleproject",
                &[PROJECT, "extra"],
                false,
            ))
            .await,
        "failed-precondition",
        &declared_text(&id),
    );
    assert_eq!(fx.exchange.list_publishers("extra").await, Ok(vec![]));
}

#[tokio::test]
async fn deleting_a_publisher_stops_its_live_tokens_at_once() {
    let fx = ExchangeBuilder::start().await.publishers(vec![]).build();
    let created = fx
        .exchange
        .create_publisher(github_publisher(
            &fx.issuer.url(),
            "sampleproject",
            &[PROJECT],
            false,
        ))
        .await
        .expect("created");
    let minted = fx.mint_default().await;
    let token = minted.token.expose_secret();
    let allowed = assert_allowed(fx.verify(token, PROJECT).await);
    assert_eq!(allowed.publisher.id, created.publisher.id);
    fx.exchange
        .delete_publisher(created.publisher.id.as_str())
        .await
        .expect("deleted");
    assert_denied(
        fx.verify(token, PROJECT).await,
        "the trusted publisher this token was minted for no longer exists",
    );
    assert_eq!(
        crate::support::code_of(fx.mint(&fx.github_jwt(GitHubClaims::new())).await),
        "invalid-publisher"
    );
}

#[tokio::test]
async fn a_pending_publisher_expires_a_fixed_time_after_creation() {
    let fx = ExchangeBuilder::start().await.publishers(vec![]).build();
    let created = fx
        .exchange
        .create_publisher(github_publisher(
            &fx.issuer.url(),
            "sampleproject",
            &["new-one"],
            true,
        ))
        .await
        .expect("created");
    assert!(created.publisher.pending);
    assert_eq!(
        created.publisher.expires_at,
        Some(fx.clock.now() + PENDING_PUBLISHER_TTL_SECS)
    );
}
