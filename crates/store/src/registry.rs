//! The publisher registry the exchange and the PublisherService use: publishers declared
//! in the config file, layered over the ones registered through the API.
//!
//! Declared publishers live only in memory, are read-only, and are in force whatever the
//! store holds: an operator who declares the release publisher in config keeps it even
//! if Redis loses its data. The API can neither delete nor change them (change the
//! config instead); creating one that is already declared with those projects is a
//! harmless no-op that returns it. A config reload replaces the declared set whole
//! ([`PublisherRegistry::replace_declared`]); the stored ones are not touched.

use std::sync::{Arc, PoisonError, RwLock};

use trustmint_publishers::{LookupKey, ProjectName, Publisher, PublisherId};

use crate::candidates_cache::CandidatesCache;
use crate::stored_publisher::normalize;
use crate::{Confirmed, Created, PublisherGeneration, PublisherStore, StoreError};

/// Why a registry write was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    /// The publisher (its id is the payload) is declared in the config file, which the
    /// API cannot change.
    #[error(
        "publisher {0} is declared in the configuration file and cannot be changed through the API; edit the [[publishers]] entry instead"
    )]
    Declared(String),
    /// The store could not answer.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Config-declared publishers over a [`PublisherStore`].
#[derive(Clone, Debug)]
pub struct PublisherRegistry {
    /// Few (a config file's worth), so plain scans beat maintaining indexes. Shared by
    /// every clone; each call reads it once.
    declared: Arc<RwLock<Arc<[Publisher]>>>,
    store: Arc<dyn PublisherStore>,
    cache: CandidatesCache,
}

/// The publishers an exchange may match, and how fresh they are.
#[derive(Clone, Debug)]
pub struct Candidates {
    /// Declared first, then stored; expired pending ones left out.
    pub publishers: Vec<Publisher>,
    /// The generation the stored ones were read at; pass it to the commit
    /// (`ExchangeCommit::publishers_read_at`). `None`: read afresh from a store that has
    /// no generations.
    pub generation: Option<PublisherGeneration>,
    /// Whether they came from the cache: a refusal for lack of a match must then be
    /// confirmed with fresh ones.
    pub cached: bool,
}

impl PublisherRegistry {
    /// A registry of `declared` publishers (their project lists get normalised) over
    /// `store`.
    pub fn new(declared: Vec<Publisher>, store: Arc<dyn PublisherStore>) -> Self {
        Self {
            declared: Arc::new(RwLock::new(normalized(declared))),
            store,
            cache: CandidatesCache::new(),
        }
    }

