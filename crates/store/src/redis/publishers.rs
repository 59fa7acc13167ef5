//! API-registered publishers in Redis (key layout in `keys.rs`, scripts in
//! `publisher_scripts.rs`).

use std::sync::Arc;

use async_trait::async_trait;
use redis::ScriptInvocation;
use trustmint_publishers::{ProjectName, Publisher, PublisherId};

use super::connection::RedisHandle;
use super::keys::KeyLayout;
use super::publisher_scripts::{CasOutcome, PublisherScripts};
use crate::clock::Clock;
use crate::stored_publisher::{
    confirmed, confirmed_identity_index, identity_index, merge_projects, normalize,
};
use crate::{Confirmed, Created, PublisherGeneration, PublisherStore, StoreError};

/// How often a write re-reads and retries after losing a compare-and-set race before it
/// gives up with a `StoreError`. Races need concurrent writes to one publisher, which are
/// rare (administrative API); a handful of rounds is plenty.
const MAX_CAS_ROUNDS: usize = 8;

/// [`PublisherStore`] on Redis.
#[derive(Clone, Debug)]
pub struct RedisPublisherStore {
    redis: RedisHandle,
    keys: KeyLayout,
    scripts: PublisherScripts,
    /// Decides, on read, whether a pending publisher has expired (its key's own TTL
    /// follows Redis's clock and removes it eventually).
    clock: Arc<dyn Clock>,
}

impl RedisPublisherStore {
    pub(crate) fn new(redis: RedisHandle, keys: KeyLayout, clock: Arc<dyn Clock>) -> Self {
        Self {
            redis,
            keys,
            scripts: PublisherScripts::new(),
            clock,
        }
    }

    /// The live publishers of an index set, sorted by id (Redis sets are unordered).
    async fn read_index(
        &self,
        op: &'static str,
        set_key: String,
    ) -> Result<Vec<Publisher>, StoreError> {
        let mut invocation = self.scripts.read_index.key(set_key);
        invocation.arg(self.keys.publisher_prefix());
        let records: Vec<String> = self.redis.invoke(op, &invocation).await?;
        let now = self.clock.now();
        let mut publishers = records
            .iter()
            .map(|json| decode(op, json))
            .filter(|decoded| decoded.as_ref().map_or(true, |p| !p.is_expired(now)))
            .collect::<Result<Vec<_>, _>>()?;
        publishers.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(publishers)
    }

    /// The generation key and a fresh value for it, the last arguments of every write
    /// script.
    fn next_generation(&self) -> (String, String) {
        (
            self.keys.publisher_generation(),
            PublisherGeneration::fresh().into_string(),
        )
    }

    async fn read_record(
        &self,
        op: &'static str,
        id: &PublisherId,
    ) -> Result<Option<String>, StoreError> {
        let mut cmd = redis::cmd("GET");
        cmd.arg(self.keys.publisher(id));
        self.redis.query(op, &cmd).await
    }

    async fn cas(
        &self,
        op: &'static str,
        invocation: &ScriptInvocation<'_>,
    ) -> Result<CasOutcome, StoreError> {
        let reply: (i64, String) = self.redis.invoke(op, invocation).await?;
        CasOutcome::from_reply(op, reply)
    }

    /// Adds `added` projects to the existing publisher (read as `existing_json`),
    /// retrying on races. `None` when the existing record disappeared meanwhile.
    async fn merge_into(
        &self,
        mut existing_json: String,
        added: &[ProjectName],
    ) -> Result<Option<Publisher>, StoreError> {
        const OP: &str = "publisher_create";
        for _ in 0..MAX_CAS_ROUNDS {
            let existing = decode(OP, &existing_json)?;
            let Some((merged, new_projects)) = merge_projects(&existing, added) else {
                return Ok(Some(existing));
            };
            let merged_json = encode(OP, &merged)?;
            let mut invocation = self.scripts.merge.key(self.keys.publisher(&merged.id));
            for project in &new_projects {
                invocation.key(self.keys.project(project));
            }
            let (generation_key, generation) = self.next_generation();
            invocation
                .arg(&existing_json)
                .arg(&merged_json)
                .arg(merged.id.as_str())
                .arg(generation_key)
                .arg(generation);
            match self.cas(OP, &invocation).await? {
                CasOutcome::Done(_) => return Ok(Some(merged)),
                CasOutcome::Gone => return Ok(None),
                CasOutcome::Conflict(current) => existing_json = current,
            }
        }
        Err(contended(OP))
    }
}

fn encode(op: &'static str, publisher: &Publisher) -> Result<String, StoreError> {
    serde_json::to_string(publisher)
        .map_err(|e| StoreError::new(op, format!("encoding a publisher: {e}")))
}

fn decode(op: &'static str, json: &str) -> Result<Publisher, StoreError> {
    serde_json::from_str(json)
        .map_err(|e| StoreError::new(op, format!("unreadable publisher record: {e}")))
}

fn contended(op: &'static str) -> StoreError {
    StoreError::new(
        op,
        format!("the publisher kept changing; gave up after {MAX_CAS_ROUNDS} attempts"),
    )
}

#[async_trait]
impl PublisherStore for RedisPublisherStore {
    async fn candidates(&self, lookup_key: &str) -> Result<Vec<Publisher>, StoreError> {
        self.read_index("publisher_candidates", self.keys.lookup(lookup_key))
            .await
    }

