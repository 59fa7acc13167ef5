//! The shutdown drain: once SIGTERM arrives the service reports not-ready (HTTP
//! `/readyz`, gRPC health) while it keeps serving, so load balancers route new
//! requests elsewhere before the listeners close.

use tokio::sync::watch;

/// Whether this replica is draining. Starts `false`; only ever goes to `true`.
#[derive(Debug)]
pub(crate) struct Draining(watch::Sender<bool>);

impl Draining {
    pub(crate) fn new() -> Self {
        Self(watch::Sender::new(false))
    }

    pub(crate) fn start(&self) {
        self.0.send_replace(true);
    }

    pub(crate) fn is_draining(&self) -> bool {
        *self.0.borrow()
    }

    pub(crate) fn subscribe(&self) -> watch::Receiver<bool> {
        self.0.subscribe()
    }
}
