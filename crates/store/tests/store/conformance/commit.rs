//! One exchange's writes in one call (`Backends::commit`, standalone Redis) and the
//! publisher generation that lets replicas cache candidates: the commit stores what the
//! individual calls would, refuses exactly when they would, and never honours a
//! publisher another replica has removed.

use std::sync::Arc;

use trustmint_publishers::Publisher;
use trustmint_store::{
    Backends, CommitOutcome, ExchangeCommit, PublisherRegistry, RateDecision, TokenRecord,
};

use crate::support::fixtures::{github, now, token_record};
use crate::support::{Subject, Target};

const OWNER: &str = "exchange-1";

fn replay_key() -> String {
    format!("issuer-digest:{}", uuid::Uuid::new_v4())
}

fn rate_key() -> String {
    format!("mint:192.0.2.{}", uuid::Uuid::new_v4())
}

fn audit_fields(record: &TokenRecord) -> Vec<(&'static str, String)> {
    vec![
        ("action", "exchange".to_owned()),
        ("outcome", "success".to_owned()),
        ("token_id", record.token_id.clone()),
    ]
}

/// A commit of `record` under `replay_key`, counted under `rate_key`.
fn writes<'a>(
    record: &'a TokenRecord,
    replay_key: &'a str,
    rate_key: Option<&'a str>,
    audit: Option<&'a [(&'a str, String)]>,
) -> ExchangeCommit<'a> {
    ExchangeCommit {
        rate_key,
        replay_key,
        replay_owner: OWNER,
        replay_expires_at: now() + 300,
        record,
        ttl_secs: 900,
        audit,
        publishers_read_at: None,
    }
}

/// Only standalone Redis has a one-call commit (and hands out generations).
pub async fn offered_by_standalone_redis_only(s: &Subject) {
    assert_eq!(
        s.backends.commit.is_some(),
        s.target == Target::Standalone,
        "{:?}",
        s.target
    );
    let (_, generation) = s
        .backends
        .publishers
        .candidates_with_generation("[\"github\",\"none\"]")
        .await
        .expect("candidates");
    assert_eq!(generation.is_some(), s.target == Target::Standalone);
}

pub async fn stores_the_record_claims_the_jwt_and_appends_the_audit_event(s: &Subject) {
    let Some(commit) = &s.backends.commit else {
        return;
    };
    let record = token_record();
    let key = replay_key();
    let fields = audit_fields(&record);
    let writes = writes(&record, &key, Some("mint:192.0.2.1"), Some(&fields));
    assert_eq!(
        commit.commit(&writes).await,
        Ok(CommitOutcome::Committed {
            audit_appended: true
        })
    );
    assert_eq!(
        s.backends.tokens.get(&record.token_id).await,
        Ok(Some(record.clone()))
    );
    assert_eq!(
        s.backends
            .replay
            .claim(&key, "another", writes.replay_expires_at)
            .await,
        Ok(false),
        "the JWT is burnt"
    );
    let raw = s.raw.as_ref().expect("redis");
    let expire_time: i64 = raw
        .query(redis::cmd("EXPIRETIME").arg(s.key(&format!("jti:{key}"))))
        .await;
    assert_eq!(expire_time, writes.replay_expires_at);
    let ttl = raw.ttl(&s.key(&format!("tok:{}", record.token_id))).await;
    assert!((899..=900).contains(&ttl), "token TTL {ttl}");
    let last: Vec<(String, Vec<(String, String)>)> = raw
        .query(
            redis::cmd("XREVRANGE")
                .arg(s.key("audit"))
                .arg("+")
                .arg("-")
                .arg("COUNT")
                .arg(1),
        )
        .await;
    let expected: Vec<(String, String)> = fields
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    assert_eq!(last[0].1, expected);
    // the same JWT again: a replay, and its record is not stored
    let second = token_record();
    assert_eq!(
        commit
            .commit(&self::writes(&second, &key, None, None))
            .await,
        Ok(CommitOutcome::Replayed)
    );
    assert_eq!(s.backends.tokens.get(&second.token_id).await, Ok(None));
}

