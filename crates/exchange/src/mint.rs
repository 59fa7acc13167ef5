//! The mint use case: a CI job's OIDC token in, a short-lived upload token out.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Instant;

use tracing::Instrument as _;
use trustmint_claims::{ClaimsError, ReplayKey, RoutedToken, VerifiedClaims, replay_expiry};
use trustmint_publishers::{
    Ecosystem, Match, ProjectName, Provider, Publisher, TokenClaims, find_match,
    lookup_key_for_claims,
};
use trustmint_store::{PublisherGeneration, RateDecision, TokenRecord};
use trustmint_telemetry::{AuditAction, AuditEvent, ExchangeOutcome, UNKNOWN_ISSUER_KIND};
use trustmint_tokens::{MintRequest as TokenMintRequest, MintedToken, mint_for_ecosystem};

use crate::commit::{CommitContext, MintProgress};
use crate::provenance::{fill_identity, identity_claims};
use crate::{Door, Exchange, ExchangeError, OidcToken};

/// A mint-token request.
#[derive(Clone, Debug)]
pub struct MintRequest {
    /// The OIDC JWT (secret: `Debug` shows only a hash prefix).
    pub oidc_token: OidcToken,
    /// The CI runner's address, for rate limiting and the audit trail.
    pub client_ip: Option<IpAddr>,
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
    pub claims: BTreeMap<String, String>,
}

impl Minted {
    /// The publisher named in the token.
    pub fn publisher(&self) -> Option<&Publisher> {
        self.publishers.first()
    }
}

/// What a mint attempt learned before it ended, minted or not: the issuer kind labels
/// the metrics and the span, the rest attributes the audit event (refusals included).
#[derive(Debug, Default)]
pub(crate) struct MintTrail {
    /// The front door the request came through.
    pub(crate) door: Option<Door>,
    /// The ecosystem the door mints for: only its publishers match.
    pub(crate) ecosystem: Ecosystem,
    /// The projects the door narrows the token to (npm's package, RFC 8693's `scope`).
    pub(crate) only_projects: Option<Vec<ProjectName>>,
    /// The configured issuer's kind, once the token was routed to one.
    issuer_kind: Option<Provider>,
    /// The token's `iss`, once routed.
    iss: String,
    /// The configured issuer's name, once routed.
    issuer_name: String,
    /// The verified `sub`.
    subject: String,
    /// Who published: the verified token's own identity claims, replaced by the
    /// matched publisher's provenance claims once one matched.
    pub(crate) identity: BTreeMap<String, String>,
    /// The matched (usable) publishers.
    pub(crate) publishers: Vec<Publisher>,
    /// Their projects.
    pub(crate) projects: Vec<ProjectName>,
}

impl MintTrail {
    /// The `issuer_kind` metric label.
    fn issuer_kind_label(&self) -> &'static str {
        self.issuer_kind
            .map_or(UNKNOWN_ISSUER_KIND, Provider::as_str)
    }

    /// The audit event of the attempt that ended with `result`.
    pub(crate) fn audit_event(
        &self,
        time: i64,
        client_ip: Option<IpAddr>,
        result: Result<&Minted, &ExchangeError>,
    ) -> AuditEvent {
        let mut event = match result {
            Ok(minted) => {
                let mut event = AuditEvent::success(AuditAction::Exchange, time);
                event.token_id = minted.token_id.clone();
                event.token_sha256 = minted.token.sha256_hex();
                event.expires_at = minted.expires_at;
                event
            }
            Err(error) => {
                let reason = match error {
                    ExchangeError::InvalidToken { detail } => format!("invalid token: {detail}"),
                    ExchangeError::Unavailable { detail, .. } => detail.clone(),
                    other => other.description(),
                };
                AuditEvent::failure(AuditAction::Exchange, error.code(), reason, time)
            }
        };
        event.client_ip = client_ip.map(|ip| ip.to_string()).unwrap_or_default();
        event.door = self.door.map(Door::as_str).unwrap_or_default().to_owned();
        event.issuer = self.iss.clone();
        event.issuer_name = self.issuer_name.clone();
        event.subject = self.subject.clone();
        fill_identity(&mut event, &self.identity);
        event.publisher_id = self
            .publishers
            .iter()
            .map(|p| p.id.as_str())
            .collect::<Vec<_>>()
            .join(",");
        event.projects = self
            .projects
            .iter()
            .map(ProjectName::as_str)
            .collect::<Vec<_>>()
            .join(",");
        event
    }
}

