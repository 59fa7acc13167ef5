//! A running HTTP adapter and the requests the tests send it.

use std::net::SocketAddr;

use actix_web::dev::ServerHandle;
use serde_json::Value;
use trustmint_http::{HttpState, bind};
use trustmint_testkit::memory_exchange::{ExchangeBuilder, MemoryExchange};

/// The adapter on `127.0.0.1:<free port>` and the exchange behind it.
pub struct TestServer {
    pub url: String,
    pub addr: SocketAddr,
    pub fx: MemoryExchange,
    pub client: reqwest::Client,
    handle: ServerHandle,
}

/// An HTTP answer: status, `Retry-After`, `Cache-Control`, and the body as JSON (or
/// `Value::String` of the text when it is not JSON).
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub retry_after: Option<String>,
    pub cache_control: Option<String>,
    pub body: Value,
}

impl TestServer {
    /// The default exchange (see `ExchangeBuilder`) behind the default state.
    pub async fn start() -> Self {
        Self::with(ExchangeBuilder::start().await, |_| {}).await
    }

    /// `builder`'s exchange behind a state `adjust` tuned.
    pub async fn with(builder: ExchangeBuilder, adjust: impl FnOnce(&mut HttpState)) -> Self {
        let fx = builder.build();
        let mut state = HttpState::new(fx.exchange.clone(), Vec::new());
        adjust(&mut state);
        let (server, addr) =
            bind(state, "127.0.0.1:0".parse().expect("an address"), 1).expect("binds");
        let handle = server.handle();
        tokio::spawn(server);
        Self {
            url: format!("http://{addr}"),
            addr,
            fx,
            client: reqwest::Client::new(),
            handle,
        }
    }

    /// POSTs `body` (as JSON content) to `path`, with `headers`.
    pub async fn post_with(
        &self,
        path: &str,
        body: impl Into<reqwest::Body>,
        headers: &[(&str, &str)],
    ) -> Answer {
        let mut request = self
            .client
            .post(format!("{}{path}", self.url))
            .header("content-type", "application/json")
            .body(body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        answer(request.send().await.expect("request sent")).await
    }

    /// POSTs `body` to `path`.
    pub async fn post(&self, path: &str, body: impl Into<reqwest::Body>) -> Answer {
        self.post_with(path, body, &[]).await
    }

    /// POSTs `{"token": jwt}` to `/_/oidc/mint-token`.
    pub async fn mint(&self, jwt: &str) -> Answer {
        self.post("/_/oidc/mint-token", token_body(jwt)).await
    }

    /// GETs `path`.
    pub async fn get(&self, path: &str) -> Answer {
        let response = self
            .client
            .get(format!("{}{path}", self.url))
            .send()
            .await
            .expect("request sent");
        answer(response).await
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let handle = self.handle.clone();
        tokio::spawn(async move { handle.stop(false).await });
    }
}

/// `{"token": "<token>"}`.
pub fn token_body(token: &str) -> String {
    serde_json::json!({ "token": token }).to_string()
}

async fn answer(response: reqwest::Response) -> Answer {
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().expect("an ASCII header").to_owned())
    };
    let status = response.status().as_u16();
    let retry_after = header("retry-after");
    let cache_control = header("cache-control");
    let text = response.text().await.expect("a body");
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Answer {
        status,
        retry_after,
        cache_control,
        body,
    }
}

/// Asserts PyPI's error body with exactly one error, and the status.
#[track_caller]
pub fn assert_token_error(answer: &Answer, status: u16, code: &str, description: &str) {
    assert_eq!(answer.status, status, "status of {answer:?}");
    assert_eq!(
        answer.body,
        serde_json::json!({
            "message": "Token request failed",
            "errors": [{ "code": code, "description": description }],
        }),
        "body of {answer:?}"
    );
}
