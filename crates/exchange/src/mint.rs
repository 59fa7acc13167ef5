//! The mint use case: a CI job's OIDC token in, a short-lived upload token out.

use std::net::IpAddr;
use std::time::Instant;

use tracing::Instrument as _;
use trustmint_claims::{ClaimsError, ReplayKey, RoutedToken, VerifiedClaims, replay_expiry};
use trustmint_publishers::{
    ProjectName, Publisher, TokenClaims, find_match, lookup_key_for_claims,
};
use trustmint_store::{RateDecision, TokenRecord};
use trustmint_telemetry::{AuditAction, AuditEvent};
use trustmint_tokens::{MintRequest as TokenMintRequest, MintedToken, mint};

use crate::provenance::{fill_identity, identity_claims};
use crate::{Exchange, ExchangeError};

/// A mint-token request.
#[derive(Clone)]
pub struct MintRequest {
    /// The OIDC JWT (secret: never logged).
    pub oidc_token: String,
    /// The CI runner's address, for rate limiting and the audit trail.
    pub client_ip: Option<IpAddr>,
}

impl std::fmt::Debug for MintRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MintRequest")
            .field("oidc_token", &"<redacted>")
            .field("client_ip", &self.client_ip)
            .finish()
    }
}

/// A minted upload token and what it is good for.
#[derive(Debug, Clone)]
pub struct Minted {
    /// The token (secret; `Debug` redacts it).
    pub token: MintedToken,
    /// Its id (the macaroon identifier's UUID).
    pub token_id: String,
    /// Unix seconds when it stops working.
    pub expires_at: i64,
    /// Projects it may upload to.
    pub projects: Vec<ProjectName>,
    /// Every publisher that matched; the first is named in the token's caveat.
    pub publishers: Vec<Publisher>,
    /// Provenance claims stored with the token.
    pub claims: std::collections::BTreeMap<String, String>,
}

impl Minted {
    /// The publisher named in the token.
    pub fn publisher(&self) -> Option<&Publisher> {
        self.publishers.first()
    }
}

impl Exchange {
    /// Verifies `request.oidc_token`, matches it to publishers and mints an upload token
    /// for their projects. Errors carry PyPI's codes. A JWT is burnt (recorded as used)
    /// only when a token was actually minted: any failure after the replay claim
    /// releases it, so the CI job can retry with the same JWT.
    #[tracing::instrument(name = "exchange.mint", skip_all, fields(issuer_kind, code))]
    pub async fn mint(&self, request: MintRequest) -> Result<Minted, ExchangeError> {
        let started = Instant::now();
        let mut audit = AuditEvent::new(AuditAction::Exchange, self.clock.now());
        audit.client_ip = request
            .client_ip
            .map(|ip| ip.to_string())
            .unwrap_or_default();
        let mut issuer_kind = "unknown";

        let result = self
            .mint_inner(&request, &mut audit, &mut issuer_kind)
            .await;

        let span = tracing::Span::current();
        span.record("issuer_kind", issuer_kind);
        match &result {
            Ok(minted) => {
                audit.outcome = "success".to_owned();
                audit.token_id = minted.token_id.clone();
                audit.token_sha256 = minted.token.sha256_hex();
                audit.expires_at = minted.expires_at;
                self.metrics
                    .exchanges
                    .with_label_values(&[issuer_kind, "success", ""])
                    .inc();
                self.metrics.tokens_minted.inc();
            }
            Err(error) => {
                span.record("code", error.code());
                audit.outcome = "failure".to_owned();
                audit.code = error.code().to_owned();
                audit.reason = match error {
                    ExchangeError::InvalidToken { detail } => format!("invalid token: {detail}"),
                    ExchangeError::Unavailable { detail, .. } => detail.clone(),
                    other => other.description(),
                };
                self.metrics
                    .exchanges
                    .with_label_values(&[issuer_kind, "failure", error.code()])
                    .inc();
                match error {
                    ExchangeError::InvalidReuseToken => self.metrics.replays_rejected.inc(),
                    ExchangeError::RateLimited { .. } => {
                        self.metrics.rate_limited.with_label_values(&["mint"]).inc()
                    }
                    _ => {}
                }
            }
        }
        self.metrics
            .exchange_duration
            .with_label_values(&[issuer_kind])
            .observe(started.elapsed().as_secs_f64());
        self.audit(audit).await;
        result
    }

