//! Verification of a presented token against the keyring and the request context.
//!
//! Order, and why: the key id must be known (retired keys stop verifying), then the HMAC
//! chain must reproduce the signature (compared in constant time) **before** any caveat
//! is looked at, so a forged token learns nothing about caveat evaluation. Third-party
//! caveats are denied outright (trustmint never mints them and has no discharge flow).
//! Then every caveat must hold (AND). Unlike pymacaroons, which stops at the first unmet
//! caveat, **all** failing caveats are evaluated and their reasons are joined with
//! `", "` (duplicates once), the way Warehouse joins its error list. A token without an
//! Expiration, a ProjectName or an OIDCPublisher caveat is denied: a minted token always
//! carries all three, so a token without one was not minted by us.

use std::collections::HashSet;

use crate::caveat::Caveat;
use crate::chain;
use crate::denial::{Denial, DenialKind};
use crate::keyring::Keyring;
use crate::mint::MINTED_CAVEAT_COUNT;
use crate::token::ParsedToken;

/// Reason when the chain does not reproduce the signature (Warehouse's text).
pub const SIGNATURE_MISMATCH: &str = "signatures do not match";
/// Reason when an Expiration caveat does not hold (Warehouse's text).
pub const TOKEN_EXPIRED: &str = "token is expired";
/// Reason when an OIDCPublisher caveat names another publisher (Warehouse's text).
pub const PUBLISHER_MISMATCH: &str =
    "current OIDC publisher does not match publisher restriction in token";

/// What the request is for, and what the store says about the token.
#[derive(Debug, Clone, Copy)]
pub struct VerifyContext<'a> {
    /// The project being uploaded to, PEP 503-normalised.
    pub project: &'a str,
    /// Publisher ids of the stored token record (the OIDCPublisher caveat must name one).
    pub publisher_ids: &'a [String],
    /// Current unix time, seconds.
    pub now: i64,
    /// Tolerated clock difference before `not_before` (the verifying node may run behind
    /// the minting node). Expiry gets no leeway.
    pub not_before_skew_secs: i64,
}

/// A token that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedToken {
    /// Every caveat, in chain order.
    pub caveats: Vec<Caveat>,
    /// The earliest `expires_at` of all Expiration caveats.
    pub expires_at: i64,
    /// The latest `not_before` of all Expiration caveats.
    pub not_before: i64,
    /// Projects every ProjectName caveat allows (their intersection, in the order of the
    /// first caveat).
    pub projects: Vec<String>,
    /// The publisher named by the first OIDCPublisher caveat (the minted one).
    pub publisher_id: String,
    /// Whether a holder appended caveats beyond the minted ones.
    pub attenuated: bool,
}

/// Checks only that `token` was minted with a key of `keyring` and carries an intact
/// HMAC chain (constant-time compare) — no caveat is evaluated. Revocation uses this: the
/// holder of a genuine token may revoke it even after it expired or was attenuated, and
/// knowing a token id alone is not enough.
pub fn verify_signature(token: &ParsedToken, keyring: &Keyring) -> Result<(), Denial> {
    let macaroon = &token.macaroon;
    // `parse_token` guarantees this; a hand-built ParsedToken might not.
    if macaroon.identifier != token.identifier.to_string().as_bytes() {
        return Err(Denial::malformed("identifier does not match the macaroon"));
    }
    let root_key = keyring.root_key(&token.identifier).ok_or_else(|| {
        Denial::new(
            DenialKind::UnknownKey,
            format!(
                "token signing key '{}' is unknown or retired",
                token.identifier.key_id
            ),
        )
    })?;
    if !chain::signature_matches(macaroon, &root_key) {
        return Err(Denial::new(DenialKind::BadSignature, SIGNATURE_MISMATCH));
    }
    Ok(())
}

/// Verifies `token` (see the module docs for the order of checks). On denial the
/// reason is human-readable and safe to return to the index.
pub fn verify(
    token: &ParsedToken,
    keyring: &Keyring,
    context: &VerifyContext<'_>,
) -> Result<VerifiedToken, Denial> {
    verify_signature(token, keyring)?;
    let macaroon = &token.macaroon;
    if macaroon
        .caveats
        .iter()
        .any(|caveat| caveat.is_third_party())
    {
        return Err(Denial::new(
            DenialKind::CaveatFailed,
            "third-party caveats are not supported",
        ));
    }

    let mut failures = Failures::default();
    let mut caveats = Vec::with_capacity(macaroon.caveats.len());
    for raw in &macaroon.caveats {
        match Caveat::parse(&raw.identifier) {
            Ok(caveat) => {
                if let Err(reason) = check(&caveat, context) {
                    failures.add(reason);
                }
                caveats.push(caveat);
            }
            Err(error) => failures.add(error.to_string()),
        }
    }
    let required = Required::of(&caveats);
    if let Err(missing) = &required {
        missing
            .iter()
            .for_each(|reason| failures.add((*reason).to_owned()));
    }
    failures.into_denial()?;
    let required =
        required.map_err(|missing| Denial::new(DenialKind::CaveatFailed, missing.join(", ")))?;

    // A door's token carries its Ecosystem caveat right after the three minted ones.
    let minted_count = MINTED_CAVEAT_COUNT
        + usize::from(matches!(
            caveats.get(MINTED_CAVEAT_COUNT),
            Some(Caveat::Ecosystem(_))
        ));
    Ok(VerifiedToken {
        attenuated: caveats.len() > minted_count,
        caveats,
        expires_at: required.expires_at,
        not_before: required.not_before,
        projects: required.projects,
        publisher_id: required.publisher_id,
    })
}

