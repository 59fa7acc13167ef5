//! `[token_exchange]` and `[secret_scanning]` in the application's settings reach the
//! HTTP adapter (`[crates]` and `[npm]`: `on_redis`). A refusal each door answers
//! before any outside call proves the route is served.

use serde_json::{Value, json};

use super::all_doors;
use crate::support::spawn_app_with;

#[tokio::test]
async fn token_exchange_and_secret_scanning_sections_switch_their_doors_on() {
    let app = spawn_app_with(|settings, issuer| {
        all_doors(settings, issuer);
        settings.secret_scanning.enabled = true;
        // Never fetched: a report without GitHub's headers is refused first.
        settings.secret_scanning.keys_url = "http://127.0.0.1:9/meta/public_keys".to_owned();
    })
    .await;

    let response = app
        .client
        .post(format!("{}/oauth2/token", app.http))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials")
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status().as_u16(), 400);
    assert_eq!(
        serde_json::from_str::<Value>(&response.text().await.unwrap_or_default())
            .unwrap_or(Value::Null),
        json!({
            "error": "unsupported_grant_type",
            "error_description": "only `urn:ietf:params:oauth:grant-type:token-exchange` is supported",
        })
    );

    let response = app
        .client
        .post(format!("{}/_/secret-scanning/github", app.http))
        .header("content-type", "application/json")
        .body("[]")
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status().as_u16(), 401);
    assert_eq!(
        serde_json::from_str::<Value>(&response.text().await.unwrap_or_default())
            .unwrap_or(Value::Null),
        json!({
            "message": "Github-Public-Key-Identifier and Github-Public-Key-Signature are required"
        })
    );
}