    async fn candidates_with_generation(
        &self,
        lookup_key: &str,
    ) -> Result<(Vec<Publisher>, Option<PublisherGeneration>), StoreError> {
        const OP: &str = "publisher_candidates";
        if !self.redis.is_standalone() {
            // Only the standalone commit checks generations (one script over all of an
            // exchange's keys); a Cluster exchange reads its candidates every time.
            return Ok((self.candidates(lookup_key).await?, None));
        }
        let mut invocation = self
            .scripts
            .read_candidates
            .key(self.keys.lookup(lookup_key));
        invocation
            .arg(self.keys.publisher_prefix())
            .arg(self.keys.publisher_generation());
        let mut reply: Vec<String> = self.redis.invoke(OP, &invocation).await?;
        if reply.is_empty() {
            return Err(StoreError::new(OP, "the script returned no generation"));
        }
        let generation = PublisherGeneration::from_stored(reply.remove(0));
        let now = self.clock.now();
        let mut publishers = reply
            .iter()
            .map(|json| decode(OP, json))
            .filter(|decoded| decoded.as_ref().map_or(true, |p| !p.is_expired(now)))
            .collect::<Result<Vec<_>, _>>()?;
        publishers.sort_by(|a, b| a.id.cmp(&b.id));
        Ok((publishers, Some(generation)))
    }

    async fn get(&self, id: &PublisherId) -> Result<Option<Publisher>, StoreError> {
        const OP: &str = "publisher_get";
        let Some(json) = self.read_record(OP, id).await? else {
            return Ok(None);
        };
        let publisher = decode(OP, &json)?;
        Ok((!publisher.is_expired(self.clock.now())).then_some(publisher))
    }

    async fn list_by_project(&self, project: &ProjectName) -> Result<Vec<Publisher>, StoreError> {
        self.read_index("publisher_list", self.keys.project(project))
            .await
    }

    async fn create(&self, publisher: Publisher) -> Result<Created, StoreError> {
        const OP: &str = "publisher_create";
        let publisher = normalize(publisher);
        let json = encode(OP, &publisher)?;
        let expiry = publisher
            .expires_at
            .map(|at| at.to_string())
            .unwrap_or_default();
        for _ in 0..MAX_CAS_ROUNDS {
            let mut invocation = self
                .scripts
                .create
                .key(self.keys.identity(&identity_index(&publisher)));
            invocation
                .key(self.keys.publisher(&publisher.id))
                .key(self.keys.lookup(publisher.spec.lookup_key().as_str()));
            for project in &publisher.projects {
                invocation.key(self.keys.project(project));
            }
            let (generation_key, generation) = self.next_generation();
            invocation
                .arg(publisher.id.as_str())
                .arg(&json)
                .arg(&expiry)
                .arg(self.keys.publisher_prefix())
                .arg(generation_key)
                .arg(generation);
            let (created, stored): (i64, String) = self.redis.invoke(OP, &invocation).await?;
            if created == 1 {
                return Ok(Created {
                    publisher,
                    created: true,
                });
            }
            if let Some(existing) = self.merge_into(stored, &publisher.projects).await? {
                return Ok(Created {
                    publisher: existing,
                    created: false,
                });
            }
            // The identical publisher vanished between the two scripts: create afresh.
        }
        Err(contended(OP))
    }

    async fn delete(&self, id: &PublisherId) -> Result<Option<Publisher>, StoreError> {
        const OP: &str = "publisher_delete";
        let Some(mut json) = self.read_record(OP, id).await? else {
            return Ok(None);
        };
        for _ in 0..MAX_CAS_ROUNDS {
            let publisher = decode(OP, &json)?;
            let mut invocation = self.scripts.delete.key(self.keys.publisher(id));
            invocation
                .key(self.keys.lookup(publisher.spec.lookup_key().as_str()))
                .key(self.keys.identity(&identity_index(&publisher)));
            for project in &publisher.projects {
                invocation.key(self.keys.project(project));
            }
            let (generation_key, generation) = self.next_generation();
            invocation
                .arg(&json)
                .arg(id.as_str())
                .arg(generation_key)
                .arg(generation);
            match self.cas(OP, &invocation).await? {
                CasOutcome::Done(_) => return Ok(Some(publisher)),
                CasOutcome::Gone => return Ok(None),
                CasOutcome::Conflict(current) => json = current,
            }
        }
        Err(contended(OP))
    }

    async fn confirm(&self, id: &PublisherId) -> Result<Confirmed, StoreError> {
        const OP: &str = "publisher_confirm";
        let Some(mut json) = self.read_record(OP, id).await? else {
            return Ok(Confirmed::NotFound);
        };
        for _ in 0..MAX_CAS_ROUNDS {
            let current = decode(OP, &json)?;
            if !current.pending {
                return Ok(Confirmed::Already(current));
            }
            if current.is_expired(self.clock.now()) {
                return Ok(Confirmed::NotFound);
            }
            let done = confirmed(&current);
            let mut invocation = self.scripts.confirm.key(self.keys.publisher(id));
            invocation
                .key(self.keys.identity(&identity_index(&current)))
                .key(self.keys.identity(&confirmed_identity_index(&current)))
                .arg(&json)
                .arg(encode(OP, &done)?)
                .arg(id.as_str())
                .arg(self.keys.publisher_prefix());
            let (generation_key, generation) = self.next_generation();
            invocation.arg(generation_key).arg(generation);
            match self.cas(OP, &invocation).await? {
                CasOutcome::Done(_) => return Ok(Confirmed::Now(done)),
                CasOutcome::Gone => return Ok(Confirmed::NotFound),
                CasOutcome::Conflict(latest) => json = latest,
            }
        }
        Err(contended(OP))
    }
}
