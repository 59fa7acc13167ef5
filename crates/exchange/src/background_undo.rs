//! Undoing, without making the client wait, what a failed exchange may have written:
//! the abandon of a commit whose outcome is unknown (`commit.rs`) and the release of a
//! replay claim (`replay_release.rs`). The client has already waited one `timeout_ms`;
//! the store that just failed would most likely make it wait another.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use trustmint_store::StoreError;
use trustmint_telemetry::Metrics;

/// Attempts, and the pauses between them (doubling): about a minute in all, beyond
/// which a Redis outage is an incident anyway.
pub(crate) const UNDO_ATTEMPTS: usize = 40;
const UNDO_FIRST_PAUSE: Duration = Duration::from_millis(50);
const UNDO_MAX_PAUSE: Duration = Duration::from_secs(2);

/// Runs `undo` until it succeeds or [`UNDO_ATTEMPTS`] have failed (each failure counted
/// under `op` in `trustmint_store_errors_total`), then `settle`s either way.
pub(crate) fn undo_in_background<F, Fut>(
    metrics: Arc<Metrics>,
    op: &'static str,
    mut undo: F,
    settle: impl FnOnce() + Send + 'static,
) where
    F: FnMut() -> Fut + Send + 'static,
    Fut: Future<Output = Result<(), StoreError>> + Send,
{
    tokio::spawn(async move {
        let mut pause = UNDO_FIRST_PAUSE;
        for _ in 0..UNDO_ATTEMPTS {
            match undo().await {
                Ok(()) => {
                    settle();
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
        settle();
        tracing::warn!(
            op,
            "gave up undoing a failed exchange's writes: its JWT may stay burnt until its replay record expires"
        );
    });
}
