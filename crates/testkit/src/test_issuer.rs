//! [`TestIssuer`]: a local OIDC issuer on `127.0.0.1:<random port>` for tests.

use std::net::TcpListener;
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::web;
use serde_json::Value;

use crate::keys::{KeyAlgorithm, SignOptions};
use crate::server::{IssuerState, KeyRing, configure_issuer_routes, start_server};

/// How to start a [`TestIssuer`]. `Default`: RS256 key `key-1`, issuer at the server
/// root, discovery served.
#[derive(Debug, Clone)]
pub struct IssuerOptions {
    /// Algorithm of the first key (and of rotated ones).
    pub algorithm: KeyAlgorithm,
    /// Path appended to `http://127.0.0.1:PORT` to form the issuer URL, e.g.
    /// `"/_services/token"` (GHES) or `"/my-enterprise"` (a GitHub enterprise slug).
    /// Discovery is served under it; the JWKS stays at `/.well-known/jwks`.
    pub path: String,
    /// Whether `/.well-known/openid-configuration` is served (else 404: configure
    /// `jwks_uri` explicitly).
    pub serve_discovery: bool,
    /// Kid of the first key.
    pub kid: String,
}

impl Default for IssuerOptions {
    fn default() -> Self {
        Self {
            algorithm: KeyAlgorithm::RS256,
            path: String::new(),
            serve_discovery: true,
            kid: "key-1".to_owned(),
        }
    }
}

/// A running local OIDC issuer (discovery + JWKS + key rotation + failure injection).
/// Stops when dropped. Must be started inside a tokio runtime.
///
/// Panics (it is test support) if a key cannot be generated or the port cannot be bound.
#[derive(Debug)]
pub struct TestIssuer {
    state: web::Data<IssuerState>,
    url: String,
    handle: ServerHandle,
}

// === impl TestIssuer ===

impl TestIssuer {
    /// Starts with [`IssuerOptions::default`]: RS256 key `key-1`, issuer
    /// `http://127.0.0.1:PORT`.
    pub async fn start() -> TestIssuer {
        Self::start_with(IssuerOptions::default()).await
    }

    /// Starts with the given options.
    pub async fn start_with(options: IssuerOptions) -> TestIssuer {
        let listener =
            TcpListener::bind("127.0.0.1:0").expect("bind a loopback port for the test issuer");
        let base_url = format!("http://{}", listener.local_addr().expect("local address"));
        let ring = KeyRing::new(options.algorithm, &options.kid, "key-")
            .expect("generate the test issuer key");
        let state = web::Data::new(IssuerState::new(
            base_url.clone(),
            ring,
            options.serve_discovery,
        ));
        let paths = vec![options.path.clone()];
        let (server, handle, _) = start_server(listener, state.clone(), move |config| {
            configure_issuer_routes(config, &paths);
        })
        .expect("start the test issuer");
        tokio::spawn(server);
        TestIssuer {
            state,
            url: format!("{base_url}{}", options.path),
            handle,
        }
    }

    /// The issuer URL (`iss`), e.g. `http://127.0.0.1:41234` or
    /// `http://127.0.0.1:41234/_services/token`.
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// The JWKS URL (`http://127.0.0.1:PORT/.well-known/jwks`).
    pub fn jwks_uri(&self) -> String {
        self.state.jwks_uri()
    }

    /// Kid of the key `sign` uses.
    pub fn current_kid(&self) -> String {
        self.state.current_kid()
    }

    /// Signs `claims` with the current key and kid.
    pub fn sign(&self, claims: &Value) -> String {
        self.sign_with(SignOptions::default(), claims)
    }

    /// Signs with custom header / signature knobs (attack tests).
    pub fn sign_with(&self, options: SignOptions, claims: &Value) -> String {
        self.state
            .sign(&options, claims)
            .expect("sign a test token")
    }

    /// Publishes a new key (old ones stay published) and makes it current; returns its
    /// kid (`key-2`, `key-3`, …).
    pub fn rotate_key(&self) -> String {
        self.state.rotate(true).expect("generate a rotated key")
    }

    /// Like [`rotate_key`](Self::rotate_key) but unpublishes every older key.
    pub fn rotate_key_dropping_old(&self) -> String {
        self.state.rotate(false).expect("generate a rotated key")
    }

    /// Publishes an extra key of `algorithm` without making it current; sign with it via
    /// [`SignOptions::signed_by`].
    pub fn add_key(&self, algorithm: KeyAlgorithm) -> String {
        self.state
            .add_key(algorithm)
            .expect("generate an extra key")
    }

    /// Unpublishes `kid` (never the current key); returns whether it was published.
    pub fn retire_key(&self, kid: &str) -> bool {
        self.state.retire(kid)
    }

    /// The current key's public key as PEM (the HMAC secret of a key-confusion attack).
    pub fn public_key_pem(&self) -> Vec<u8> {
        self.state.public_key_pem()
    }

    /// How many times the JWKS was requested.
    pub fn jwks_fetch_count(&self) -> usize {
        self.state.jwks_fetches()
    }

    /// How many times a discovery document was requested.
    pub fn discovery_fetch_count(&self) -> usize {
        self.state.discovery_fetches()
    }

    /// While `true`, discovery and JWKS answer 500.
    pub fn set_failing(&self, failing: bool) {
        self.state.set_failing(failing);
    }

    /// Delays every discovery/JWKS answer (timeout tests).
    pub fn set_response_delay(&self, delay: Duration) {
        self.state.set_delay(delay);
    }

    /// Adds a `"padding"` member of `bytes` characters to the JWKS (size-cap tests).
    pub fn set_jwks_padding(&self, bytes: usize) {
        self.state.set_jwks_padding(bytes);
    }
}

impl Drop for TestIssuer {
    fn drop(&mut self) {
        // `stop` sends the command eagerly; the returned future only awaits completion.
        drop(self.handle.stop(false));
    }
}