/// Expects a subject built with `slow_limit(5)`: the commit and the limiter count into
/// one state per client, and a limited commit writes nothing.
pub async fn shares_the_rate_limit_with_the_limiter(s: &Subject) {
    let Some(commit) = &s.backends.commit else {
        return;
    };
    let client = rate_key();
    for i in 0..3 {
        let record = token_record();
        let key = replay_key();
        assert_eq!(
            commit
                .commit(&writes(&record, &key, Some(&client), None))
                .await,
            Ok(CommitOutcome::Committed {
                audit_appended: false
            }),
            "commit {i}"
        );
    }
    for i in 0..2 {
        assert_eq!(
            s.backends.rate_limiter.check(&client).await,
            Ok(RateDecision::Allowed),
            "check {i}"
        );
    }
    let record = token_record();
    let key = replay_key();
    assert_eq!(
        commit
            .commit(&writes(&record, &key, Some(&client), None))
            .await,
        Ok(CommitOutcome::RateLimited {
            retry_after_secs: 1
        })
    );
    assert_eq!(s.backends.tokens.get(&record.token_id).await, Ok(None));
    assert_eq!(
        s.backends.replay.claim(&key, OWNER, now() + 300).await,
        Ok(true),
        "a limited commit does not burn the JWT"
    );
    assert_eq!(
        s.backends.rate_limiter.check(&client).await,
        Ok(RateDecision::Limited {
            retry_after_secs: 1
        })
    );
}

fn registry(backends: &Backends) -> PublisherRegistry {
    PublisherRegistry::new(Vec::new(), Arc::clone(&backends.publishers))
}

fn ids(publishers: &[Publisher]) -> Vec<String> {
    publishers.iter().map(|p| p.id.to_string()).collect()
}

/// Replica A caches the candidates; replica B removes the publisher; A's cache still
/// lists it, but A's commit refuses to mint on it, and a fresh read no longer has it.
pub async fn a_publisher_removed_on_another_replica_is_never_honoured(s: &Subject) {
    let Some(commit) = &s.backends.commit else {
        return;
    };
    let replica_b = s.replica().await.expect("a Redis target");
    let (a, b) = (registry(&s.backends), registry(&replica_b));
    let publisher = github(
        "pypa",
        &format!("repo-{}", uuid::Uuid::new_v4()),
        "release.yml",
        &["sampleproject"],
    );
    let lookup_key = publisher.spec.lookup_key();
    let stored = b.create(publisher).await.expect("create on B").publisher;

    let first = a
        .candidates_for_exchange(&lookup_key, now(), false)
        .await
        .expect("read on A");
    assert_eq!(ids(&first.publishers), ids(std::slice::from_ref(&stored)));
    assert!(!first.cached);
    let read_at = first
        .generation
        .clone()
        .expect("standalone hands out generations");
    let hit = a
        .candidates_for_exchange(&lookup_key, now(), false)
        .await
        .expect("cached read on A");
    assert!(hit.cached);
    assert_eq!(hit.generation.as_ref(), Some(&read_at));

    assert!(b.delete(&stored.id).await.expect("delete on B").is_some());

    // A's cache has not heard of it…
    let stale = a
        .candidates_for_exchange(&lookup_key, now(), false)
        .await
        .expect("cached read on A");
    assert!(stale.cached);
    assert_eq!(ids(&stale.publishers), ids(std::slice::from_ref(&stored)));
    // …but a commit on it is refused, and writes nothing.
    let record = token_record();
    let key = replay_key();
    let client = rate_key();
    let mut on_stale = writes(&record, &key, Some(&client), None);
    on_stale.publishers_read_at = stale.generation.as_ref();
    assert_eq!(
        commit.commit(&on_stale).await,
        Ok(CommitOutcome::PublishersChanged)
    );
    assert_eq!(s.backends.tokens.get(&record.token_id).await, Ok(None));
    assert_eq!(
        s.backends.replay.claim(&key, OWNER, now() + 300).await,
        Ok(true),
        "the refused commit did not burn the JWT"
    );
    let fresh = a
        .candidates_for_exchange(&lookup_key, now(), true)
        .await
        .expect("fresh read on A");
    assert!(!fresh.cached);
    assert_eq!(fresh.publishers, Vec::new());
    assert_ne!(fresh.generation.as_ref(), Some(&read_at));

    // at the current generation the commit goes through
    let record = token_record();
    let key = replay_key();
    let mut current = writes(&record, &key, Some(&client), None);
    current.publishers_read_at = fresh.generation.as_ref();
    assert_eq!(
        commit.commit(&current).await,
        Ok(CommitOutcome::Committed {
            audit_appended: false
        })
    );
}

