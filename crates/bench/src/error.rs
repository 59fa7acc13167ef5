//! Why a benchmark run stopped. A failed *request* is not an error: it is counted and
//! reported; these are the failures that make the numbers meaningless.

/// A benchmark run that cannot continue.
#[derive(Debug, thiserror::Error)]
pub(crate) enum BenchError {
    /// The service child process could not be started or did not come up.
    #[error("service process: {0}")]
    Service(String),
    /// The service settings were rejected.
    #[error("service settings: {0}")]
    Settings(String),
    /// A setup step (publisher registration, token minting for verify) failed.
    #[error("setup: {0}")]
    Setup(String),
    /// Talking to Redis for the memory probe failed.
    #[error("redis probe: {0}")]
    Redis(#[from] redis::RedisError),
    /// Reading `/proc` or writing the results failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being read or written.
        what: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// The run finished but its verdict is a failure (`--smoke`, `--check-targets`).
    #[error("{0}")]
    Verdict(String),
    /// Encoding the results as JSON failed.
    #[error("results JSON: {0}")]
    Json(#[from] serde_json::Error),
}

impl BenchError {
    /// An I/O failure while doing `what`.
    pub(crate) fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> BenchError {
        let what = what.into();
        move |source| BenchError::Io { what, source }
    }
}
