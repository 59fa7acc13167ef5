//! Token records: round trip, TTL, revocation, size.

use std::time::Duration;

use trustmint_store::StoreError;

use crate::support::Subject;
use crate::support::fixtures::token_record;

pub async fn put_get_delete(s: &Subject) {
    let tokens = &s.backends.tokens;
    let record = token_record();
    assert_eq!(tokens.get(&record.token_id).await, Ok(None));
    tokens.put(&record, 900).await.expect("put");
    assert_eq!(tokens.get(&record.token_id).await, Ok(Some(record.clone())));
    assert_eq!(tokens.delete(&record.token_id).await, Ok(true));
    assert_eq!(tokens.get(&record.token_id).await, Ok(None));
    assert_eq!(tokens.delete(&record.token_id).await, Ok(false));
}

pub async fn ttl_is_what_was_asked(s: &Subject) {
    let tokens = &s.backends.tokens;
    let record = token_record();
    tokens.put(&record, 900).await.expect("put");
    if let Some(raw) = &s.raw {
        let key = s.key(&format!("tok:{}", record.token_id));
        assert_eq!(raw.ttl(&key).await, 900, "TTL of {key}");
        let pttl = raw.pttl(&key).await;
        assert!((899_000..=900_000).contains(&pttl), "PTTL of {key}: {pttl}");
    }
    // and it really expires
    let short = token_record();
    tokens.put(&short, 1).await.expect("put");
    if let Some(raw) = &s.raw {
        let pttl = raw.pttl(&s.key(&format!("tok:{}", short.token_id))).await;
        assert!((1..=1_000).contains(&pttl), "PTTL {pttl}");
    }
    assert_eq!(tokens.get(&short.token_id).await, Ok(Some(short.clone())));
    tokio::time::sleep(Duration::from_millis(1_300)).await;
    assert_eq!(tokens.get(&short.token_id).await, Ok(None));
}

pub async fn revocation_takes_effect_at_once(s: &Subject) {
    let record = token_record();
    s.backends.tokens.put(&record, 900).await.expect("put");
    // another replica (same Redis) sees the record, then sees it gone the moment this
    // one deletes it; memory has a single replica
    let replica = s.replica().await;
    let reader = replica.as_ref().unwrap_or(&s.backends);
    assert_eq!(
        reader.tokens.get(&record.token_id).await,
        Ok(Some(record.clone()))
    );
    assert_eq!(s.backends.tokens.delete(&record.token_id).await, Ok(true));
    assert_eq!(reader.tokens.get(&record.token_id).await, Ok(None));
    if let Some(raw) = &s.raw {
        assert!(
            !raw.exists(&s.key(&format!("tok:{}", record.token_id)))
                .await
        );
    }
}

pub async fn zero_ttl_is_refused(s: &Subject) {
    let record = token_record();
    assert_eq!(
        s.backends.tokens.put(&record, 0).await,
        Err(StoreError::new(
            "token_put",
            "ttl must be at least 1 second"
        ))
    );
    assert_eq!(s.backends.tokens.get(&record.token_id).await, Ok(None));
}

/// Redis only: what one realistic token costs in Redis memory. Expects a subject with a
/// `production_length_prefix()`, so the key is as long as in production.
pub async fn record_fits_in_512_bytes(s: &Subject) {
    let Some(raw) = &s.raw else { return };
    let record = token_record();
    s.backends.tokens.put(&record, 900).await.expect("put");
    let key = s.key(&format!("tok:{}", record.token_id));
    let json_len = serde_json::to_string(&record).expect("json").len();
    let value_len: i64 = raw.query(redis::cmd("STRLEN").arg(&key)).await;
    let usage: i64 = raw
        .query(
            redis::cmd("MEMORY")
                .arg("USAGE")
                .arg(&key)
                .arg("SAMPLES")
                .arg(0),
        )
        .await;
    println!(
        "MEMORY USAGE of one token record ({:?}): {usage} bytes \
         (key {} bytes; record {json_len} bytes as JSON, stored as {value_len} bytes)",
        s.target,
        key.len()
    );
    assert!(
        usage <= 512,
        "a token record takes {usage} bytes of Redis memory"
    );
}
