//! Releasing the replay claim of an exchange that failed, on the individual-call path
//! (Redis Cluster, the memory store; standalone Redis abandons its one commit instead,
//! `commit.rs`), without making the client wait for it.
//!
//! The failed call already cost the client one `timeout_ms`; on a Cluster the shard
//! that timed out is usually the one holding the claim, so an awaited release would cost
//! it a second. The release runs in the background instead, retried until the store
//! answers; and a retry of the same JWT on this replica that finds it claimed releases
//! the earlier claim itself first, so it never loses to a background task that has not
//! reached the store yet.

use std::sync::Arc;

use trustmint_claims::ReplayKey;

use crate::background_undo::PendingUndos;
use crate::{Exchange, ExchangeError};

/// Claims of this replica whose release has not reached the store yet: replay key →
/// the owner of the claim to release.
pub(crate) type PendingReleases = PendingUndos<String>;

impl Exchange {
    /// Releases `owner`'s claim on `key` in the background (see the module comment),
    /// retrying with doubling pauses; gives up after
    /// [`UNDO_ATTEMPTS`](crate::background_undo::UNDO_ATTEMPTS), leaving the
    /// JWT claimed until its replay record expires.
    pub(crate) fn release_in_background(&self, key: &ReplayKey, owner: &str) {
        let replay = Arc::clone(&self.backends.replay);
        let key_text = key.as_str().to_owned();
        self.pending_releases.run_in_background(
            Arc::clone(&self.metrics),
            "replay_release",
            key.as_str(),
            owner.to_owned(),
            move |owner| {
                let (replay, key) = (Arc::clone(&replay), key_text.clone());
                async move { replay.release(&key, &owner).await }
            },
        );
    }

    /// For a claim that found `key` taken: releases this replica's earlier claim of the
    /// same JWT if its release is still pending, and returns whether it did (then the
    /// caller claims again). `Ok(false)`: a real replay.
    pub(crate) async fn release_pending_claim(
        &self,
        key: &ReplayKey,
    ) -> Result<bool, ExchangeError> {
        let Some(earlier) = self.pending_releases.take(key.as_str()) else {
            return Ok(false);
        };
        let released = self
            .store_call(
                "replay_release",
                self.backends.replay.release(key.as_str(), &earlier),
            )
            .await;
        if let Err(error) = released {
            self.pending_releases.insert(key.as_str(), earlier);
            return Err(error);
        }
        Ok(true)
    }
}
