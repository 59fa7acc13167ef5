//! API-registered publishers in process memory. One mutex guards the record table and
//! its indexes together, which makes create-or-merge and confirm atomic the same way the
//! Redis scripts are.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use trustmint_publishers::{ProjectName, Publisher, PublisherId};

use crate::clock::{Clock, SystemClock};
use crate::stored_publisher::{
    confirmed, confirmed_identity_index, identity_index, merge_projects, normalize,
};
use crate::{Confirmed, Created, PublisherStore, StoreError};

/// The records and the indexes the trait's queries need.
#[derive(Debug, Default)]
struct Tables {
    by_id: HashMap<PublisherId, Publisher>,
    by_lookup_key: HashMap<String, BTreeSet<PublisherId>>,
    by_project: HashMap<ProjectName, BTreeSet<PublisherId>>,
    /// `identity_index` → id, to find an identical registration.
    by_identity: HashMap<String, PublisherId>,
}

impl Tables {
    fn live(&self, id: &PublisherId, now: i64) -> Option<&Publisher> {
        self.by_id.get(id).filter(|p| !p.is_expired(now))
    }

    fn live_in(&self, ids: Option<&BTreeSet<PublisherId>>, now: i64) -> Vec<Publisher> {
        ids.into_iter()
            .flatten()
            .filter_map(|id| self.live(id, now).cloned())
            .collect()
    }

    fn insert(&mut self, publisher: Publisher) {
        let id = publisher.id.clone();
        self.by_lookup_key
            .entry(publisher.spec.lookup_key().as_str().to_owned())
            .or_default()
            .insert(id.clone());
        for project in &publisher.projects {
            self.by_project
                .entry(project.clone())
                .or_default()
                .insert(id.clone());
        }
        self.by_identity
            .insert(identity_index(&publisher), id.clone());
        self.by_id.insert(id, publisher);
    }

    fn remove(&mut self, id: &PublisherId) -> Option<Publisher> {
        let publisher = self.by_id.remove(id)?;
        let lookup_key = publisher.spec.lookup_key();
        remove_from_set(&mut self.by_lookup_key, lookup_key.as_str(), id);
        for project in &publisher.projects {
            remove_from_set(&mut self.by_project, project, id);
        }
        let identity = identity_index(&publisher);
        if self.by_identity.get(&identity) == Some(id) {
            self.by_identity.remove(&identity);
        }
        Some(publisher)
    }

    /// Pending publishers past their expiry disappear, as their Redis keys would.
    fn purge_expired(&mut self, now: i64) {
        let expired: Vec<PublisherId> = self
            .by_id
            .values()
            .filter(|p| p.is_expired(now))
            .map(|p| p.id.clone())
            .collect();
        for id in expired {
            self.remove(&id);
        }
    }
}

fn remove_from_set<K, Q>(index: &mut HashMap<K, BTreeSet<PublisherId>>, key: &Q, id: &PublisherId)
where
    K: std::borrow::Borrow<Q> + std::hash::Hash + Eq,
    Q: std::hash::Hash + Eq + ?Sized,
{
    if let Some(ids) = index.get_mut(key) {
        ids.remove(id);
        if ids.is_empty() {
            index.remove(key);
        }
    }
}

/// [`PublisherStore`] in process memory.
#[derive(Debug)]
pub struct MemoryPublisherStore {
    tables: Mutex<Tables>,
    /// Decides when a pending publisher has expired.
    clock: Arc<dyn Clock>,
}

impl Default for MemoryPublisherStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryPublisherStore {
    /// An empty store on the system clock.
    pub fn new() -> Self {
        Self::with_clock(Arc::new(SystemClock))
    }

    /// An empty store whose pending publishers expire by `clock`.
    pub fn with_clock(clock: Arc<dyn Clock>) -> Self {
        Self {
            tables: Mutex::default(),
            clock,
        }
    }

    fn now(&self) -> i64 {
        self.clock.now()
    }

    fn tables(&self) -> MutexGuard<'_, Tables> {
        // No code path panics while holding the lock half-way through an update, so a
        // poisoned lock still guards consistent tables.
        self.tables
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[async_trait]
impl PublisherStore for MemoryPublisherStore {
    async fn candidates(&self, lookup_key: &str) -> Result<Vec<Publisher>, StoreError> {
        let tables = self.tables();
        Ok(tables.live_in(tables.by_lookup_key.get(lookup_key), self.now()))
    }

    async fn get(&self, id: &PublisherId) -> Result<Option<Publisher>, StoreError> {
        Ok(self.tables().live(id, self.now()).cloned())
    }

    async fn list_by_project(&self, project: &ProjectName) -> Result<Vec<Publisher>, StoreError> {
        let tables = self.tables();
        Ok(tables.live_in(tables.by_project.get(project), self.now()))
    }

    async fn create(&self, publisher: Publisher) -> Result<Created, StoreError> {
        let publisher = normalize(publisher);
        let mut tables = self.tables();
        tables.purge_expired(self.now());
        let existing = tables
            .by_identity
            .get(&identity_index(&publisher))
            .and_then(|id| tables.by_id.get(id))
            .cloned();
        let Some(existing) = existing else {
            tables.insert(publisher.clone());
            return Ok(Created {
                publisher,
                created: true,
            });
        };
        let Some((merged, added)) = merge_projects(&existing, &publisher.projects) else {
            return Ok(Created {
                publisher: existing,
                created: false,
            });
        };
        for project in added {
            tables
                .by_project
                .entry(project)
                .or_default()
                .insert(merged.id.clone());
        }
        tables.by_id.insert(merged.id.clone(), merged.clone());
        Ok(Created {
            publisher: merged,
            created: false,
        })
    }

    async fn delete(&self, id: &PublisherId) -> Result<Option<Publisher>, StoreError> {
        let mut tables = self.tables();
        let now = self.now();
        tables.purge_expired(now);
        Ok(tables.remove(id))
    }

    async fn confirm(&self, id: &PublisherId) -> Result<Confirmed, StoreError> {
        let mut tables = self.tables();
        tables.purge_expired(self.now());
        let Some(current) = tables.by_id.get(id).cloned() else {
            return Ok(Confirmed::NotFound);
        };
        if !current.pending {
            return Ok(Confirmed::Already(current));
        }
        let done = confirmed(&current);
        let pending_identity = identity_index(&current);
        if tables.by_identity.get(&pending_identity) == Some(id) {
            tables.by_identity.remove(&pending_identity);
        }
        // An active publisher with this identity may exist already; it keeps the
        // identity index (both stay valid publishers, creates merge into the older one).
        tables
            .by_identity
            .entry(confirmed_identity_index(&current))
            .or_insert_with(|| id.clone());
        tables.by_id.insert(id.clone(), done.clone());
        Ok(Confirmed::Now(done))
    }
}
