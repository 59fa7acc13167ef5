//! Publishers: create-or-merge, the three indexes, pending expiry, confirm.

use std::time::Duration;

use trustmint_publishers::{PENDING_PUBLISHER_TTL_SECS, Publisher, PublisherId};
use trustmint_store::{Confirmed, Created};

use crate::support::Subject;
use crate::support::fixtures::{github, ids, now, pending, project, unique_owner};

fn lookup_key(p: &Publisher) -> String {
    p.spec.lookup_key().as_str().to_owned()
}

pub async fn create_get_and_merge(s: &Subject) {
    let store = &s.backends.publishers;
    let owner = unique_owner();
    let first = github(&owner, "sampleproject", "release.yml", &["sampleproject"]);
    let created = store.create(first.clone()).await.expect("create");
    assert_eq!(
        created,
        Created {
            publisher: first.clone(),
            created: true
        }
    );
    assert_eq!(store.get(&first.id).await, Ok(Some(first.clone())));

    // the identical publisher again (another random id): the stored one, unchanged
    let twin = github(&owner, "sampleproject", "release.yml", &["sampleproject"]);
    assert_eq!(
        store.create(twin.clone()).await,
        Ok(Created {
            publisher: first.clone(),
            created: false
        })
    );
    assert_eq!(store.get(&twin.id).await, Ok(None));

    // same identity (case-insensitive owner/repo), more projects: merged into the first
    let wider = github(
        &owner.to_uppercase(),
        "SampleProject",
        "release.yml",
        &["zeta", "alpha", "sampleproject"],
    );
    let merged = store.create(wider).await.expect("merge");
    assert!(!merged.created);
    assert_eq!(merged.publisher.id, first.id);
    assert_eq!(
        merged.publisher.projects,
        vec![project("alpha"), project("sampleproject"), project("zeta")]
    );
    assert_eq!(
        store.get(&first.id).await,
        Ok(Some(merged.publisher.clone()))
    );
    for name in ["alpha", "sampleproject", "zeta"] {
        let listed = store.list_by_project(&project(name)).await.expect("list");
        assert!(ids(&listed).contains(&first.id), "{name}: {listed:?}");
    }
    if let Some(raw) = &s.raw {
        let record = s.key(&format!("{{pub}}:p:{}", first.id));
        assert_eq!(raw.pttl(&record).await, -1, "an active publisher persists");
    }
}

pub async fn candidates_by_lookup_key(s: &Subject) {
    let store = &s.backends.publishers;
    let owner = unique_owner();
    let release = github(&owner, "sampleproject", "release.yml", &["sampleproject"]);
    let nightly = github(
        &owner,
        "sampleproject",
        "nightly.yml",
        &["sampleproject-nightly"],
    );
    let other_repo = github(&owner, "otherproject", "release.yml", &["otherproject"]);
    for p in [&release, &nightly, &other_repo] {
        assert!(store.create(p.clone()).await.expect("create").created);
    }
    let mut expected = vec![release.id.clone(), nightly.id.clone()];
    expected.sort();
    let found = store
        .candidates(&lookup_key(&release))
        .await
        .expect("candidates");
    assert_eq!(ids(&found), expected);
    let found = store
        .candidates(&lookup_key(&other_repo))
        .await
        .expect("candidates");
    assert_eq!(found, vec![other_repo.clone()]);
    let unknown = github(&unique_owner(), "sampleproject", "release.yml", &["x"]);
    assert_eq!(store.candidates(&lookup_key(&unknown)).await, Ok(vec![]));
}

pub async fn list_by_project(s: &Subject) {
    let store = &s.backends.publishers;
    let owner = unique_owner();
    let shared = format!("shared-{}", &owner[6..]);
    let a = github(&owner, "a", "release.yml", &[&shared, "only-a"]);
    let b = github(&owner, "b", "release.yml", &[&shared]);
    store.create(a.clone()).await.expect("create a");
    store.create(b.clone()).await.expect("create b");
    let mut both = vec![a.id.clone(), b.id.clone()];
    both.sort();
    let listed = store
        .list_by_project(&project(&shared))
        .await
        .expect("list");
    assert_eq!(ids(&listed), both);
    assert_eq!(
        store
            .list_by_project(&project(&format!("nobody-{owner}")))
            .await,
        Ok(vec![])
    );
}

pub async fn delete_removes_index_entries(s: &Subject) {
    let store = &s.backends.publishers;
    let owner = unique_owner();
    let shared = format!("shared-{}", &owner[6..]);
    let doomed = github(&owner, "sampleproject", "release.yml", &[&shared]);
    let kept = github(&owner, "sampleproject", "other.yml", &[&shared]);
    store.create(doomed.clone()).await.expect("create");
    store.create(kept.clone()).await.expect("create");

    assert_eq!(store.delete(&doomed.id).await, Ok(Some(doomed.clone())));
    assert_eq!(store.delete(&doomed.id).await, Ok(None));
    assert_eq!(store.get(&doomed.id).await, Ok(None));
    assert_eq!(
        ids(&store
            .candidates(&lookup_key(&doomed))
            .await
            .expect("candidates")),
        vec![kept.id.clone()]
    );
    assert_eq!(
        ids(&store
            .list_by_project(&project(&shared))
            .await
            .expect("list")),
        vec![kept.id.clone()]
    );
    if let Some(raw) = &s.raw {
        let id = doomed.id.as_str();
        assert!(!raw.exists(&s.key(&format!("{{pub}}:p:{id}"))).await);
        assert!(
            !raw.is_member(&s.key(&format!("{{pub}}:k:{}", lookup_key(&doomed))), id)
                .await
        );
        assert!(
            !raw.is_member(&s.key(&format!("{{pub}}:proj:{shared}")), id)
                .await
        );
        let identity = s.key(&format!("{{pub}}:id:{}|active", doomed.spec.identity_key()));
        assert!(!raw.exists(&identity).await, "{identity}");
    }
    // the identity is free again: creating it stores a new publisher
    let again = github(&owner, "sampleproject", "release.yml", &[&shared]);
    assert!(store.create(again).await.expect("create").created);
}