/// How a mint attempt ended, and what it learned on the way.
#[derive(Debug)]
struct MintOutcome {
    trail: MintTrail,
    result: Result<Minted, ExchangeError>,
}

impl Exchange {
    /// Verifies `request.oidc_token`, matches it to publishers and mints an upload token
    /// for their projects. Errors carry PyPI's codes. A JWT is burnt (recorded as used)
    /// only when a token was actually minted: any failure after the replay claim
    /// releases it, so the CI job can retry with the same JWT.
    pub async fn mint(&self, request: MintRequest) -> Result<Minted, ExchangeError> {
        self.mint_through(Door::Pypi, request, None).await
    }

    /// [`Exchange::mint`] through `door`: the OIDC token must carry that door's
    /// audience, only publishers of the door's ecosystem match, and the token is that
    /// ecosystem's (its prefix; an Ecosystem caveat unless PyPI). `only_projects`
    /// narrows the token to those of the matched projects (npm's package, RFC 8693's
    /// `scope`); when none of them is matched, the exchange fails as `invalid-publisher`.
    #[tracing::instrument(name = "exchange.mint", skip_all, fields(issuer_kind, code, door = door.as_str()))]
    pub async fn mint_through(
        &self,
        door: Door,
        request: MintRequest,
        only_projects: Option<&[ProjectName]>,
    ) -> Result<Minted, ExchangeError> {
        let started = Instant::now();
        let time = self.clock.now();
        let mut progress = MintProgress::new(self);
        let trail = MintTrail {
            door: Some(door),
            ecosystem: self.ecosystem_of(door),
            only_projects: only_projects.map(<[ProjectName]>::to_vec),
            ..MintTrail::default()
        };
        let MintOutcome { trail, result } = self
            .attempt_mint(door, trail, &request, time, &mut progress)
            .await;
        let result = self
            .count_refusal(request.client_ip, result, &progress)
            .await;

        let issuer_kind = trail.issuer_kind_label();
        let span = tracing::Span::current();
        span.record("issuer_kind", issuer_kind);
        let outcome = match &result {
            Ok(_) => ExchangeOutcome::Minted,
            Err(error) => {
                span.record("code", error.code().as_str());
                ExchangeOutcome::Refused(error.code())
            }
        };
        self.metrics.record_exchange(issuer_kind, outcome);
        self.metrics.record_door_exchange(door.as_str(), outcome);
        self.metrics
            .observe_exchange_duration(issuer_kind, started.elapsed());
        let event = trail.audit_event(time, request.client_ip, result.as_ref());
        if progress.audit_appended {
            // The commit already put it on the stream; the log line is still owed.
            event.log();
        } else {
            self.audit(event).await;
        }
        result
    }

