//! Audit events: who did what, from where, with what outcome. One event per exchange,
//! verification denial, revocation and publisher change. Written as a structured log
//! line (target `trustmint::audit`) and, where the store keeps one, to a capped stream an
//! index can consume.
//!
//! Events never hold a token, a JWT or a key: a minted token appears only as its token
//! id and the SHA-256 of the token string.

use serde::Serialize;

/// What happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    /// An OIDC token exchange (mint-token), successful or not.
    Exchange,
    /// A token verification that was denied.
    VerifyDenied,
    /// A token revocation.
    Revoke,
    /// A publisher was created (or projects were added to one).
    PublisherCreate,
    /// A publisher was deleted.
    PublisherDelete,
    /// A pending publisher was confirmed.
    PublisherConfirm,
    /// A token burned by its holder after use (`/_/oidc/burn-token`).
    Burn,
    /// An upload through the upload gateway, allowed or refused.
    Upload,
}

impl AuditAction {
    /// The snake_case name used in log lines and stream entries.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::Exchange => "exchange",
            AuditAction::VerifyDenied => "verify_denied",
            AuditAction::Revoke => "revoke",
            AuditAction::PublisherCreate => "publisher_create",
            AuditAction::PublisherDelete => "publisher_delete",
            AuditAction::PublisherConfirm => "publisher_confirm",
            AuditAction::Burn => "burn",
            AuditAction::Upload => "upload",
        }
    }
}

/// One audit event. Empty fields are left out of the log line and the stream entry.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct AuditEvent {
    /// What happened (`exchange`, `revoke`, …).
    pub action: String,
    /// `success` or `failure`.
    pub outcome: String,
    /// The wire error code on failure (`invalid-publisher`, …).
    pub code: String,
    /// A human description of the failure (never contains secrets).
    pub reason: String,
    /// Unix seconds.
    pub time: i64,
    /// The client address as the service saw it (after trusted-proxy handling).
    pub client_ip: String,
    /// The token's issuer URL (only once routed to a configured issuer).
    pub issuer: String,
    /// The configured issuer name.
    pub issuer_name: String,
    /// The OIDC subject.
    pub subject: String,
    /// GitHub repository or GitLab project path, Google email, ActiveState org/project.
    pub repository: String,
    /// Workflow file (GitHub) or pipeline file (GitLab).
    pub workflow: String,
    /// Deployment environment.
    pub environment: String,
    /// Git ref (GitHub `ref`, GitLab `ref_path`); `ref` in the log line and the stream.
    #[serde(rename = "ref")]
    pub git_ref: String,
    /// Commit SHA.
    pub sha: String,
    /// Publisher id(s), comma-separated.
    pub publisher_id: String,
    /// Projects, comma-separated.
    pub projects: String,
    /// The minted/verified/revoked token's id.
    pub token_id: String,
    /// SHA-256 (hex) of the token string.
    pub token_sha256: String,
    /// Token expiry, unix seconds (0 = not applicable).
    pub expires_at: i64,
    /// Uploads: the release version from the upload form.
    pub version: String,
    /// Uploads: the uploaded file's name.
    pub file_name: String,
    /// Uploads: the HTTP status the index answered (empty when it was not reached).
    pub upstream_status: String,
}

impl AuditEvent {
    /// A new event for `action` at `time`.
    pub fn new(action: AuditAction, time: i64) -> Self {
        Self {
            action: action.as_str().to_owned(),
            time,
            ..Self::default()
        }
    }

    /// The non-empty fields as (name, value) pairs, in a fixed order.
    pub fn fields(&self) -> Vec<(&'static str, String)> {
        let text = [
            ("action", &self.action),
            ("outcome", &self.outcome),
            ("code", &self.code),
            ("reason", &self.reason),
            ("client_ip", &self.client_ip),
            ("issuer", &self.issuer),
            ("issuer_name", &self.issuer_name),
            ("subject", &self.subject),
            ("repository", &self.repository),
            ("workflow", &self.workflow),
            ("environment", &self.environment),
            ("ref", &self.git_ref),
            ("sha", &self.sha),
            ("publisher_id", &self.publisher_id),
            ("projects", &self.projects),
            ("token_id", &self.token_id),
            ("token_sha256", &self.token_sha256),
            ("version", &self.version),
            ("file_name", &self.file_name),
            ("upstream_status", &self.upstream_status),
        ];
        let mut fields: Vec<(&'static str, String)> = vec![("time", self.time.to_string())];
        fields.extend(
            text.into_iter()
                .filter(|(_, value)| !value.is_empty())
                .map(|(name, value)| (name, value.clone())),
        );
        if self.expires_at != 0 {
            fields.push(("expires_at", self.expires_at.to_string()));
        }
        fields
    }

    /// Writes the event as one structured log line (target `trustmint::audit`); the
    /// whole event is in the `event` field as JSON so log pipelines can parse it.
    pub fn log(&self) {
        let json = serde_json::to_string(self).unwrap_or_default();
        tracing::info!(
            target: "trustmint::audit",
            action = %self.action,
            outcome = %self.outcome,
            code = %self.code,
            event = %json,
            "audit"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_line_and_stream_entry_use_the_same_field_names() {
        let mut event = AuditEvent::new(AuditAction::Exchange, 1_700_000_000);
        event.git_ref = "refs/tags/v1".into();
        event.outcome = "success".into();
        event.expires_at = 1_700_000_900;
        let json = serde_json::to_value(&event).expect("serialise");
        for (name, value) in event.fields() {
            let logged = match &json[name] {
                serde_json::Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            assert_eq!(logged, value, "field {name}");
        }
        assert_eq!(json["ref"], "refs/tags/v1");
    }

    #[test]
    fn fields_skip_empty_values_and_keep_order() {
        let mut event = AuditEvent::new(AuditAction::Revoke, 1_700_000_000);
        event.outcome = "success".into();
        event.token_id = "abc".into();
        event.expires_at = 1_700_000_900;
        assert_eq!(
            event.fields(),
            vec![
                ("time", "1700000000".to_owned()),
                ("action", "revoke".to_owned()),
                ("outcome", "success".to_owned()),
                ("token_id", "abc".to_owned()),
                ("expires_at", "1700000900".to_owned()),
            ]
        );
    }
}
