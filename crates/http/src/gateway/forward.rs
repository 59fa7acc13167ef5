//! Streaming an allowed upload to the index.
//!
//! actix-web's request payload is not `Send`, and the HTTP client wants a `Send` body, so
//! a small bounded channel joins them: the handler pumps the client's chunks (through
//! the form scanner and the size cap) into it while the client sends from the other end.
//! Only a few chunks are ever in flight, whatever the file's size.

use std::sync::{Arc, Mutex, PoisonError};

use actix_web::http::StatusCode;
use actix_web::web;
use bytes::Bytes;
use futures::StreamExt as _;
use reqwest::header::{AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, HeaderValue};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use super::credentials;
use super::form::{FormError, FormScanner};
use super::settings::GatewayConfig;

/// Chunks buffered between the client and the index.
const CHANNEL_CHUNKS: usize = 4;

/// Largest index answer relayed (its error pages and JSON are small).
const MAX_ANSWER_BYTES: usize = 1024 * 1024;

/// The index's answer.
#[derive(Debug)]
pub(crate) struct Forwarded {
    pub(crate) status: StatusCode,
    pub(crate) content_type: Option<String>,
    pub(crate) body: Bytes,
}

/// Why forwarding stopped.
#[derive(Debug)]
pub(crate) enum ForwardError {
    /// The rest of the form broke a rule (the upload was cut off).
    Form(FormError),
    /// The client's body could not be read.
    Client(String),
    /// The body grew past the limit (the upload was cut off).
    TooLarge,
    /// The index did not answer in time.
    Timeout,
    /// The index could not be reached, or broke the connection.
    Unreachable(String),
}

/// The index's upload endpoint and the client that talks to it.
pub(crate) struct Upstream {
    url: url::Url,
    authorization: Option<HeaderValue>,
    client: reqwest::Client,
}

impl std::fmt::Debug for Upstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upstream")
            .field("url", &self.url.as_str())
            .finish_non_exhaustive()
    }
}

impl Upstream {
    pub(crate) fn new(config: &GatewayConfig) -> Result<Self, String> {
        let authorization = if config.username.is_empty() {
            None
        } else {
            let mut value = HeaderValue::from_str(&credentials::basic(
                &config.username,
                &config.password,
            ))
            .map_err(|_| {
                "gateway.upstream_username: the credentials hold characters a header cannot carry"
                    .to_owned()
            })?;
            value.set_sensitive(true);
            Some(value)
        };
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(std::time::Duration::from_secs(10)))
            // Redirects would re-send (or drop) the body and the credentials elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("trustmint-gateway/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|error| format!("gateway: cannot build the HTTP client: {error}"))?;
        Ok(Self {
            url: config.upstream.clone(),
            authorization,
            client,
        })
    }

    /// Sends `head` (already read) and the rest of `payload` to the index and returns
    /// its answer. `received` bytes were read so far, of at most `limit`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn forward(
        &self,
        content_type: &str,
        declared_length: Option<u64>,
        head: Vec<Bytes>,
        payload: web::Payload,
        scanner: FormScanner,
        received: u64,
        limit: u64,
    ) -> Result<Forwarded, ForwardError> {
        let (sender, receiver) = mpsc::channel::<Result<Bytes, std::io::Error>>(CHANNEL_CHUNKS);
        let refusal: Arc<Mutex<Option<ForwardError>>> = Arc::default();
        let mut request = self
            .client
            .post(self.url.clone())
            .header(CONTENT_TYPE, content_type)
            .body(reqwest::Body::wrap_stream(ReceiverStream::new(receiver)));
        if let Some(length) = declared_length {
            request = request.header(CONTENT_LENGTH, length);
        }
        if let Some(authorization) = &self.authorization {
            request = request.header(AUTHORIZATION, authorization.clone());
        }
        let pump = pump(
            head,
            payload,
            scanner,
            received,
            limit,
            sender,
            refusal.clone(),
        );
        let send = async {
            let response = request.send().await?;
            let status = response.status();
            let content_type = response
                .headers()
                .get(CONTENT_TYPE)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned);
            let body = read_answer(response).await?;
            Ok::<_, reqwest::Error>(Forwarded {
                status: StatusCode::from_u16(status.as_u16()).unwrap_or(StatusCode::BAD_GATEWAY),
                content_type,
                body,
            })
        };
        let ((), sent) = futures::join!(pump, send);
        // A refusal of ours explains a failed send (we cut the body off) and wins over
        // whatever the index made of the truncated upload.
        if let Some(refusal) = refusal
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            return Err(refusal);
        }
        sent.map_err(|error| {
            if error.is_timeout() {
                ForwardError::Timeout
            } else {
                ForwardError::Unreachable(error_chain(&error))
            }
        })
    }
}

/// Feeds the channel: first the chunks read before the token check, then the rest of the
/// client's body, each scanned and counted. A broken rule sends an error instead, which
/// aborts the request to the index mid-body, so the index never completes the upload.
async fn pump(
    head: Vec<Bytes>,
    mut payload: web::Payload,
    mut scanner: FormScanner,
    mut received: u64,
    limit: u64,
    sender: mpsc::Sender<Result<Bytes, std::io::Error>>,
    refusal: Arc<Mutex<Option<ForwardError>>>,
) {
    let refuse = |error: ForwardError| {
        *refusal.lock().unwrap_or_else(PoisonError::into_inner) = Some(error);
        std::io::Error::other("upload refused by the gateway")
    };
    for chunk in head {
        if sender.send(Ok(chunk)).await.is_err() {
            return;
        }
    }
    loop {
        let next = match payload.next().await {
            Some(Ok(chunk)) => {
                received += chunk.len() as u64;
                if received > limit {
                    Err(refuse(ForwardError::TooLarge))
                } else if let Err(error) = scanner.feed(&chunk) {
                    Err(refuse(ForwardError::Form(error)))
                } else {
                    Ok(chunk)
                }
            }
            Some(Err(error)) => Err(refuse(ForwardError::Client(format!(
                "could not read the upload: {error}"
            )))),
            None => {
                if let Err(error) = scanner.finish() {
                    let _ = sender.send(Err(refuse(ForwardError::Form(error)))).await;
                }
                return;
            }
        };
        let stop = next.is_err();
        if sender.send(next).await.is_err() || stop {
            return;
        }
    }
}

async fn read_answer(mut response: reqwest::Response) -> Result<Bytes, reqwest::Error> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        let room = MAX_ANSWER_BYTES.saturating_sub(body.len());
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
    }
    Ok(Bytes::from(body))
}

/// The error and its causes on one line (reqwest's own text omits the cause).
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
