//! Counting panics on the service's threads (tokio workers, actix workers) of an
//! in-process app, for the fault tests: a panic there is a bug even when the request it
//! served was answered. The test's own thread is not counted. Installs a process-wide
//! panic hook, so only standalone test binaries (one process per fault file) use it.

use std::sync::Once;
use std::sync::atomic::{AtomicUsize, Ordering};

static SERVICE_PANICS: AtomicUsize = AtomicUsize::new(0);

/// Starts counting (once per process; the previous hook still runs).
pub fn count_service_panics() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let thread = std::thread::current();
            let name = thread.name().unwrap_or("");
            if name.starts_with("tokio-runtime-worker") || name.starts_with("actix") {
                SERVICE_PANICS.fetch_add(1, Ordering::SeqCst);
            }
            previous(info);
        }));
    });
}

/// Panics counted on service threads so far.
pub fn service_panics() -> usize {
    SERVICE_PANICS.load(Ordering::SeqCst)
}