    /// One attempt: every step either adds to the trail or ends the attempt.
    async fn attempt_mint(
        &self,
        door: Door,
        mut trail: MintTrail,
        request: &MintRequest,
        time: i64,
        progress: &mut MintProgress,
    ) -> MintOutcome {
        // `?` for a step whose failure ends the attempt with the trail so far.
        macro_rules! step {
            ($result:expr) => {
                match $result {
                    Ok(value) => value,
                    Err(error) => {
                        return MintOutcome {
                            trail,
                            result: Err(error),
                        };
                    }
                }
            };
        }

        if self.backends.commit.is_none() {
            // The individual store calls: count the request first, as always. With one
            // commit call the count is part of it (or of `count_refusal`).
            step!(self.check_rate_limit(request.client_ip).await);
        }
        // PyPI's switch is judged after routing, with PyPI's per-issuer message.
        if door != Door::Pypi && !self.door_enabled(door) {
            step!(Err(ExchangeError::NotEnabled(format!(
                "the {} door is not enabled",
                door.as_str()
            ))));
        }

        let jwt = request.oidc_token.expose_secret();
        let routed = step!(self.verifier.route(jwt).map_err(map_claims_error));
        trail.issuer_kind = Some(routed.issuer.kind);
        trail.iss = routed.iss.clone();
        trail.issuer_name = routed.issuer.name.clone();
        step!(self.check_enabled(&routed));

        let verified = step!(
            self.verifier
                .verify_for_audience(&routed, self.clock.now(), self.audience_of(door))
                .await
                .map_err(map_claims_error)
        );
        trail.subject = verified.subject.clone().unwrap_or_default();
        // Refusals from here on are attributed to the token's repository and workflow;
        // a match below replaces these with the publisher's provenance claims.
        trail.identity = identity_claims(&verified.claims);

        let generation = step!(self.match_publishers(&verified, &mut trail, false).await);

        let replay_key = ReplayKey::new(&verified.iss, verified.jti.as_deref(), jwt);
        // Unique to this exchange: a release removes this exchange's claim and never
        // another's of the same JWT.
        let claim_owner = uuid::Uuid::new_v4().simple().to_string();
        if let Some(commit) = &self.backends.commit {
            // One store call for the claim, the record, the audit entry and the rate
            // count (standalone Redis: one round trip).
            let result = self
                .commit_mint(
                    commit,
                    CommitContext {
                        request,
                        verified: &verified,
                        time,
                        replay: (&replay_key, &claim_owner),
                    },
                    generation,
                    &mut trail,
                    progress,
                )
                .await;
            return MintOutcome { trail, result };
        }
        if let Err(error) = self
            .claim_replay(&replay_key, &claim_owner, &verified)
            .await
        {
            if matches!(error, ExchangeError::Unavailable { .. }) {
                // The claim's outcome is unknown (e.g. Redis applied it but the reply
                // timed out): undo it if it is ours, so a retry is not a replay.
                self.release_in_background(&replay_key, &claim_owner);
            }
            return MintOutcome {
                trail,
                result: Err(error),
            };
        }

        let result = self
            .mint_for(
                trail.ecosystem,
                &trail.publishers,
                trail.projects.clone(),
                trail.identity.clone(),
            )
            .await;
        if result.is_err() {
            // Not burnt: the exchange failed after the claim, so the JWT may be retried.
            self.release_in_background(&replay_key, &claim_owner);
        }
        MintOutcome { trail, result }
    }

    /// The publishers `verified` matches, minus stale pending ones, recorded in the
    /// trail (the audit event is attributed to them); the publisher generation the
    /// candidates were read at, when cached ones may be. `fresh`: never from the cache.
    pub(crate) async fn match_publishers(
        &self,
        verified: &VerifiedClaims,
        trail: &mut MintTrail,
        fresh: bool,
    ) -> Result<Option<PublisherGeneration>, ExchangeError> {
        let (matched, generation) = self
            .find_publishers(verified, trail.ecosystem, fresh)
            .await?;
        // A pending publisher whose project the index has since created is stale.
        let publishers = self.without_stale_pending(matched.publishers).await?;
        let publishers = narrowed(publishers, trail.only_projects.as_deref())?;
        trail.identity = matched.stored_claims;
        trail.projects = projects_of(&publishers, trail.only_projects.as_deref());
        trail.publishers = publishers;
        Ok(generation)
    }

    /// The publishers of `ecosystem` the verified token matches, or `invalid-publisher`
    /// saying why none.
    async fn find_publishers(
        &self,
        verified: &VerifiedClaims,
        ecosystem: Ecosystem,
        fresh: bool,
    ) -> Result<(Match, Option<PublisherGeneration>), ExchangeError> {
        let provider = verified.issuer.kind;
        let token_claims = TokenClaims::new(&verified.iss, &verified.claims)
            .with_oidc_rules(verified.issuer.oidc_rules.as_ref());
        async {
            let lookup_key = lookup_key_for_claims(provider, &token_claims)
                .map_err(|no_match| ExchangeError::InvalidPublisher(no_match.to_string()))?;
            let mut fresh = fresh;
            loop {
                let candidates = self
                    .store_call(
                        "publisher_candidates",
                        self.backends.publishers.candidates_for_exchange(
                            &lookup_key,
                            self.clock.now(),
                            fresh,
                        ),
                    )
                    .await?;
                // One identity may publish to several ecosystems; this door mints for one.
                let publishers: Vec<Publisher> = candidates
                    .publishers
                    .into_iter()
                    .filter(|publisher| publisher.ecosystem == ecosystem)
                    .collect();
                match find_match(provider, &token_claims, &publishers, self.clock.now()) {
                    Ok(matched) => break Ok((matched, candidates.generation)),
                    // A refusal is decided on fresh publishers only: one may have been
                    // registered on another replica since these were cached.
                    Err(_) if candidates.cached => fresh = true,
                    Err(no_match) => {
                        break Err(ExchangeError::InvalidPublisher(no_match.to_string()));
                    }
                }
            }
        }
        .instrument(tracing::info_span!("exchange.match"))
        .await
    }

