//! The HTTP side shared by [`TestIssuer`](crate::TestIssuer) and the dev issuer: an
//! actix-web server on a loopback port serving OIDC discovery and a JWKS from a
//! key ring that tests can rotate, break, slow down or bloat.

use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use actix_web::dev::{Server, ServerHandle};
use actix_web::{HttpResponse, web};
use serde_json::{Value, json};

use crate::keys::{KeyAlgorithm, KeyError, SignOptions, TestKey};

/// Path of the JWKS, relative to the server's base URL (as GitHub serves it).
pub(crate) const JWKS_PATH: &str = "/.well-known/jwks";
/// Path of the discovery document, relative to an issuer URL.
pub(crate) const DISCOVERY_SUFFIX: &str = "/.well-known/openid-configuration";

/// Published keys; the last-made current one signs by default. Keys are shared
/// (`Arc`) so signing happens outside the lock: benchmarks sign on several threads.
#[derive(Debug)]
pub(crate) struct KeyRing {
    keys: Vec<Arc<TestKey>>,
    current: usize,
    minted: usize,
    kid_prefix: String,
}

/// Everything the handlers share. Behind `web::Data` (an `Arc`).
#[derive(Debug)]
pub(crate) struct IssuerState {
    pub(crate) base_url: String,
    ring: Mutex<KeyRing>,
    serve_discovery: bool,
    failing: AtomicBool,
    delay_ms: AtomicU64,
    jwks_padding: AtomicUsize,
    jwks_fetches: AtomicUsize,
    discovery_fetches: AtomicUsize,
}

// === impl KeyRing ===

impl KeyRing {
    /// A ring with one key `first_kid`; later keys are `<kid_prefix><n>`.
    pub(crate) fn new(
        algorithm: KeyAlgorithm,
        first_kid: &str,
        kid_prefix: &str,
    ) -> Result<Self, KeyError> {
        Ok(Self {
            keys: vec![Arc::new(TestKey::generate(algorithm, first_kid)?)],
            current: 0,
            minted: 1,
            kid_prefix: kid_prefix.to_owned(),
        })
    }

    fn add(&mut self, algorithm: KeyAlgorithm) -> Result<String, KeyError> {
        self.minted += 1;
        let kid = format!("{}{}", self.kid_prefix, self.minted);
        self.keys
            .push(Arc::new(TestKey::generate(algorithm, kid.clone())?));
        Ok(kid)
    }

    fn current(&self) -> Option<&TestKey> {
        self.keys.get(self.current).map(|key| &**key)
    }
}

// === impl IssuerState ===

impl IssuerState {
    pub(crate) fn new(base_url: String, ring: KeyRing, serve_discovery: bool) -> Self {
        Self {
            base_url,
            ring: Mutex::new(ring),
            serve_discovery,
            failing: AtomicBool::new(false),
            delay_ms: AtomicU64::new(0),
            jwks_padding: AtomicUsize::new(0),
            jwks_fetches: AtomicUsize::new(0),
            discovery_fetches: AtomicUsize::new(0),
        }
    }

    fn ring(&self) -> MutexGuard<'_, KeyRing> {
        self.ring.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn jwks_uri(&self) -> String {
        format!("{}{JWKS_PATH}", self.base_url)
    }

    pub(crate) fn current_kid(&self) -> String {
        self.ring()
            .current()
            .map(|key| key.kid().to_owned())
            .unwrap_or_default()
    }

    pub(crate) fn public_key_pem(&self) -> Vec<u8> {
        self.ring()
            .current()
            .map(TestKey::public_key_pem)
            .unwrap_or_default()
    }

    /// Signs with the current key, or with `options.signing_kid`.
    pub(crate) fn sign(&self, options: &SignOptions, claims: &Value) -> Result<String, KeyError> {
        let key = {
            let ring = self.ring();
            match &options.signing_kid {
                Some(kid) => ring.keys.iter().find(|key| key.kid() == kid).cloned(),
                None => ring.keys.get(ring.current).cloned(),
            }
        };
        key.ok_or_else(|| KeyError::new("no published key has the requested signing kid"))?
            .sign_with(options, claims)
    }

    /// Publishes a new key of the current algorithm and makes it current.
    pub(crate) fn rotate(&self, keep_old: bool) -> Result<String, KeyError> {
        let mut ring = self.ring();
        let algorithm = ring.current().map(TestKey::algorithm).unwrap_or_default();
        let kid = ring.add(algorithm)?;
        if !keep_old {
            ring.keys.retain(|key| key.kid() == kid);
        }
        ring.current = ring.keys.len() - 1;
        Ok(kid)
    }

    /// Publishes an extra key of `algorithm` without making it current.
    pub(crate) fn add_key(&self, algorithm: KeyAlgorithm) -> Result<String, KeyError> {
        self.ring().add(algorithm)
    }

