//! The mint's store writes as one call ([`ExchangeStore::commit`]; standalone Redis: one
//! round trip): the rate count, the replay claim, the token record and the audit entry
//! together, after verification and matching instead of the rate count before them.
//!
//! What stays as with the individual calls: every request is counted once against its
//! client's limit (a refusal decided before the commit is counted by
//! [`Exchange::count_refusal`], and a client over its limit gets `rate-limited` whatever
//! else was wrong); a JWT is burnt only when its token was stored; an unknown outcome
//! releases this exchange's own claim; no token leaves whose record was not stored.

use std::net::IpAddr;

use trustmint_claims::{ReplayKey, VerifiedClaims, replay_expiry};
use trustmint_store::{CommitOutcome, ExchangeCommit, ExchangeStore};
use trustmint_telemetry::AuditEvent;

use crate::mint::{MatchedPublishers, MintRequest, Minted};
use crate::{Exchange, ExchangeError};

/// Commits refused because the publishers changed meanwhile, before giving up: each
/// retry reads them afresh, so only a publisher rewritten again and again in that
/// moment exhausts them.
const MAX_COMMIT_ATTEMPTS: usize = 3;

/// What a mint has done so far that the end of [`Exchange::mint`] must know.
#[derive(Debug)]
pub(crate) struct MintProgress {
    /// The request has been counted against its client's rate limit (the individual
    /// calls count it first; a commit counts it as its first step).
    pub(crate) rate_counted: bool,
    /// The audit event reached the stream with the commit: only log it.
    pub(crate) audit_appended: bool,
}

impl MintProgress {
    pub(crate) fn new(exchange: &Exchange) -> Self {
        Self {
            rate_counted: exchange.backends.commit.is_none(),
            audit_appended: false,
        }
    }
}

impl Exchange {
    /// Mints for `matched` and commits the token with one store call; on a commit that
    /// finds the publishers changed (on another replica), matches afresh and tries again.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn commit_mint(
        &self,
        commit: &dyn ExchangeStore,
        request: &MintRequest,
        verified: &VerifiedClaims,
        mut matched: MatchedPublishers,
        (replay_key, claim_owner): (&ReplayKey, &str),
        audit: &mut AuditEvent,
        progress: &mut MintProgress,
    ) -> Result<Minted, ExchangeError> {
        for _ in 0..MAX_COMMIT_ATTEMPTS {
            let (minted, record) = self.mint_unstored(
                &matched.publishers,
                matched.projects.clone(),
                matched.stored_claims.clone(),
            )?;
            // The success event, complete before the write that makes it true.
            audit.outcome = "success".to_owned();
            audit.token_id = minted.token_id.clone();
            audit.token_sha256 = minted.token.sha256_hex();
            audit.expires_at = minted.expires_at;
            let fields = self.backends.audit.as_ref().map(|_| audit.fields());
            let rate_key = self.rate_key(request.client_ip);
            let writes = ExchangeCommit {
                rate_key: rate_key.as_deref(),
                replay_key: replay_key.as_str(),
                replay_owner: claim_owner,
                replay_expires_at: replay_expiry(verified.exp),
                record: &record,
                ttl_secs: self.settings.token_ttl_secs,
                audit: fields.as_deref(),
                publishers_read_at: matched.generation.as_ref(),
            };
            let outcome = self
                .store_call("exchange_commit", commit.commit(&writes))
                .await;
            audit.outcome.clear();
            audit.token_id.clear();
            audit.token_sha256.clear();
            audit.expires_at = 0;
            match outcome {
                Err(error) => {
                    // Unknown outcome: it may have counted and claimed. Undo the claim
                    // if it is ours, so a retry is not a replay.
                    progress.rate_counted = true;
                    self.release_replay(replay_key, claim_owner).await;
                    return Err(error);
                }
                Ok(CommitOutcome::Committed { audit_appended }) => {
                    progress.rate_counted = true;
                    progress.audit_appended = audit_appended;
                    return Ok(minted);
                }
                Ok(CommitOutcome::RateLimited { retry_after_secs }) => {
                    progress.rate_counted = true;
                    return Err(ExchangeError::RateLimited { retry_after_secs });
                }
                Ok(CommitOutcome::Replayed) => {
                    progress.rate_counted = true;
                    return Err(ExchangeError::InvalidReuseToken);
                }
                Ok(CommitOutcome::PublishersChanged) => {
                    matched = self.match_publishers(verified, audit, true).await?;
                }
            }
        }
        Err(ExchangeError::unavailable(
            "the matched publishers kept changing during the exchange",
        ))
    }

    /// The request's rate-limit key, when it is limited at all.
    fn rate_key(&self, client_ip: Option<IpAddr>) -> Option<String> {
        let ip = client_ip?;
        self.backends
            .rate_limiter
            .limits()
            .then(|| format!("mint:{ip}"))
    }

    /// Counts a refused request that no commit counted, so every request counts once
    /// whatever step refused it. A client over its limit is told so (as when the count
    /// came first); a store that cannot count fails the request closed. An `unavailable`
    /// refusal is not counted.
    pub(crate) async fn count_refusal(
        &self,
        client_ip: Option<IpAddr>,
        result: Result<Minted, ExchangeError>,
        progress: &MintProgress,
    ) -> Result<Minted, ExchangeError> {
        match result {
            // A backend that failed already cost the client one timeout; counting would
            // add another (the count is most likely what fails next).
            Err(refusal @ ExchangeError::Unavailable { .. }) => Err(refusal),
            Err(refusal) if !progress.rate_counted => {
                self.check_rate_limit(client_ip).await?;
                Err(refusal)
            }
            other => other,
        }
    }
}
