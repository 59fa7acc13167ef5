//! The I/O seam of the keystore: fetching discovery documents and JWKS over HTTP.

use std::time::Duration;

use async_trait::async_trait;

use crate::keystore::KeyStoreSettings;

/// Fetches the body of a discovery document or JWKS. The keystore's only I/O, behind a
/// trait so tests can count and script fetches.
#[async_trait]
pub trait JwksFetcher: Send + Sync + std::fmt::Debug {
    /// GETs `url` and returns the body of a 2xx response.
    async fn fetch(&self, url: &str) -> Result<Vec<u8>, FetchError>;
}

/// Why a fetch failed. Displays without any response body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// No complete response within the timeout.
    #[error("timed out")]
    Timeout,
    /// The server answered with a non-2xx status (redirects to another host included).
    #[error("HTTP status {0}")]
    Status(u16),
    /// The body is larger than the cap.
    #[error("response larger than {limit} bytes")]
    TooLarge {
        /// The cap, in bytes.
        limit: usize,
    },
    /// Connection, TLS or protocol failure.
    #[error("transport error: {0}")]
    Transport(String),
}

/// The production [`JwksFetcher`]: reqwest with native TLS, a whole-request timeout,
/// a body cap enforced while streaming (it stops reading past the cap), non-2xx as
/// errors, and redirects followed only within the same scheme, host and port.
#[derive(Debug, Clone)]
pub struct HttpFetcher {
    client: reqwest::Client,
    max_response_bytes: usize,
}

/// Most redirects followed (same origin only).
const MAX_REDIRECTS: usize = 3;

// === impl HttpFetcher ===

impl HttpFetcher {
    /// Default body cap: 256 KiB (GitHub's JWKS is ~5 KiB, Google's ~1 KiB).
    pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 256 * 1024;
    /// Default whole-request timeout.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

    /// A fetcher with the keystore's `fetch_timeout` and `max_response_bytes`.
    /// Fails only if the TLS backend cannot be initialised.
    pub fn new(settings: &KeyStoreSettings) -> Result<Self, FetchError> {
        Self::with_limits(settings.fetch_timeout, settings.max_response_bytes)
    }

    /// A fetcher with the given whole-request timeout and body cap.
    pub fn with_limits(timeout: Duration, max_response_bytes: usize) -> Result<Self, FetchError> {
        let redirects = reqwest::redirect::Policy::custom(|attempt| {
            let same_origin = attempt
                .previous()
                .first()
                .is_some_and(|first| first.origin() == attempt.url().origin());
            if same_origin && attempt.previous().len() <= MAX_REDIRECTS {
                attempt.follow()
            } else {
                // Stopping hands the 3xx back, which `fetch` reports as a status error.
                attempt.stop()
            }
        });
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(redirects)
            .user_agent(concat!("trustmint/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|error| FetchError::Transport(error.to_string()))?;
        Ok(Self {
            client,
            max_response_bytes,
        })
    }
}

#[async_trait]
impl JwksFetcher for HttpFetcher {
    async fn fetch(&self, url: &str) -> Result<Vec<u8>, FetchError> {
        let mut response = self
            .client
            .get(url)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(map_reqwest_error)?;
        let status = response.status();
        if !status.is_success() {
            return Err(FetchError::Status(status.as_u16()));
        }
        let limit = self.max_response_bytes;
        if response
            .content_length()
            .is_some_and(|length| length > limit as u64)
        {
            return Err(FetchError::TooLarge { limit });
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(map_reqwest_error)? {
            if body.len() + chunk.len() > limit {
                return Err(FetchError::TooLarge { limit });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

fn map_reqwest_error(error: reqwest::Error) -> FetchError {
    if error.is_timeout() {
        FetchError::Timeout
    } else {
        // Display only: reqwest errors may carry the URL, never a body or credentials.
        FetchError::Transport(error.to_string())
    }
}
