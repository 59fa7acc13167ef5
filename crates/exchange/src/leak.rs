//! The leaked-token use case: a secret scanner found a token in public. A genuine
//! trustmint token (its signature verifies under our keyring) is revoked at once and
//! audited as a `leak` with where it was found; anything else is not ours.

use trustmint_telemetry::{AuditAction, AuditEvent};
use trustmint_tokens::{UploadToken, parse_token, verify_signature};

use crate::{Exchange, ExchangeError};

impl Exchange {
    /// Revokes `token` if it is one of ours and answers whether it was (a true
    /// positive, even when it had expired or was revoked already). `url` and `source`
    /// (where the scanner found it) go into the audit event.
    #[tracing::instrument(name = "exchange.revoke_leaked", skip_all, fields(ours))]
    pub async fn revoke_leaked(
        &self,
        token: &UploadToken,
        url: &str,
        source: &str,
    ) -> Result<bool, ExchangeError> {
        let secret = token.expose_secret();
        let keyring = self.keyring();
        let genuine = self.ecosystem_of_token(secret).and_then(|ecosystem| {
            parse_token(secret, self.token_prefix_of(ecosystem))
                .ok()
                .filter(|parsed| verify_signature(parsed, &keyring).is_ok())
        });
        tracing::Span::current().record("ours", genuine.is_some());
        let Some(parsed) = genuine else {
            return Ok(false);
        };
        let token_id = parsed.identifier.token_id.clone();
        let was_live = self
            .store_call("token_delete", self.backends.tokens.delete(&token_id))
            .await?;
        if was_live {
            self.metrics.tokens_revoked.inc();
        }
        let mut event = AuditEvent::success(AuditAction::Leak, self.clock.now());
        event.reason = if was_live {
            format!("reported leaked by {source}; revoked")
        } else {
            format!("reported leaked by {source}; already expired or revoked")
        };
        event.url = url.to_owned();
        event.token_id = token_id;
        event.token_sha256 = token.sha256_hex();
        self.audit(event).await;
        Ok(true)
    }
}