    /// Unpublishes `kid` (not the current key). Returns whether it was removed.
    pub(crate) fn retire(&self, kid: &str) -> bool {
        let mut ring = self.ring();
        let current_kid = ring.current().map(|key| key.kid().to_owned());
        if current_kid.as_deref() == Some(kid) {
            return false;
        }
        let before = ring.keys.len();
        ring.keys.retain(|key| key.kid() != kid);
        let removed = ring.keys.len() != before;
        if let Some(current_kid) = current_kid {
            ring.current = ring
                .keys
                .iter()
                .position(|key| key.kid() == current_kid)
                .unwrap_or(0);
        }
        removed
    }

    pub(crate) fn set_failing(&self, failing: bool) {
        self.failing.store(failing, Ordering::SeqCst);
    }

    pub(crate) fn set_delay(&self, delay: Duration) {
        self.delay_ms.store(
            u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
            Ordering::SeqCst,
        );
    }

    pub(crate) fn set_jwks_padding(&self, bytes: usize) {
        self.jwks_padding.store(bytes, Ordering::SeqCst);
    }

    pub(crate) fn jwks_fetches(&self) -> usize {
        self.jwks_fetches.load(Ordering::SeqCst)
    }

    pub(crate) fn discovery_fetches(&self) -> usize {
        self.discovery_fetches.load(Ordering::SeqCst)
    }

    fn jwks_document(&self) -> Value {
        let keys: Vec<Value> = self
            .ring()
            .keys
            .iter()
            .map(|key| key.public_jwk())
            .collect();
        let padding = self.jwks_padding.load(Ordering::SeqCst);
        if padding > 0 {
            json!({"keys": keys, "padding": "x".repeat(padding)})
        } else {
            json!({"keys": keys})
        }
    }

    fn discovery_document(&self, issuer: &str) -> Value {
        json!({
            "issuer": issuer,
            "jwks_uri": self.jwks_uri(),
            "subject_types_supported": ["public", "pairwise"],
            "response_types_supported": ["id_token"],
            "claims_supported": ["sub", "aud", "exp", "iat", "iss", "jti", "nbf", "ref", "repository", "repository_id", "repository_owner", "repository_owner_id", "workflow_ref", "job_workflow_ref", "environment"],
            "id_token_signing_alg_values_supported": [self.ring().current().map(|k| k.algorithm().as_str()).unwrap_or("RS256")],
            "scopes_supported": ["openid"],
        })
    }

    /// Applies the scripted delay, then says whether to answer 500.
    async fn misbehave(&self) -> Option<HttpResponse> {
        let delay = self.delay_ms.load(Ordering::SeqCst);
        if delay > 0 {
            tokio::time::sleep(Duration::from_millis(delay)).await;
        }
        self.failing.load(Ordering::SeqCst).then(|| {
            HttpResponse::InternalServerError().json(json!({"message": "test issuer set to fail"}))
        })
    }
}

/// Registers discovery for each issuer path (`""`, `"/gitlab"`, …) and the JWKS.
pub(crate) fn configure_issuer_routes(config: &mut web::ServiceConfig, issuer_paths: &[String]) {
    config.route(JWKS_PATH, web::get().to(jwks));
    for path in issuer_paths {
        let issuer_path = path.clone();
        config.route(
            &format!("{path}{DISCOVERY_SUFFIX}"),
            web::get().to(move |state: web::Data<IssuerState>| {
                let issuer_path = issuer_path.clone();
                async move { discovery(state, &issuer_path).await }
            }),
        );
    }
}

async fn discovery(state: web::Data<IssuerState>, issuer_path: &str) -> HttpResponse {
    state.discovery_fetches.fetch_add(1, Ordering::SeqCst);
    if let Some(failure) = state.misbehave().await {
        return failure;
    }
    if !state.serve_discovery {
        return HttpResponse::NotFound().finish();
    }
    let issuer = format!("{}{issuer_path}", state.base_url);
    HttpResponse::Ok().json(state.discovery_document(&issuer))
}

async fn jwks(state: web::Data<IssuerState>) -> HttpResponse {
    state.jwks_fetches.fetch_add(1, Ordering::SeqCst);
    if let Some(failure) = state.misbehave().await {
        return failure;
    }
    HttpResponse::Ok().json(state.jwks_document())
}

/// Starts an actix-web server on `listener` (one worker, no signal handling) inside the
/// current tokio runtime. `routes` adds the app's routes; `state` is shared with them.
pub(crate) fn start_server(
    listener: TcpListener,
    state: web::Data<IssuerState>,
    routes: impl Fn(&mut web::ServiceConfig) + Send + Clone + 'static,
) -> std::io::Result<(Server, ServerHandle, SocketAddr)> {
    let address = listener.local_addr()?;
    let server = actix_web::HttpServer::new(move || {
        actix_web::App::new()
            .app_data(state.clone())
            .configure(routes.clone())
    })
    .workers(1)
    .disable_signals()
    .shutdown_timeout(1)
    .listen(listener)?
    .run();
    let handle = server.handle();
    Ok((server, handle, address))
}
