//! The replay guard: one claim per key until it expires or is released.

use std::time::Duration;

use crate::support::Subject;
use crate::support::fixtures::now;

fn unique_key() -> String {
    format!("issuer-digest:{}", uuid::Uuid::new_v4())
}

/// The owner value the tests claim with.
const OWNER: &str = "exchange-1";

pub async fn claim_once(s: &Subject) {
    let replay = &s.backends.replay;
    let key = unique_key();
    let expires_at = now() + 300;
    assert_eq!(replay.claim(&key, OWNER, expires_at).await, Ok(true));
    assert_eq!(replay.claim(&key, OWNER, expires_at).await, Ok(false));
    if let Some(raw) = &s.raw {
        let redis_key = s.key(&format!("jti:{key}"));
        let expire_time: i64 = raw.query(redis::cmd("EXPIRETIME").arg(&redis_key)).await;
        assert_eq!(expire_time, expires_at, "EXAT of {redis_key}");
        let value: String = raw.query(redis::cmd("GET").arg(&redis_key)).await;
        assert_eq!(value, OWNER);
    }
    // another replica sees the claim too
    if let Some(replica) = s.replica().await {
        assert_eq!(
            replica.replay.claim(&key, OWNER, expires_at).await,
            Ok(false)
        );
    }
}

pub async fn release_lets_a_second_claim_succeed(s: &Subject) {
    let replay = &s.backends.replay;
    let key = unique_key();
    let expires_at = now() + 300;
    assert_eq!(replay.claim(&key, OWNER, expires_at).await, Ok(true));
    assert_eq!(replay.release(&key, OWNER).await, Ok(()));
    assert_eq!(replay.claim(&key, OWNER, expires_at).await, Ok(true));
    assert_eq!(replay.claim(&key, OWNER, expires_at).await, Ok(false));
    // releasing an unknown key is fine
    assert_eq!(replay.release(&unique_key(), OWNER).await, Ok(()));
}

pub async fn release_by_another_owner_keeps_the_claim(s: &Subject) {
    let replay = &s.backends.replay;
    let key = unique_key();
    let expires_at = now() + 300;
    assert_eq!(replay.claim(&key, "first", expires_at).await, Ok(true));
    // An exchange whose own claim never landed (or was released) must not free the
    // claim another exchange of the same JWT holds.
    assert_eq!(replay.release(&key, "second").await, Ok(()));
    assert_eq!(replay.claim(&key, "third", expires_at).await, Ok(false));
    assert_eq!(replay.release(&key, "first").await, Ok(()));
    assert_eq!(replay.claim(&key, "third", expires_at).await, Ok(true));
}

pub async fn concurrent_claims_have_one_winner(s: &Subject) {
    let key = unique_key();
    let expires_at = now() + 300;
    let claims = (0..16).map(|_| {
        let replay = s.backends.replay.clone();
        let key = key.clone();
        tokio::spawn(async move { replay.claim(&key, OWNER, expires_at).await })
    });
    let outcomes: Vec<bool> = futures::future::join_all(claims)
        .await
        .into_iter()
        .map(|joined| joined.expect("task").expect("claim"))
        .collect();
    assert_eq!(
        outcomes.iter().filter(|won| **won).count(),
        1,
        "{outcomes:?}"
    );
}

pub async fn claims_expire(s: &Subject) {
    let replay = &s.backends.replay;
    let key = unique_key();
    let expires_at = now() + 1;
    assert_eq!(replay.claim(&key, OWNER, expires_at).await, Ok(true));
    assert_eq!(replay.claim(&key, OWNER, expires_at).await, Ok(false));
    while now() <= expires_at {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    assert_eq!(replay.claim(&key, OWNER, now() + 60).await, Ok(true));
}
