//! Undoing, without making the client wait, what a failed exchange may have written:
//! the abandon of a commit whose outcome is unknown (`commit.rs`) and the release of a
//! replay claim (`replay_release.rs`). The client has already waited one `timeout_ms`;
//! the store that just failed would most likely make it wait another.
//!
//! Each undo is remembered by replay key while it is retried: a retry of the same JWT
//! on this replica that finds it claimed runs the pending undo itself first, so it never
//! loses to a background task that has not reached the store yet.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use trustmint_store::StoreError;
use trustmint_telemetry::Metrics;

/// Attempts, and the pauses between them (doubling): about a minute in all, beyond
/// which a Redis outage is an incident anyway.
pub(crate) const UNDO_ATTEMPTS: usize = 40;
const UNDO_FIRST_PAUSE: Duration = Duration::from_millis(50);
const UNDO_MAX_PAUSE: Duration = Duration::from_secs(2);

/// What an undo needs to run again; it undoes one exchange's claim.
pub(crate) trait PendingUndo: Clone + Send + 'static {
    /// The claim owner (unique per exchange) whose writes the undo removes.
    fn owner(&self) -> &str;
}

/// The undos of this replica still being retried, by replay key. Clones share one map.
#[derive(Debug)]
pub(crate) struct PendingUndos<U>(Arc<Mutex<HashMap<String, U>>>);

impl<U> Default for PendingUndos<U> {
    fn default() -> Self {
        Self(Arc::default())
    }
}

impl<U> Clone for PendingUndos<U> {
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0))
    }
}

impl<U: PendingUndo> PendingUndos<U> {
    pub(crate) fn insert(&self, replay_key: &str, undo: U) {
        self.lock().insert(replay_key.to_owned(), undo);
    }

    /// The pending undo of `replay_key`, taken out so no one else runs it.
    pub(crate) fn take(&self, replay_key: &str) -> Option<U> {
        self.lock().remove(replay_key)
    }

    /// Forgets `replay_key`'s entry if it is still `owner`'s.
    fn settle(&self, replay_key: &str, owner: &str) {
        let mut pending = self.lock();
        if pending.get(replay_key).is_some_and(|u| u.owner() == owner) {
            pending.remove(replay_key);
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, U>> {
        // A panic while holding this lock cannot leave the map inconsistent.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Remembers `undo` under `replay_key` and runs `run(undo)` in the background until
    /// it succeeds or [`UNDO_ATTEMPTS`] have failed (each failure counted under `op` in
    /// `trustmint_store_errors_total`); then forgets it either way.
    pub(crate) fn run_in_background<F, Fut>(
        &self,
        metrics: Arc<Metrics>,
        op: &'static str,
        replay_key: &str,
        undo: U,
        mut run: F,
    ) where
        F: FnMut(U) -> Fut + Send + 'static,
        Fut: Future<Output = Result<(), StoreError>> + Send,
    {
        self.insert(replay_key, undo.clone());
        let (pending, key) = (self.clone(), replay_key.to_owned());
        tokio::spawn(async move {
            let mut pause = UNDO_FIRST_PAUSE;
            for _ in 0..UNDO_ATTEMPTS {
                match run(undo.clone()).await {
                    Ok(()) => {
                        pending.settle(&key, undo.owner());
                        return;
                    }
                    Err(error) => {
                        metrics.count_store_error(op);
                        tracing::warn!(op, %error, "could not undo a failed exchange's writes yet; retrying");
                    }
                }
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(UNDO_MAX_PAUSE);
            }
            pending.settle(&key, undo.owner());
            tracing::warn!(
                op,
                "gave up undoing a failed exchange's writes: its JWT may stay burnt until its replay record expires"
            );
        });
    }
}

impl PendingUndo for String {
    fn owner(&self) -> &str {
        self
    }
}
