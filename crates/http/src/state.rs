//! What the HTTP handlers share.

use std::sync::Arc;

use ipnet::IpNet;
use trustmint_exchange::Exchange;

use crate::Gateway;

/// Default cap on request bodies: a GitHub OIDC token is about 1–2 KiB; 64 KiB leaves
/// room for any real issuer and refuses floods early.
pub const DEFAULT_BODY_LIMIT: usize = 64 * 1024;

/// Shared state of the HTTP adapter.
#[derive(Debug, Clone)]
pub struct HttpState {
    /// The use cases.
    pub exchange: Arc<Exchange>,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Arc<Vec<IpNet>>,
    /// Largest accepted request body in bytes.
    pub body_limit: usize,
    /// GitHub secret scanning's endpoint, when `[secret_scanning] enabled`.
    pub(crate) secret_scanning: Option<Arc<crate::doors::SecretScanning>>,
    /// The upload gateway, when `[gateway]` is enabled.
    pub gateway: Option<Arc<Gateway>>,
}

impl HttpState {
    /// State with the default body limit.
    pub fn new(exchange: Arc<Exchange>, trusted_proxies: Vec<IpNet>) -> Self {
        Self {
            exchange,
            trusted_proxies: Arc::new(trusted_proxies),
            body_limit: DEFAULT_BODY_LIMIT,
            secret_scanning: None,
            gateway: None,
        }
    }

    /// The state with GitHub secret scanning's endpoint as `settings` say (nothing
    /// when disabled). The error names the key.
    pub fn with_secret_scanning(
        mut self,
        settings: &crate::SecretScanningSettings,
    ) -> Result<Self, String> {
        self.secret_scanning = crate::doors::SecretScanning::new(settings)?.map(Arc::new);
        Ok(self)
    }
}