pub async fn pending_publishers_expire(s: &Subject) {
    let store = &s.backends.publishers;
    let owner = unique_owner();
    let expires_at = now() + 2;
    let short = pending(
        &owner,
        "sampleproject",
        "release.yml",
        &["newproject"],
        Some(expires_at),
    );
    assert!(store.create(short.clone()).await.expect("create").created);
    // a pending and an active registration of one identity are distinct publishers
    let active = github(&owner, "sampleproject", "release.yml", &["newproject"]);
    assert!(store.create(active.clone()).await.expect("create").created);
    if let Some(raw) = &s.raw {
        let record = s.key(&format!("{{pub}}:p:{}", short.id));
        let pttl = raw.pttl(&record).await;
        assert!(
            (1..=2_000).contains(&pttl),
            "PTTL of pending record: {pttl}"
        );
        let expire_time: i64 = raw.query(redis::cmd("EXPIRETIME").arg(&record)).await;
        assert_eq!(expire_time, expires_at);
        let identity = s.key(&format!("{{pub}}:id:{}|pending", short.spec.identity_key()));
        let identity_ttl: i64 = raw.query(redis::cmd("EXPIRETIME").arg(&identity)).await;
        assert_eq!(identity_ttl, expires_at);
    }
    let mut both = vec![short.id.clone(), active.id.clone()];
    both.sort();
    assert_eq!(
        ids(&store.candidates(&lookup_key(&short)).await.expect("c")),
        both
    );

    while now() <= expires_at {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(store.get(&short.id).await, Ok(None));
    assert_eq!(
        ids(&store.candidates(&lookup_key(&short)).await.expect("c")),
        vec![active.id.clone()]
    );
    let listed = store
        .list_by_project(&project("newproject"))
        .await
        .expect("l");
    assert_eq!(ids(&listed), vec![active.id.clone()]);
    assert_eq!(store.confirm(&short.id).await, Ok(Confirmed::NotFound));
    if let Some(raw) = &s.raw {
        // reading the indexes dropped the dead id from them
        let lookup = s.key(&format!("{{pub}}:k:{}", lookup_key(&short)));
        assert!(!raw.is_member(&lookup, short.id.as_str()).await);
    }
}

pub async fn expired_pending_is_never_returned(s: &Subject) {
    let store = &s.backends.publishers;
    let owner = unique_owner();
    let stale = pending(
        &owner,
        "sampleproject",
        "release.yml",
        &["stale"],
        Some(now() - 1),
    );
    store.create(stale.clone()).await.expect("create");
    assert_eq!(store.get(&stale.id).await, Ok(None));
    assert_eq!(store.candidates(&lookup_key(&stale)).await, Ok(vec![]));
    // its identity is free: a fresh pending registration is a new publisher
    let fresh = pending(&owner, "sampleproject", "release.yml", &["stale"], None);
    let created = store.create(fresh.clone()).await.expect("create");
    assert!(created.created);
    assert_eq!(
        created.publisher.expires_at,
        Some(fresh.created_at + PENDING_PUBLISHER_TTL_SECS),
        "a pending publisher without expiry gets 30 days"
    );
    if let Some(raw) = &s.raw {
        let record = s.key(&format!("{{pub}}:p:{}", fresh.id));
        let expire_time: i64 = raw.query(redis::cmd("EXPIRETIME").arg(&record)).await;
        assert_eq!(expire_time, fresh.created_at + PENDING_PUBLISHER_TTL_SECS);
    }
}

pub async fn confirm_race_has_one_winner(s: &Subject) {
    let store = &s.backends.publishers;
    let owner = unique_owner();
    let waiting = pending(
        &owner,
        "sampleproject",
        "release.yml",
        &["newproject"],
        None,
    );
    store.create(waiting.clone()).await.expect("create");

    let confirms = (0..2).map(|_| {
        let store = s.backends.publishers.clone();
        let id = waiting.id.clone();
        tokio::spawn(async move { store.confirm(&id).await })
    });
    let outcomes: Vec<Confirmed> = futures::future::join_all(confirms)
        .await
        .into_iter()
        .map(|joined| joined.expect("task").expect("confirm"))
        .collect();
    let winners = outcomes
        .iter()
        .filter(|o| matches!(o, Confirmed::Now(_)))
        .count();
    let losers = outcomes
        .iter()
        .filter(|o| matches!(o, Confirmed::Already(_)))
        .count();
    assert_eq!((winners, losers), (1, 1), "{outcomes:?}");

    let stored = store.get(&waiting.id).await.expect("get").expect("present");
    assert!(!stored.pending);
    assert_eq!(stored.expires_at, None);
    assert_eq!(
        store.confirm(&waiting.id).await,
        Ok(Confirmed::Already(stored.clone()))
    );
    if let Some(raw) = &s.raw {
        let record = s.key(&format!("{{pub}}:p:{}", waiting.id));
        assert_eq!(
            raw.pttl(&record).await,
            -1,
            "a confirmed publisher persists"
        );
    }
    // its identity is now the active one: an identical active create merges into it
    let twin = github(&owner, "sampleproject", "release.yml", &["newproject"]);
    assert_eq!(
        store.create(twin).await,
        Ok(Created {
            publisher: stored,
            created: false
        })
    );
    assert_eq!(
        store.confirm(&PublisherId::random()).await,
        Ok(Confirmed::NotFound)
    );
}