    pub(crate) async fn check_rate_limit(
        &self,
        client_ip: Option<IpAddr>,
    ) -> Result<(), ExchangeError> {
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
        if self.claim_once(key, owner, verified).await? {
            return Ok(());
        }
        // Claimed by an earlier attempt of this replica whose release is still pending:
        // release it now and claim again, rather than call the JWT used.
        if self.release_pending_claim(key).await? && self.claim_once(key, owner, verified).await? {
            return Ok(());
        }
        Err(ExchangeError::InvalidReuseToken)
    }

    /// One replay claim: `true` when this exchange holds it.
    async fn claim_once(
        &self,
        key: &ReplayKey,
        owner: &str,
        verified: &VerifiedClaims,
    ) -> Result<bool, ExchangeError> {
        self.store_call(
            "replay_claim",
            self.backends
                .replay
                .claim(key.as_str(), owner, replay_expiry(verified.exp)),
        )
        .await
    }

    async fn mint_for(
        &self,
        ecosystem: Ecosystem,
        publishers: &[Publisher],
        projects: Vec<ProjectName>,
        claims: BTreeMap<String, String>,
    ) -> Result<Minted, ExchangeError> {
        let (minted, record) = self.mint_unstored(ecosystem, publishers, projects, claims)?;
        self.store_call(
            "token_put",
            self.backends
                .tokens
                .put(&record, self.settings.token_ttl_secs),
        )
        .await?;
        Ok(minted)
    }

    /// Mints a token for `publishers` and the record to store for it; nothing is stored
    /// yet, so the token must not leave before the record is.
    pub(crate) fn mint_unstored(
        &self,
        ecosystem: Ecosystem,
        publishers: &[Publisher],
        projects: Vec<ProjectName>,
        claims: BTreeMap<String, String>,
    ) -> Result<(Minted, TokenRecord), ExchangeError> {
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
            mint_for_ecosystem(
                &self.keyring(),
                &TokenMintRequest {
                    location: &self.location,
                    prefix: self.token_prefix_of(ecosystem),
                    publisher_id: primary.id.as_str(),
                    projects: &project_names,
                    not_before,
                    expires_at,
                },
                // PyPI's tokens stay exactly Warehouse's three caveats.
                (ecosystem != Ecosystem::Pypi).then_some(ecosystem.as_str()),
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
        let minted = Minted {
            token,
            token_id: identifier.token_id,
            expires_at,
            projects,
            publishers: publishers.to_vec(),
            claims,
        };
        Ok((minted, record))
    }
}

/// The publishers that list one of `only_projects` (all of them without a narrowing);
/// none is `invalid-publisher`, naming the projects asked for.
fn narrowed(
    publishers: Vec<Publisher>,
    only_projects: Option<&[ProjectName]>,
) -> Result<Vec<Publisher>, ExchangeError> {
    let Some(wanted) = only_projects else {
        return Ok(publishers);
    };
    let kept: Vec<Publisher> = publishers
        .into_iter()
        .filter(|publisher| wanted.iter().any(|project| publisher.lists(project)))
        .collect();
    if kept.is_empty() {
        let names = wanted
            .iter()
            .map(|project| format!("'{project}'"))
            .collect::<Vec<_>>()
            .join(", ");
        return Err(ExchangeError::InvalidPublisher(format!(
            "the trusted publisher matching this token is not a publisher of {names}"
        )));
    }
    Ok(kept)
}

/// The projects a token for `publishers` may upload to: the union of theirs (within
/// `only_projects` when given), sorted, without duplicates.
fn projects_of(
    publishers: &[Publisher],
    only_projects: Option<&[ProjectName]>,
) -> Vec<ProjectName> {
    let mut projects: Vec<ProjectName> = publishers
        .iter()
        .flat_map(|p| p.projects.iter().cloned())
        .filter(|project| only_projects.is_none_or(|wanted| wanted.contains(project)))
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
