//! The mint's store writes as one call ([`ExchangeStore::commit`]; standalone Redis: one
//! round trip): the rate count, the replay claim, the token record and the audit entry
//! together, after verification and matching instead of the rate count before them.
//!
//! What stays as with the individual calls: every request is counted once against its
//! client's limit (a refusal decided before the commit is counted by
//! [`Exchange::count_refusal`], and a client over its limit gets `rate-limited` whatever
//! else was wrong); a JWT is burnt only when its token was stored; an unknown outcome
//! is abandoned: undone if it ran, a no-op if it arrives later; no token leaves whose record
//! was not stored.

use std::net::IpAddr;
use std::sync::Arc;

use trustmint_claims::{ReplayKey, VerifiedClaims, replay_expiry};
use trustmint_store::{CommitOutcome, ExchangeCommit, ExchangeStore, PublisherGeneration};

use crate::background_undo::{PendingUndo, PendingUndos};
use crate::mint::{MintRequest, MintTrail, Minted};
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

/// The commits of this replica whose outcome was unknown and whose abandon is still
/// being retried, by replay key. A retry of the same JWT that finds it claimed abandons
/// the earlier commit itself first: the earlier one may have run when a frozen store
/// thawed, and the retry must not lose to a background task that has not run yet.
pub(crate) type PendingAbandons = PendingUndos<PendingAbandon>;

/// One unknown commit to undo.
#[derive(Debug, Clone)]
pub(crate) struct PendingAbandon {
    owner: String,
    token_id: String,
    replay_expires_at: i64,
}

impl PendingUndo for PendingAbandon {
    fn owner(&self) -> &str {
        &self.owner
    }
}

/// What a commit needs to know about the exchange it ends.
#[derive(Debug)]
pub(crate) struct CommitContext<'a> {
    pub(crate) request: &'a MintRequest,
    pub(crate) verified: &'a VerifiedClaims,
    /// The exchange's time, as its audit event states it.
    pub(crate) time: i64,
    /// The replay key and this exchange's claim on it.
    pub(crate) replay: (&'a ReplayKey, &'a str),
}

impl Exchange {
    /// Mints for the trail's publishers and commits the token with one store call; on a commit that
    /// finds the publishers changed (on another replica), matches afresh and tries again.
    pub(crate) async fn commit_mint(
        &self,
        commit: &Arc<dyn ExchangeStore>,
        context: CommitContext<'_>,
        mut generation: Option<PublisherGeneration>,
        trail: &mut MintTrail,
        progress: &mut MintProgress,
    ) -> Result<Minted, ExchangeError> {
        let CommitContext {
            request,
            verified,
            time,
            replay: (replay_key, claim_owner),
        } = context;
        for _ in 0..MAX_COMMIT_ATTEMPTS {
            let (minted, record) = self.mint_unstored(
                trail.ecosystem,
                &trail.publishers,
                trail.projects.clone(),
                trail.identity.clone(),
            )?;
            // The success event, complete before the write that makes it true.
            let fields = self.backends.audit.as_ref().map(|_| {
                trail
                    .audit_event(time, request.client_ip, Ok(&minted))
                    .fields()
            });
            let rate_key = self.rate_key(request.client_ip);
            let writes = ExchangeCommit {
                rate_key: rate_key.as_deref(),
                replay_key: replay_key.as_str(),
                replay_owner: claim_owner,
                replay_expires_at: replay_expiry(verified.exp),
                record: &record,
                ttl_secs: self.settings.token_ttl_secs,
                audit: fields.as_deref(),
                publishers_read_at: generation.as_ref(),
            };
            let outcome = self
                .store_call("exchange_commit", commit.commit(&writes))
                .await;
            match outcome {
                Err(error) => {
                    // Unknown outcome: it may have counted and claimed. Undo the claim
                    // if it is ours, so a retry is not a replay.
                    progress.rate_counted = true;
                    self.abandon_in_background(
                        commit,
                        (replay_key, claim_owner),
                        &record.token_id,
                        writes.replay_expires_at,
                    );
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
                    // Claimed by an earlier attempt of this replica whose outcome was
                    // unknown: undo it now and try again, rather than call the JWT used.
                    let Some(earlier) = self.pending_abandons.take(replay_key.as_str()) else {
                        return Err(ExchangeError::InvalidReuseToken);
                    };
                    if let Err(error) = self
                        .store_call(
                            "exchange_abandon",
                            commit.abandon(
                                replay_key.as_str(),
                                &earlier.owner,
                                &earlier.token_id,
                                earlier.replay_expires_at,
                            ),
                        )
                        .await
                    {
                        self.pending_abandons.insert(replay_key.as_str(), earlier);
                        return Err(error);
                    }
                }
                Ok(CommitOutcome::PublishersChanged) => {
                    generation = self.match_publishers(verified, trail, true).await?;
                }
            }
        }
        Err(ExchangeError::unavailable(
            "the matched publishers kept changing during the exchange",
        ))
    }

    /// Abandons this exchange's commit without making the client wait (the commit
    /// already cost it one timeout), retrying until the store answers: the commit may
    /// still run later (a frozen Redis runs it when it thaws), and the abandon mark is
    /// what keeps it from burning the JWT then. Gives up after [`UNDO_ATTEMPTS`](crate::background_undo::UNDO_ATTEMPTS)
    /// (the JWT stays burnt until it expires only if the commit runs after that).
    fn abandon_in_background(
        &self,
        commit: &Arc<dyn ExchangeStore>,
        (replay_key, claim_owner): (&ReplayKey, &str),
        token_id: &str,
        replay_expires_at: i64,
    ) {
        let commit = Arc::clone(commit);
        let key = replay_key.as_str().to_owned();
        self.pending_abandons.run_in_background(
            Arc::clone(&self.metrics),
            "exchange_abandon",
            replay_key.as_str(),
            PendingAbandon {
                owner: claim_owner.to_owned(),
                token_id: token_id.to_owned(),
                replay_expires_at,
            },
            move |undo| {
                let (commit, key) = (Arc::clone(&commit), key.clone());
                async move {
                    commit
                        .abandon(&key, &undo.owner, &undo.token_id, undo.replay_expires_at)
                        .await
                }
            },
        );
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