/// Whether one caveat holds in `context`; `Err` carries the reason.
fn check(caveat: &Caveat, context: &VerifyContext<'_>) -> Result<(), String> {
    match caveat {
        Caveat::Expiration {
            expires_at,
            not_before,
        } => {
            let earliest = not_before.saturating_sub(context.not_before_skew_secs);
            if context.now < earliest || context.now >= *expires_at {
                return Err(TOKEN_EXPIRED.into());
            }
        }
        Caveat::ProjectName(names) => {
            if !names.iter().any(|name| name == context.project) {
                return Err(format!(
                    "project-scoped token is not valid for project: '{}'",
                    context.project
                ));
            }
        }
        Caveat::OidcPublisher { publisher_id } => {
            if !context.publisher_ids.contains(publisher_id) {
                return Err(PUBLISHER_MISMATCH.into());
            }
        }
        // Which ecosystem a token may be used for is the exchange's to judge (it knows
        // the door a verification asks for): see `VerifiedToken::ecosystem`.
        Caveat::Ecosystem(_) => {}
        Caveat::ProjectId(_) => {
            return Err(
                "token with project ID restriction cannot be verified by this service".into(),
            );
        }
        // Warehouse's text for a user-restricted token on a request without a user,
        // which every trustmint request is.
        Caveat::RequestUser(_) => {
            return Err("token with user restriction without a user".into());
        }
    }
    Ok(())
}

/// Failure reasons in caveat order, each once.
#[derive(Default)]
struct Failures(Vec<String>);

impl Failures {
    fn add(&mut self, reason: String) {
        if !self.0.contains(&reason) {
            self.0.push(reason);
        }
    }

    fn into_denial(self) -> Result<(), Denial> {
        if self.0.is_empty() {
            return Ok(());
        }
        Err(Denial::new(DenialKind::CaveatFailed, self.0.join(", ")))
    }
}

/// What the required caveats add up to.
struct Required {
    /// Latest not_before.
    not_before: i64,
    /// Earliest expires_at.
    expires_at: i64,
    /// Intersection of the ProjectName lists.
    projects: Vec<String>,
    /// First OIDCPublisher id.
    publisher_id: String,
}

impl Required {
    /// Combines the caveats, or names every required kind that is missing.
    fn of(caveats: &[Caveat]) -> Result<Required, Vec<&'static str>> {
        let mut window: Option<(i64, i64)> = None;
        let mut projects: Option<Vec<String>> = None;
        let mut publisher_id: Option<&String> = None;
        for caveat in caveats {
            match caveat {
                Caveat::Expiration {
                    expires_at,
                    not_before,
                } => {
                    window = Some(match window {
                        None => (*not_before, *expires_at),
                        Some((nbf, exp)) => (nbf.max(*not_before), exp.min(*expires_at)),
                    });
                }
                Caveat::ProjectName(names) => {
                    projects = Some(match projects.take() {
                        None => dedup(names),
                        Some(mut kept) => {
                            // A set, not `names.contains`: a holder may append a huge
                            // project caveat, which must not make verification quadratic.
                            let allowed: HashSet<&String> = names.iter().collect();
                            kept.retain(|name| allowed.contains(name));
                            kept
                        }
                    });
                }
                Caveat::OidcPublisher { publisher_id: id } => {
                    publisher_id.get_or_insert(id);
                }
                Caveat::ProjectId(_) | Caveat::RequestUser(_) | Caveat::Ecosystem(_) => {}
            }
        }
        match (window, projects, publisher_id) {
            (Some((not_before, expires_at)), Some(projects), Some(publisher_id)) => Ok(Required {
                not_before,
                expires_at,
                projects,
                publisher_id: publisher_id.clone(),
            }),
            (window, projects, publisher_id) => {
                let mut missing = Vec::new();
                if window.is_none() {
                    missing.push("token has no expiration caveat");
                }
                if projects.is_none() {
                    missing.push("token has no project caveat");
                }
                if publisher_id.is_none() {
                    missing.push("token has no OIDC publisher caveat");
                }
                Err(missing)
            }
        }
    }
}

/// `names` without repeats, in first-seen order (linear: see the retain above).
fn dedup(names: &[String]) -> Vec<String> {
    let mut seen: HashSet<&String> = HashSet::with_capacity(names.len());
    names
        .iter()
        .filter(|name| seen.insert(name))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests;