    async fn mint_inner(
        &self,
        request: &MintRequest,
        audit: &mut AuditEvent,
        issuer_kind: &mut &'static str,
    ) -> Result<Minted, ExchangeError> {
        self.check_rate_limit(request.client_ip).await?;

        let routed = self
            .verifier
            .route(&request.oidc_token)
            .map_err(map_claims_error)?;
        *issuer_kind = routed.issuer.kind.as_str();
        audit.issuer = routed.iss.clone();
        audit.issuer_name = routed.issuer.name.clone();
        self.check_enabled(&routed)?;

        let verified = self
            .verifier
            .verify(&routed, self.clock.now())
            .await
            .map_err(map_claims_error)?;
        audit.subject = verified.subject.clone().unwrap_or_default();
        // Refusals from here on are attributed to the token's repository and workflow;
        // a match below replaces these with the publisher's provenance claims.
        fill_identity(audit, &identity_claims(&verified.claims));

        let provider = verified.issuer.kind;
        let token_claims = TokenClaims::new(&verified.iss, &verified.claims)
            .with_oidc_rules(verified.issuer.oidc_rules.as_ref());
        let matched = async {
            let lookup_key = lookup_key_for_claims(provider, &token_claims)
                .map_err(|no_match| ExchangeError::InvalidPublisher(no_match.to_string()))?;
            let candidates = self
                .store_call(
                    "publisher_candidates",
                    self.backends
                        .publishers
                        .candidates(&lookup_key, self.clock.now()),
                )
                .await?;
            find_match(provider, &token_claims, &candidates, self.clock.now())
                .map_err(|no_match| ExchangeError::InvalidPublisher(no_match.to_string()))
        }
        .instrument(tracing::info_span!("exchange.match"))
        .await?;
        // A pending publisher whose project the index has since created is stale.
        let publishers = self.without_stale_pending(matched.publishers).await?;
        fill_identity(audit, &matched.stored_claims);
        audit.publisher_id = publishers
            .iter()
            .map(|p| p.id.as_str())
            .collect::<Vec<_>>()
            .join(",");
        let projects = projects_of(&publishers);
        audit.projects = projects
            .iter()
            .map(ProjectName::as_str)
            .collect::<Vec<_>>()
            .join(",");

        let replay_key =
            ReplayKey::new(&verified.iss, verified.jti.as_deref(), &request.oidc_token);
        // Unique to this exchange: a release removes this exchange's claim and never
        // another's of the same JWT.
        let claim_owner = uuid::Uuid::new_v4().simple().to_string();
        if let Err(error) = self
            .claim_replay(&replay_key, &claim_owner, &verified)
            .await
        {
            if matches!(error, ExchangeError::Unavailable { .. }) {
                // The claim's outcome is unknown (e.g. Redis applied it but the reply
                // timed out): undo it if it is ours, so a retry is not a replay.
                self.release_replay(&replay_key, &claim_owner).await;
            }
            return Err(error);
        }

        match self
            .mint_for(&publishers, projects, matched.stored_claims)
            .await
        {
            Ok(minted) => Ok(minted),
            Err(error) => {
                // Not burnt: the exchange failed after the claim, so the JWT may be retried.
                self.release_replay(&replay_key, &claim_owner).await;
                Err(error)
            }
        }
    }

    /// Best effort: a release that fails leaves the JWT burnt until it expires.
    async fn release_replay(&self, key: &ReplayKey, owner: &str) {
        if let Err(error) = self
            .store_call(
                "replay_release",
                self.backends.replay.release(key.as_str(), owner),
            )
            .await
        {
            tracing::warn!(code = error.code(), "could not release the replay guard");
        }
    }

