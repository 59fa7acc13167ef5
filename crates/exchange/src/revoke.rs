//! The revoke use case: a token holder (or the index) ends a token early.

use std::net::IpAddr;

use trustmint_telemetry::{AuditAction, AuditEvent};
use trustmint_tokens::{UploadToken, parse_token, verify_signature};

use crate::{Exchange, ExchangeError};

/// What a revocation did. Callers answer the same way in both cases (HTTP 204), so a
/// caller cannot probe which tokens exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revocation {
    /// A live token was revoked.
    Revoked,
    /// Nothing to do: unknown, malformed, already expired or already revoked.
    NothingToRevoke,
}

impl Exchange {
    /// Revokes `token`: idempotent. Only the holder of the genuine token can revoke it —
    /// its signature must verify — so knowing a token id is not enough. `client_ip` goes
    /// into the audit event.
    #[tracing::instrument(name = "exchange.revoke", skip_all, fields(revoked))]
    pub async fn revoke(
        &self,
        token: &UploadToken,
        client_ip: Option<IpAddr>,
    ) -> Result<Revocation, ExchangeError> {
        self.end_token(token, client_ip, AuditAction::Revoke).await
    }

    /// Burns `token` after use (PyPI's `burn-token`, which uv calls after an upload):
    /// the same revocation as [`Exchange::revoke`], audited as `burn`.
    #[tracing::instrument(name = "exchange.burn", skip_all, fields(revoked))]
    pub async fn burn(
        &self,
        token: &UploadToken,
        client_ip: Option<IpAddr>,
    ) -> Result<Revocation, ExchangeError> {
        self.end_token(token, client_ip, AuditAction::Burn).await
    }

    /// Records `event` in the audit log and stream, for adapters whose events are not
    /// a use case's own (the upload gateway's `upload`).
    pub async fn record_audit(&self, event: AuditEvent) {
        self.audit(event).await;
    }

    async fn end_token(
        &self,
        token: &UploadToken,
        client_ip: Option<IpAddr>,
        action: AuditAction,
    ) -> Result<Revocation, ExchangeError> {
        // A token of any door may be revoked here: its prefix says which.
        let Some(ecosystem) = self.ecosystem_of_token(token.expose_secret()) else {
            return Ok(Revocation::NothingToRevoke);
        };
        let Ok(parsed) = parse_token(token.expose_secret(), self.token_prefix_of(ecosystem)) else {
            return Ok(Revocation::NothingToRevoke);
        };
        if verify_signature(&parsed, &self.keyring()).is_err() {
            return Ok(Revocation::NothingToRevoke);
        }
        let token_id = parsed.identifier.token_id.clone();
        let existed = self
            .store_call("token_delete", self.backends.tokens.delete(&token_id))
            .await?;
        tracing::Span::current().record("revoked", existed);
        if !existed {
            return Ok(Revocation::NothingToRevoke);
        }
        self.metrics.tokens_revoked.inc();
        let mut event = AuditEvent::success(action, self.clock.now());
        event.token_id = token_id;
        event.client_ip = client_ip.map(|ip| ip.to_string()).unwrap_or_default();
        event.token_sha256 = token.sha256_hex();
        self.audit(event).await;
        Ok(Revocation::Revoked)
    }
}
