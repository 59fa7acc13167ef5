//! The audit stream and health.

use trustmint_store::StoreError;

use crate::support::{Subject, Target};

/// Expects a subject built with `audit_stream_maxlen = 10`.
pub async fn capped_stream(s: &Subject) {
    let Some(audit) = &s.backends.audit else {
        assert_eq!(
            s.target,
            Target::Memory,
            "Redis backends have an audit stream"
        );
        return;
    };
    for seq in 0..300 {
        audit
            .append(&[
                ("event", "mint".to_owned()),
                ("outcome", "ok".to_owned()),
                ("seq", seq.to_string()),
            ])
            .await
            .expect("append");
    }
    let raw = s.raw.as_ref().expect("redis target");
    let stream = s.key("audit");
    let len: u64 = raw.query(redis::cmd("XLEN").arg(&stream)).await;
    // `MAXLEN ~ 10` trims whole stream nodes (100 entries each by default)
    assert!((10..=110).contains(&len), "XLEN {len}");
    let last: Vec<(String, Vec<(String, String)>)> = raw
        .query(
            redis::cmd("XREVRANGE")
                .arg(&stream)
                .arg("+")
                .arg("-")
                .arg("COUNT")
                .arg(1),
        )
        .await;
    assert_eq!(last.len(), 1);
    assert_eq!(
        last[0].1,
        vec![
            ("event".to_owned(), "mint".to_owned()),
            ("outcome".to_owned(), "ok".to_owned()),
            ("seq".to_owned(), "299".to_owned()),
        ]
    );
    assert_eq!(
        audit.append(&[]).await,
        Err(StoreError::new(
            "audit_append",
            "an audit event needs at least one field"
        ))
    );
}

/// Expects a subject built with `audit_stream_maxlen = 0`.
pub async fn zero_maxlen_disables_the_stream(s: &Subject) {
    assert!(s.backends.audit.is_none());
}

pub async fn ping_succeeds(s: &Subject) {
    assert_eq!(s.backends.health.ping().await, Ok(()));
}
