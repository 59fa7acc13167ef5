//! Audit events: who did what, from where, with what outcome. One event per exchange,
//! verification denial, revocation and publisher change. Written as a structured log
//! line (target `trustmint::audit`) and, where the store keeps one, to a capped stream an
//! index can consume.
//!
//! Events never hold a token, a JWT or a key: a minted token appears only as its token
//! id and the SHA-256 of the token string.

use serde::{Serialize, Serializer};

use crate::ErrorCode;

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
    /// A token reported leaked (GitHub secret scanning) was revoked.
    Leak,
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
            AuditAction::Leak => "leak",
        }
    }
}

/// Whether what happened succeeded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditOutcome {
    /// It did.
    Success,
    /// It was refused or failed; the event's `code` and `reason` say why.
    Failure,
}

impl AuditOutcome {
    /// `success` or `failure`, as in log lines and stream entries.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditOutcome::Success => "success",
            AuditOutcome::Failure => "failure",
        }
    }
}

/// Why an event failed: a wire error code, or `denied` for a verification that said no
/// (a denial is an answer, not an error, so it has no wire code).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuditCode {
    /// The use case failed with this wire code.
    Error(ErrorCode),
    /// A verification denied the token.
    Denied,
    /// An upload through the gateway failed with this outcome label (`denied`,
    /// `too-large`, `upstream-unreachable`, …, as in `trustmint_gateway_uploads_total`).
    Upload(&'static str),
}

impl AuditCode {
    /// The code as written to log lines and stream entries.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditCode::Error(code) => code.as_str(),
            AuditCode::Denied => "denied",
            AuditCode::Upload(outcome) => outcome,
        }
    }
}

impl From<ErrorCode> for AuditCode {
    fn from(code: ErrorCode) -> Self {
        AuditCode::Error(code)
    }
}

impl Serialize for AuditCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// A success has no code: written as `""`, as it always was, so log parsers see one
/// type for the field.
fn code_or_empty<S: Serializer>(
    code: &Option<AuditCode>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(code.map_or("", AuditCode::as_str))
}

/// One audit event. Empty fields are left out of the log line and the stream entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AuditEvent {
    /// What happened (`exchange`, `revoke`, …).
    pub action: AuditAction,
    /// `success` or `failure`.
    pub outcome: AuditOutcome,
    /// Why it failed (`invalid-publisher`, `denied`, …); `None` on success.
    #[serde(serialize_with = "code_or_empty")]
    pub code: Option<AuditCode>,
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
    /// The front door of the request (`pypi`, `crates`, `npm`, `token_exchange`).
    pub door: String,
    /// Where a leaked token was found (secret scanning's `url`).
    pub url: String,
}

impl AuditEvent {
    /// A successful `action` at `time`; the caller fills in who and what.
    pub fn success(action: AuditAction, time: i64) -> Self {
        Self::new(action, AuditOutcome::Success, None, String::new(), time)
    }

    /// A failed `action` at `time`, with why (`reason` never holds a secret).
    pub fn failure(
        action: AuditAction,
        code: impl Into<AuditCode>,
        reason: String,
        time: i64,
    ) -> Self {
        Self::new(
            action,
            AuditOutcome::Failure,
            Some(code.into()),
            reason,
            time,
        )
    }

    fn new(
        action: AuditAction,
        outcome: AuditOutcome,
        code: Option<AuditCode>,
        reason: String,
        time: i64,
    ) -> Self {
        Self {
            action,
            outcome,
            code,
            reason,
            time,
            client_ip: String::new(),
            issuer: String::new(),
            issuer_name: String::new(),
            subject: String::new(),
            repository: String::new(),
            workflow: String::new(),
            environment: String::new(),
            git_ref: String::new(),
            sha: String::new(),
            publisher_id: String::new(),
            projects: String::new(),
            token_id: String::new(),
            token_sha256: String::new(),
            expires_at: 0,
            version: String::new(),
            file_name: String::new(),
            upstream_status: String::new(),
            door: String::new(),
            url: String::new(),
        }
    }

    /// The non-empty fields as (name, value) pairs, in a fixed order.
    pub fn fields(&self) -> Vec<(&'static str, String)> {
        let text: [(&'static str, &str); 22] = [
            ("action", self.action.as_str()),
            ("outcome", self.outcome.as_str()),
            ("code", self.code.map_or("", AuditCode::as_str)),
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
            ("door", &self.door),
            ("url", &self.url),
        ];
        let mut fields: Vec<(&'static str, String)> = vec![("time", self.time.to_string())];
        fields.extend(
            text.into_iter()
                .filter(|(_, value)| !value.is_empty())
                .map(|(name, value)| (name, value.to_owned())),
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
            action = self.action.as_str(),
            outcome = self.outcome.as_str(),
            code = self.code.map_or("", AuditCode::as_str),
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
        let mut event = AuditEvent::success(AuditAction::Exchange, 1_700_000_000);
        event.git_ref = "refs/tags/v1".into();
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
        assert_eq!(json["code"], "", "a success has an empty code");

        let refused = AuditEvent::failure(
            AuditAction::Exchange,
            ErrorCode::InvalidPublisher,
            "no match".into(),
            1_700_000_000,
        );
        let json = serde_json::to_value(&refused).expect("serialise");
        assert_eq!(
            (&json["action"], &json["outcome"], &json["code"]),
            (
                &serde_json::json!("exchange"),
                &serde_json::json!("failure"),
                &serde_json::json!("invalid-publisher")
            )
        );
        let denied =
            AuditEvent::failure(AuditAction::VerifyDenied, AuditCode::Denied, "r".into(), 0);
        assert_eq!(
            denied.fields()[1..4],
            [
                ("action", "verify_denied".to_owned()),
                ("outcome", "failure".to_owned()),
                ("code", "denied".to_owned()),
            ]
        );
    }

    #[test]
    fn fields_skip_empty_values_and_keep_order() {
        let mut event = AuditEvent::success(AuditAction::Revoke, 1_700_000_000);
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
