//! The registry over a real Redis store: config-declared publishers stay in force when
//! Redis loses its data.

use trustmint_publishers::{Origin, Publisher, PublisherId};
use trustmint_store::{PublisherRegistry, RegistryError};

use crate::support::fixtures::{github, ids, now, unique_owner};
use crate::support::{Subject, Target};

fn declared(owner: &str) -> Publisher {
    let mut publisher = github(owner, "sampleproject", "release.yml", &["sampleproject"]);
    publisher.id = PublisherId::for_declared(&publisher.spec.identity_key());
    publisher.origin = Origin::Config;
    publisher.created_at = 0;
    publisher
}

#[tokio::test]
async fn declared_publishers_survive_redis_losing_its_data() {
    let s = Subject::new(Target::Standalone).await;
    let raw = s.raw.as_ref().expect("redis");
    let owner = unique_owner();
    let seed = declared(&owner);
    let registry = PublisherRegistry::new(vec![seed.clone()], s.backends.publishers.clone());
    let stored = registry
        .create(github(
            &owner,
            "sampleproject",
            "nightly.yml",
            &["sampleproject"],
        ))
        .await
        .expect("create")
        .publisher;
    let key = seed.spec.lookup_key();
    assert_eq!(
        ids(&registry.candidates(&key, now()).await.expect("candidates")),
        vec![seed.id.clone(), stored.id.clone()]
    );

    // Redis loses everything under this deployment's prefix
    let keys: Vec<String> = raw
        .query(redis::cmd("KEYS").arg(format!("{}*", s.settings.key_prefix)))
        .await;
    assert!(!keys.is_empty());
    let _: i64 = raw.query(redis::cmd("DEL").arg(&keys)).await;

    assert_eq!(
        ids(&registry.candidates(&key, now()).await.expect("candidates")),
        vec![seed.id.clone()]
    );
    assert_eq!(registry.get(&stored.id).await, Ok(None));
    assert_eq!(
        registry.get(&seed.id).await.expect("get").map(|p| p.id),
        Some(seed.id.clone())
    );
    assert_eq!(
        registry.delete(&seed.id).await,
        Err(RegistryError::Declared(seed.id.to_string()))
    );
}
