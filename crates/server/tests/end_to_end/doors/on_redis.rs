//! The doors on standalone Redis, where an exchange is one commit call (rate count,
//! replay claim, token record and audit entry together): the door's ecosystem, its
//! project narrowing and its `door` audit field go through that commit too.

use serde_json::json;
use trustmint_testkit::claims::GitHubClaims;

use super::{CRATE, CRATES_AUDIENCE, NPM_AUDIENCE, NPM_PACKAGE, all_doors};
use crate::observability::audit_stream::{
    LOCAL_REDIS_URL, delete_prefix, local_redis, read_events, unique_prefix,
};
use crate::support::spawn_app_with;

#[tokio::test]
async fn door_exchanges_commit_their_ecosystem_and_door() {
    let mut redis = local_redis().await;
    let prefix = unique_prefix();
    let key_prefix = prefix.clone();
    let app = spawn_app_with(move |settings, issuer| {
        all_doors(settings, issuer);
        settings.store.backend = trustmint_store::Backend::Redis;
        settings.store.redis_url = LOCAL_REDIS_URL.to_owned();
        settings.store.key_prefix = key_prefix;
    })
    .await;

    let jwt = app.jwt_for(GitHubClaims::new(), CRATES_AUDIENCE);
    let (status, body) = super::crates_exchange(&app, json!({ "jwt": jwt }).to_string()).await;
    assert_eq!(status, 200, "{body}");
    let crate_token = body["token"].as_str().expect("a string").to_owned();
    assert!(crate_token.starts_with("cio_tp_"), "{crate_token}");
    assert_eq!(
        app.verify_in(&crate_token, CRATE, "crates").await,
        (true, String::new())
    );
    assert_eq!(
        app.verify_in(&crate_token, "sampleproject", "pypi").await,
        (
            false,
            "token was minted for crates packages, not pypi".to_owned()
        )
    );

    // A fresh JWT (another jti) for npm: the token covers exactly the package asked for.
    let jwt = app.jwt_for(GitHubClaims::new(), NPM_AUDIENCE);
    let (status, body) = super::npm_exchange(&app, "@octo-org%2fsampleproject", Some(&jwt)).await;
    assert_eq!(status, 201, "{body}");
    let npm_token = body["token"].as_str().expect("a string").to_owned();
    assert_eq!(
        app.verify_in(&npm_token, NPM_PACKAGE, "npm").await,
        (true, String::new())
    );
    // The same JWT again is a replay, refused by the commit's replay claim.
    let (status, _) = super::npm_exchange(&app, "@octo-org%2fsampleproject", Some(&jwt)).await;
    assert_eq!(status, 403);

    let events = read_events(&mut redis, &prefix).await;
    delete_prefix(&mut redis, &prefix).await;
    let exchanges: Vec<(&str, &str, &str, &str)> = events
        .iter()
        .filter(|event| event.get("action").map(String::as_str) == Some("exchange"))
        .map(|event| {
            let field = |name: &str| event.get(name).map_or("", String::as_str);
            (
                field("door"),
                field("outcome"),
                field("code"),
                field("projects"),
            )
        })
        .collect();
    assert_eq!(
        exchanges,
        [
            ("crates", "success", "", "serde_json"),
            ("npm", "success", "", NPM_PACKAGE),
            ("npm", "failure", "invalid-reuse-token", NPM_PACKAGE),
        ]
    );
}
