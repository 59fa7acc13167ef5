//! The verify use case: may this upload token upload to this project?

use std::collections::{BTreeMap, HashSet};
use std::time::Instant;

use trustmint_publishers::{Ecosystem, ProjectName, Publisher};
use trustmint_telemetry::{AuditAction, AuditCode, AuditEvent, VerifyOutcome};
use trustmint_tokens::{Caveat, UploadToken, VerifyContext, parse_token, verify};

use crate::{Exchange, ExchangeError};

/// The text for a token whose record is gone.
pub const REVOKED_OR_EXPIRED: &str = "token is expired or has been revoked";

/// A verify request.
#[derive(Clone, Debug)]
pub struct VerifyRequest {
    /// The upload token (secret: `Debug` shows only a hash prefix).
    pub token: UploadToken,
    /// The project the index is about to accept an upload for.
    pub project: String,
}

/// What a verification concluded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verification {
    /// The token may upload to the project.
    Allowed(Box<Allowed>),
    /// It may not; `reason` says why in PyPI's words.
    Denied {
        /// Human reason.
        reason: String,
    },
}

/// An allowed verification: who published and with what scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allowed {
    /// The publisher that lists the project.
    pub publisher: Publisher,
    /// Provenance claims stored at mint time.
    pub claims: BTreeMap<String, String>,
    /// Unix seconds: the earliest expiry among the token's caveats.
    pub expires_at: i64,
    /// Projects the (possibly attenuated) token may upload to.
    pub projects: Vec<String>,
    /// The token id.
    pub token_id: String,
    /// Whether the holder appended caveats.
    pub attenuated: bool,
}

impl Exchange {
    /// Checks `request.token` for `request.project`: prefix → bounded decode → record
    /// (absent = revoked or expired) → key → HMAC chain → every caveat → the publisher
    /// still exists and still lists the project (a pending one only while no normal
    /// publisher lists it). A denial is `Ok(Denied)`; errors are for malformed requests
    /// and unavailable backends.
    pub async fn verify(&self, request: VerifyRequest) -> Result<Verification, ExchangeError> {
        self.verify_in(request, Ecosystem::Pypi).await
    }

    /// [`Exchange::verify`] for an index of `ecosystem`: the project is named by that
    /// ecosystem's rules, and only a token minted through that ecosystem's door (its
    /// prefix and Ecosystem caveat, a publisher of that ecosystem) is allowed. An npm
    /// token never verifies as a PyPI upload, nor the reverse.
    #[tracing::instrument(name = "exchange.verify", skip_all, fields(outcome, ecosystem = ecosystem.as_str()))]
    pub async fn verify_in(
        &self,
        request: VerifyRequest,
        ecosystem: Ecosystem,
    ) -> Result<Verification, ExchangeError> {
        let started = Instant::now();
        let project = ecosystem.project(&request.project).map_err(|error| {
            ExchangeError::InvalidArgument {
                field: "project".to_owned(),
                message: error.to_string(),
            }
        })?;
        let token = request.token.expose_secret();
        let result = self.verify_inner(token, &project, ecosystem).await;
        let outcome = match &result {
            Ok(Verification::Allowed(_)) => VerifyOutcome::Allowed,
            Ok(Verification::Denied { .. }) => VerifyOutcome::Denied,
            Err(_) => VerifyOutcome::Error,
        };
        tracing::Span::current().record("outcome", outcome.as_str());
        self.metrics.record_verification(outcome, started.elapsed());
        match &result {
            Ok(Verification::Allowed(allowed)) => {
                self.metrics
                    .observe_remaining_lifetime(allowed.expires_at - self.clock.now());
            }
            Ok(Verification::Denied { reason }) => {
                let mut event = AuditEvent::failure(
                    AuditAction::VerifyDenied,
                    AuditCode::Denied,
                    reason.clone(),
                    self.clock.now(),
                );
                event.projects = project.to_string();
                event.token_sha256 = request.token.sha256_hex();
                if let Ok(parsed) = parse_token(token, self.token_prefix_of(ecosystem)) {
                    event.token_id = parsed.identifier.token_id.clone();
                }
                self.audit(event).await;
            }
            Err(_) => {}
        }
        result
    }