    async fn check_rate_limit(&self, client_ip: Option<IpAddr>) -> Result<(), ExchangeError> {
        let Some(ip) = client_ip else {
            return Ok(());
        };
        if !self.backends.rate_limiter.limits() {
            return Ok(());
        }
        let key = format!("mint:{ip}");
        match self
            .store_call("rate_check", self.backends.rate_limiter.check(&key))
            .await?
        {
            RateDecision::Allowed => Ok(()),
            RateDecision::Limited { retry_after_secs } => {
                Err(ExchangeError::RateLimited { retry_after_secs })
            }
        }
    }

    fn check_enabled(&self, routed: &RoutedToken) -> Result<(), ExchangeError> {
        if !self.settings.enabled || !routed.issuer.enabled {
            return Err(ExchangeError::NotEnabled(format!(
                "{} trusted publishing functionality not enabled",
                routed.issuer.kind.as_str()
            )));
        }
        Ok(())
    }

    async fn claim_replay(
        &self,
        key: &ReplayKey,
        owner: &str,
        verified: &VerifiedClaims,
    ) -> Result<(), ExchangeError> {
        let claimed = self
            .store_call(
                "replay_claim",
                self.backends
                    .replay
                    .claim(key.as_str(), owner, replay_expiry(verified.exp)),
            )
            .await?;
        if claimed {
            Ok(())
        } else {
            Err(ExchangeError::InvalidReuseToken)
        }
    }

    async fn mint_for(
        &self,
        publishers: &[Publisher],
        projects: Vec<ProjectName>,
        claims: std::collections::BTreeMap<String, String>,
    ) -> Result<Minted, ExchangeError> {
        let Some(primary) = publishers.first() else {
            return Err(ExchangeError::InvalidPublisher(
                "Publisher with matching claims was not found".to_owned(),
            ));
        };
        let not_before = self.clock.now();
        let ttl = self.settings.token_ttl_secs;
        let expires_at = not_before + i64::try_from(ttl).unwrap_or(900);
        let project_names: Vec<String> = projects.iter().map(|p| p.as_str().to_owned()).collect();
        let (token, identifier) = {
            let _span = tracing::info_span!("exchange.mint_token").entered();
            mint(
                &self.keyring,
                &TokenMintRequest {
                    location: &self.location,
                    prefix: &self.settings.token_prefix,
                    publisher_id: primary.id.as_str(),
                    projects: &project_names,
                    not_before,
                    expires_at,
                },
            )
        };
        let record = TokenRecord {
            token_id: identifier.token_id.clone(),
            publisher_ids: publishers.iter().map(|p| p.id.clone()).collect(),
            projects: projects.clone(),
            claims: claims.clone(),
            issued_at: not_before,
            expires_at,
        };
        self.store_call("token_put", self.backends.tokens.put(&record, ttl))
            .await?;
        Ok(Minted {
            token,
            token_id: identifier.token_id,
            expires_at,
            projects,
            publishers: publishers.to_vec(),
            claims,
        })
    }
}

/// The projects a token for `publishers` may upload to: the union of theirs, sorted,
/// without duplicates.
fn projects_of(publishers: &[Publisher]) -> Vec<ProjectName> {
    let mut projects: Vec<ProjectName> = publishers
        .iter()
        .flat_map(|p| p.projects.iter().cloned())
        .collect();
    projects.sort();
    projects.dedup();
    projects
}

/// The wire mapping of claim-verification failures (PyPI §1.2 rows 2, 3 and 5).
fn map_claims_error(error: ClaimsError) -> ExchangeError {
    match error {
        ClaimsError::Malformed(_) => ExchangeError::InvalidPayload("malformed JWT".to_owned()),
        ClaimsError::UnknownIssuer => {
            ExchangeError::InvalidPayload("unknown trusted publishing issuer".to_owned())
        }
        ClaimsError::InvalidToken(detail) => ExchangeError::InvalidToken { detail },
        ClaimsError::KeysUnavailable(detail) => ExchangeError::Unavailable {
            public: "the token issuer's signing keys could not be fetched; retry later".to_owned(),
            detail,
        },
    }
}