    /// The config-declared publishers in force.
    pub fn declared(&self) -> Arc<[Publisher]> {
        self.declared
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Puts `declared` in force instead of the declared publishers so far (a config
    /// reload): from the next call on, removed ones no longer match, get or list, and
    /// added ones do. Calls in flight finish with the set they read. Stored publishers
    /// and the candidates cache (which holds stored ones only) are not affected.
    pub fn replace_declared(&self, declared: Vec<Publisher>) {
        *self
            .declared
            .write()
            .unwrap_or_else(PoisonError::into_inner) = normalized(declared);
    }

    fn declared_by_id(&self, id: &PublisherId) -> Option<Publisher> {
        self.declared().iter().find(|p| &p.id == id).cloned()
    }

    /// Publishers a token with `lookup_key` could match: the declared ones first, then
    /// the stored ones; pending publishers expired at `now` are left out.
    pub async fn candidates(
        &self,
        lookup_key: &LookupKey,
        now: i64,
    ) -> Result<Vec<Publisher>, StoreError> {
        let stored = self.store.candidates(lookup_key.as_str()).await?;
        Ok(self.with_declared(lookup_key, stored, now))
    }

    /// [`Self::candidates`] for an exchange: served from the cache unless `fresh`, when
    /// the store hands out generations (see [`Candidates`]).
    pub async fn candidates_for_exchange(
        &self,
        lookup_key: &LookupKey,
        now: i64,
        fresh: bool,
    ) -> Result<Candidates, StoreError> {
        let (stored, generation, cached) = match self.cache.get(lookup_key).await {
            Some(hit) if !fresh => (hit.stored.clone(), Some(hit.generation.clone()), true),
            _ => {
                let (stored, generation) = self
                    .store
                    .candidates_with_generation(lookup_key.as_str())
                    .await?;
                if let Some(generation) = &generation {
                    self.cache
                        .put(lookup_key, generation.clone(), stored.clone())
                        .await;
                }
                (stored, generation, false)
            }
        };
        Ok(Candidates {
            publishers: self.with_declared(lookup_key, stored, now),
            generation,
            cached,
        })
    }

    fn with_declared(
        &self,
        lookup_key: &LookupKey,
        stored: Vec<Publisher>,
        now: i64,
    ) -> Vec<Publisher> {
        self.declared()
            .iter()
            .filter(|p| &p.spec.lookup_key() == lookup_key)
            .cloned()
            .chain(stored)
            .filter(|p| !p.is_expired(now))
            .collect()
    }

    /// One publisher by id, declared or stored.
    pub async fn get(&self, id: &PublisherId) -> Result<Option<Publisher>, StoreError> {
        match self.declared_by_id(id) {
            Some(declared) => Ok(Some(declared)),
            None => self.store.get(id).await,
        }
    }

    /// Publishers that list `project`: declared first, then stored.
    pub async fn list_by_project(
        &self,
        project: &ProjectName,
    ) -> Result<Vec<Publisher>, StoreError> {
        let stored = self.store.list_by_project(project).await?;
        Ok(self
            .declared()
            .iter()
            .filter(|p| p.lists(project))
            .cloned()
            .chain(stored)
            .collect())
    }

    /// Registers a publisher (see [`PublisherStore::create`]). An identity that is
    /// declared in config is not stored: the declared publisher is returned if it
    /// already lists every requested project, otherwise the request is refused.
    pub async fn create(&self, publisher: Publisher) -> Result<Created, RegistryError> {
        let identity = publisher.identity_key();
        let declared = self.declared();
        if let Some(declared) = declared.iter().find(|d| d.identity_key() == identity) {
            return if publisher.projects.iter().all(|p| declared.lists(p)) {
                Ok(Created {
                    publisher: declared.clone(),
                    created: false,
                })
            } else {
                Err(RegistryError::Declared(declared.id.to_string()))
            };
        }
        let created = self.store.create(publisher).await;
        self.cache.clear();
        Ok(created?)
    }

    /// Deletes a stored publisher; declared ones are refused.
    pub async fn delete(&self, id: &PublisherId) -> Result<Option<Publisher>, RegistryError> {
        if self.declared_by_id(id).is_some() {
            return Err(RegistryError::Declared(id.to_string()));
        }
        let deleted = self.store.delete(id).await;
        self.cache.clear();
        Ok(deleted?)
    }

    /// Confirms a pending stored publisher; a declared one is never pending
    /// ([`Confirmed::Already`]).
    pub async fn confirm(&self, id: &PublisherId) -> Result<Confirmed, StoreError> {
        match self.declared_by_id(id) {
            Some(declared) => Ok(Confirmed::Already(declared)),
            None => {
                let confirmed = self.store.confirm(id).await;
                self.cache.clear();
                confirmed
            }
        }
    }
}

/// `declared` with their project lists normalised.
fn normalized(declared: Vec<Publisher>) -> Arc<[Publisher]> {
    declared.into_iter().map(normalize).collect()
}

#[cfg(test)]
mod tests {
    use trustmint_publishers::{GitHubPublisher, Origin, PublisherSpec};

    use super::*;
    use crate::memory::MemoryPublisherStore;

    const NOW: i64 = 1_700_000_000;

    fn project(name: &str) -> ProjectName {
        ProjectName::parse(name).expect("valid project")
    }

    fn github(repo: &str, workflow: &str) -> PublisherSpec {
        PublisherSpec::GitHub(GitHubPublisher {
            repository_owner: "pypa".into(),
            repository_owner_id: "647025".into(),
            repository_name: repo.into(),
            workflow_filename: workflow.into(),
            ..GitHubPublisher::default()
        })
    }

    fn declared(repo: &str, projects: &[&str]) -> Publisher {
        let spec = github(repo, "release.yml");
        Publisher {
            id: PublisherId::for_declared(&spec.identity_key()),
            projects: projects.iter().map(|p| project(p)).collect(),
            pending: false,
            spec,
            policy: Default::default(),
            origin: Origin::Config,
            created_at: 0,
            expires_at: None,
            ecosystem: Default::default(),
        }
    }

    fn api(repo: &str, workflow: &str, projects: &[&str]) -> Publisher {
        Publisher {
            id: PublisherId::random(),
            projects: projects.iter().map(|p| project(p)).collect(),
            pending: false,
            spec: github(repo, workflow),
            policy: Default::default(),
            origin: Origin::Api,
            created_at: NOW,
            expires_at: None,
            ecosystem: Default::default(),
        }
    }

    fn registry(declared: Vec<Publisher>) -> PublisherRegistry {
        PublisherRegistry::new(declared, Arc::new(MemoryPublisherStore::new()))
    }

    fn ids(publishers: &[Publisher]) -> Vec<PublisherId> {
        publishers.iter().map(|p| p.id.clone()).collect()
    }

    #[tokio::test]
    async fn declared_publishers_are_present_with_an_empty_store() {
        let seed = declared("sampleproject", &["Sample_Project"]);
        let registry = registry(vec![seed.clone()]);
        let key = seed.spec.lookup_key();

        let candidates = registry.candidates(&key, NOW).await.expect("candidates");
        assert_eq!(ids(&candidates), vec![seed.id.clone()]);
        assert_eq!(candidates[0].projects, vec![project("sample-project")]);
        assert_eq!(
            registry.get(&seed.id).await.expect("get").map(|p| p.id),
            Some(seed.id.clone())
        );
        let listed = registry
            .list_by_project(&project("sample-project"))
            .await
            .expect("list");
        assert_eq!(ids(&listed), vec![seed.id.clone()]);
        assert_eq!(
            registry.confirm(&seed.id).await.expect("confirm"),
            Confirmed::Already(candidates[0].clone())
        );
    }

    #[tokio::test]
    async fn declared_publishers_cannot_be_deleted() {
        let seed = declared("sampleproject", &["sampleproject"]);
        let registry = registry(vec![seed.clone()]);
        let refused = registry.delete(&seed.id).await;
        assert_eq!(refused, Err(RegistryError::Declared(seed.id.to_string())));
        let message = refused.expect_err("declared").to_string();
        assert!(
            message.contains("declared in the configuration file"),
            "{message}"
        );
        assert!(registry.get(&seed.id).await.expect("get").is_some());
    }

    #[tokio::test]
    async fn creating_a_declared_identity() {
        let seed = declared("sampleproject", &["sampleproject", "other"]);
        let registry = registry(vec![seed.clone()]);
        // (requested projects, expected outcome)
        let cases: Vec<(&[&str], Result<Created, RegistryError>)> = vec![
            (
                &["sampleproject"],
                Ok(Created {
                    publisher: registry.declared()[0].clone(),
                    created: false,
                }),
            ),
            (
                &["other", "sampleproject"],
                Ok(Created {
                    publisher: registry.declared()[0].clone(),
                    created: false,
                }),
            ),
            (
                &["sampleproject", "newproject"],
                Err(RegistryError::Declared(seed.id.to_string())),
            ),
        ];
        for (projects, expected) in cases {
            let outcome = registry
                .create(api("sampleproject", "release.yml", projects))
                .await;
            assert_eq!(outcome, expected, "{projects:?}");
        }
        // nothing reached the store
        let candidates = registry
            .candidates(&seed.spec.lookup_key(), NOW)
            .await
            .expect("candidates");
        assert_eq!(ids(&candidates), vec![seed.id]);
    }

    #[tokio::test]
    async fn stored_publishers_come_after_declared_ones() {
        let seed = declared("sampleproject", &["sampleproject"]);
        let registry = registry(vec![seed.clone()]);
        let created = registry
            .create(api("SampleProject", "other.yml", &["sampleproject"]))
            .await
            .expect("create");
        assert!(created.created);
        let stored_id = created.publisher.id.clone();

        let candidates = registry
            .candidates(&seed.spec.lookup_key(), NOW)
            .await
            .expect("candidates");
        assert_eq!(ids(&candidates), vec![seed.id.clone(), stored_id.clone()]);
        let listed = registry
            .list_by_project(&project("sampleproject"))
            .await
            .expect("list");
        assert_eq!(ids(&listed), vec![seed.id.clone(), stored_id.clone()]);

        assert_eq!(
            registry
                .delete(&stored_id)
                .await
                .expect("delete")
                .map(|p| p.id),
            Some(stored_id.clone())
        );
        assert_eq!(registry.get(&stored_id).await.expect("get"), None);
    }

    #[tokio::test]
    async fn candidates_leave_out_pending_publishers_expired_at_now() {
        // The store filters by its own clock: pin it to the registry's `now`.
        let now = NOW;
        let clock = Arc::new(crate::FixedClock::at(now));
        let registry = PublisherRegistry::new(
            Vec::new(),
            Arc::new(MemoryPublisherStore::with_clock(clock.clone())),
        );
        let pending = Publisher {
            pending: true,
            expires_at: Some(now + 100),
            ..api("sampleproject", "release.yml", &["newproject"])
        };
        let key = pending.spec.lookup_key();
        registry.create(pending.clone()).await.expect("create");
        clock.set(now + 99);
        let before = registry.candidates(&key, now + 99).await.expect("before");
        assert_eq!(ids(&before), vec![pending.id.clone()]);
        clock.set(now + 100);
        let after = registry.candidates(&key, now + 100).await.expect("after");
        assert_eq!(ids(&after), Vec::<PublisherId>::new());
        assert_eq!(registry.get(&pending.id).await.expect("get"), None);
    }

    #[tokio::test]
    async fn replacing_the_declared_set_leaves_stored_publishers_alone() {
        let removed = declared("sampleproject", &["sampleproject"]);
        let added = declared("otherproject", &["otherproject"]);
        let registry = registry(vec![removed.clone()]);
        let stored = registry
            .create(api("sampleproject", "other.yml", &["sampleproject"]))
            .await
            .expect("create")
            .publisher;
        // A clone (as the exchange and the PublisherService hold) sees the replacement.
        registry.clone().replace_declared(vec![added.clone()]);

        let key = removed.spec.lookup_key();
        let candidates = registry.candidates(&key, NOW).await.expect("candidates");
        assert_eq!(ids(&candidates), vec![stored.id.clone()]);
        assert_eq!(registry.get(&removed.id).await.expect("get"), None);
        let listed = registry
            .list_by_project(&project("sampleproject"))
            .await
            .expect("list");
        assert_eq!(ids(&listed), vec![stored.id.clone()]);

        let candidates = registry
            .candidates(&added.spec.lookup_key(), NOW)
            .await
            .expect("candidates");
        assert_eq!(ids(&candidates), vec![added.id.clone()]);
        assert_eq!(
            registry.delete(&added.id).await,
            Err(RegistryError::Declared(added.id.to_string()))
        );
        assert_eq!(ids(&registry.declared()), vec![added.id]);
    }
}