    async fn verify_inner(
        &self,
        token: &str,
        project: &ProjectName,
        ecosystem: Ecosystem,
    ) -> Result<Verification, ExchangeError> {
        let denied = |reason: &str| {
            Ok(Verification::Denied {
                reason: reason.to_owned(),
            })
        };
        let parsed = match parse_token(token, self.token_prefix_of(ecosystem)) {
            Ok(parsed) => parsed,
            Err(denial) => {
                if let Some(other) = self.ecosystem_of_token(token).filter(|e| *e != ecosystem) {
                    return denied(&wrong_ecosystem(other, ecosystem));
                }
                return denied(denial.reason());
            }
        };
        let Some(record) = self
            .store_call(
                "token_get",
                self.backends.tokens.get(&parsed.identifier.token_id),
            )
            .await?
        else {
            return denied(REVOKED_OR_EXPIRED);
        };
        let publisher_ids: Vec<String> = record
            .publisher_ids
            .iter()
            .map(|id| id.as_str().to_owned())
            .collect();
        let verified = match verify(
            &parsed,
            &self.keyring(),
            &VerifyContext {
                project: project.as_str(),
                publisher_ids: &publisher_ids,
                now: self.clock.now(),
                not_before_skew_secs: self.settings.not_before_skew_secs,
            },
        ) {
            Ok(verified) => verified,
            Err(denial) => return denied(denial.reason()),
        };
        // Every Ecosystem caveat must name this ecosystem; none means PyPI. (The
        // publisher's own ecosystem is checked below too, so a holder appending one
        // to a PyPI token gains nothing.)
        if let Some(other) = verified.caveats.iter().find_map(|caveat| match caveat {
            Caveat::Ecosystem(name) if name != ecosystem.as_str() => Some(name.clone()),
            _ => None,
        }) {
            return denied(&format!(
                "token was minted for {other} packages, not {ecosystem}"
            ));
        }
        let carries_ecosystem = verified
            .caveats
            .iter()
            .any(|caveat| matches!(caveat, Caveat::Ecosystem(_)));
        if ecosystem != Ecosystem::Pypi && !carries_ecosystem {
            return denied(&wrong_ecosystem(Ecosystem::Pypi, ecosystem));
        }
        if !record.projects.contains(project) {
            return denied(&format!(
                "project-scoped token is not valid for project: '{project}'"
            ));
        }
        // The publisher must still exist and still list the project: deleting a
        // publisher (or unlinking the project) stops its live tokens at once.
        let mut any_publisher_exists = false;
        let mut stale_pending = false;
        for id in &record.publisher_ids {
            let Some(publisher) = self
                .store_call("publisher_get", self.backends.publishers.get(id))
                .await?
            else {
                continue;
            };
            any_publisher_exists = true;
            if publisher.ecosystem != ecosystem {
                return denied(&wrong_ecosystem(publisher.ecosystem, ecosystem));
            }
            if publisher.lists(project) {
                // A pending publisher loses the project once the index gave it to
                // another publisher (see pending.rs).
                if publisher.pending && self.project_exists_for(&publisher, project).await? {
                    stale_pending = true;
                    continue;
                }
                let mut claims = record.claims.clone();
                claims.insert("token_id".to_owned(), record.token_id.clone());
                // A set, not a scan of the record per caveat name: for a publisher of 250
                // projects (PyPI #18514) that was 62,500 string comparisons, ~0.2 ms of a
                // verify (measured with trustmint-bench).
                let recorded: HashSet<&str> =
                    record.projects.iter().map(ProjectName::as_str).collect();
                return Ok(Verification::Allowed(Box::new(Allowed {
                    publisher,
                    claims,
                    expires_at: verified.expires_at,
                    projects: verified
                        .projects
                        .iter()
                        .filter(|name| recorded.contains(name.as_str()))
                        .cloned()
                        .collect(),
                    token_id: record.token_id.clone(),
                    attenuated: verified.attenuated,
                })));
            }
        }
        if stale_pending {
            denied(&format!(
                "pending publisher is no longer valid: project '{project}' already exists"
            ))
        } else if any_publisher_exists {
            denied(&format!(
                "OIDC scoped token is not valid for project '{project}'"
            ))
        } else {
            denied("the trusted publisher this token was minted for no longer exists")
        }
    }
}

/// The denial of a token of `minted` checked for `asked`.
fn wrong_ecosystem(minted: Ecosystem, asked: Ecosystem) -> String {
    format!("token was minted for {minted} packages, not {asked}")
}