/// Every kind of publisher write moves the generation: create, a create that merges
/// projects, confirm and delete.
pub async fn every_publisher_write_moves_the_generation(s: &Subject) {
    if s.backends.commit.is_none() {
        return;
    }
    let publishers = &s.backends.publishers;
    let mut pending = github(
        "pypa",
        &format!("repo-{}", uuid::Uuid::new_v4()),
        "release.yml",
        &["newproject"],
    );
    pending.pending = true;
    let lookup_key = pending.spec.lookup_key();
    let generation = || async {
        publishers
            .candidates_with_generation(lookup_key.as_str())
            .await
            .expect("read")
            .1
            .expect("a generation")
    };
    let mut seen = vec![generation().await];
    let created = publishers.create(pending.clone()).await.expect("create");
    seen.push(generation().await);
    let mut more = pending.clone();
    more.id = trustmint_publishers::PublisherId::random();
    more.projects = vec![crate::support::fixtures::project("otherproject")];
    let merged = publishers.create(more).await.expect("merge");
    assert!(!merged.created);
    seen.push(generation().await);
    publishers
        .confirm(&created.publisher.id)
        .await
        .expect("confirm");
    seen.push(generation().await);
    publishers
        .delete(&created.publisher.id)
        .await
        .expect("delete");
    seen.push(generation().await);
    for pair in seen.windows(2) {
        assert_ne!(pair[0], pair[1], "generations {seen:?}");
    }
}

/// An abandoned commit is undone if it ran, and a no-op if it arrives afterwards (a
/// frozen Redis runs it when it thaws, after the abandon sent on another connection).
pub async fn an_abandoned_commit_leaves_nothing_whenever_it_runs(s: &Subject) {
    let Some(commit) = &s.backends.commit else {
        return;
    };
    // it ran, then was abandoned: claim and record are gone, the JWT can be retried
    let record = token_record();
    let key = replay_key();
    let ran = writes(&record, &key, None, None);
    assert_eq!(
        commit.commit(&ran).await,
        Ok(CommitOutcome::Committed {
            audit_appended: false
        })
    );
    commit
        .abandon(&key, OWNER, &record.token_id, ran.replay_expires_at)
        .await
        .expect("abandon");
    assert_eq!(s.backends.tokens.get(&record.token_id).await, Ok(None));
    let mut retry = writes(&record, &key, None, None);
    retry.replay_owner = "exchange-2";
    assert_eq!(
        commit.commit(&retry).await,
        Ok(CommitOutcome::Committed {
            audit_appended: false
        }),
        "the retry with the same JWT mints"
    );

    // abandoned first, arriving late: it writes nothing
    let late_record = token_record();
    let late_key = replay_key();
    let late = writes(&late_record, &late_key, None, None);
    commit
        .abandon(
            &late_key,
            OWNER,
            &late_record.token_id,
            late.replay_expires_at,
        )
        .await
        .expect("abandon");
    assert!(commit.commit(&late).await.is_err(), "an abandoned commit");
    assert_eq!(s.backends.tokens.get(&late_record.token_id).await, Ok(None));
    assert_eq!(
        s.backends
            .replay
            .claim(&late_key, "exchange-2", late.replay_expires_at)
            .await,
        Ok(true),
        "the late commit did not burn the JWT"
    );
}
