//! Lookup and identity keys of publishers.
//!
//! A *lookup key* groups the publishers a token could match: one repository (GitHub),
//! one project path (GitLab), one email (Google), one organization/project
//! (ActiveState), always under one issuer, so a token never even sees publishers of
//! another issuer or repository. Case-insensitive fields are lowercased. The same key is
//! computed from a publisher (`PublisherSpec::lookup_key`) and from a token's claims
//! (`lookup_key_for_claims`), and stores index publishers by it.
//!
//! An *identity key* names a publisher's whole identity (every field that decides a
//! match), so creating the same publisher twice finds the first one.
//!
//! Both are JSON arrays of strings: unambiguous whatever characters the fields hold.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::PublisherSpec;

/// The key stores index publishers by; see the module docs.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LookupKey(String);

impl LookupKey {
    pub(crate) fn from_parts(parts: &[&str]) -> Self {
        Self(serde_json::to_string(parts).unwrap_or_default())
    }

    /// The key as text (used verbatim in store keys).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for LookupKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Trailing slashes never distinguish issuers (`https://gitlab.example.com/` is
/// `https://gitlab.example.com`).
pub(crate) fn canonical_issuer(issuer: &str) -> &str {
    issuer.trim_end_matches('/')
}

impl PublisherSpec {
    /// The lookup key of this publisher (see the module docs).
    pub fn lookup_key(&self) -> LookupKey {
        let kind = self.provider().as_str();
        let issuer = canonical_issuer(self.issuer());
        match self {
            PublisherSpec::GitHub(p) => {
                let repository =
                    format!("{}/{}", p.repository_owner, p.repository_name).to_lowercase();
                LookupKey::from_parts(&[kind, issuer, &repository])
            }
            PublisherSpec::GitLab(p) => {
                let path = format!("{}/{}", p.namespace, p.project).to_lowercase();
                LookupKey::from_parts(&[kind, issuer, &path])
            }
            PublisherSpec::Google(p) => LookupKey::from_parts(&[kind, issuer, &p.email]),
            PublisherSpec::ActiveState(p) => {
                LookupKey::from_parts(&[kind, issuer, &p.organization, &p.project])
            }
        }
    }

    /// The identity key of this publisher: every field that decides a match, with
    /// case-insensitive fields lowercased and empty optional fields kept empty.
    pub fn identity_key(&self) -> String {
        let kind = self.provider().as_str();
        let issuer = canonical_issuer(self.issuer());
        let parts: Vec<String> = match self {
            PublisherSpec::GitHub(p) => vec![
                p.repository_owner.to_lowercase(),
                p.repository_owner_id.clone(),
                p.repository_name.to_lowercase(),
                p.workflow_filename.clone(),
                p.environment.to_lowercase(),
                p.workflow_repository.to_lowercase(),
            ],
            PublisherSpec::GitLab(p) => vec![
                p.namespace.to_lowercase(),
                p.project.to_lowercase(),
                p.workflow_filepath.clone(),
                p.environment.clone(),
                p.namespace_id.clone(),
                p.project_id.clone(),
            ],
            PublisherSpec::Google(p) => vec![p.email.clone(), p.sub.clone()],
            PublisherSpec::ActiveState(p) => vec![
                p.organization.clone(),
                p.project.clone(),
                p.actor_id.clone(),
            ],
        };
        let mut all = vec![kind.to_owned(), issuer.to_owned()];
        all.extend(parts);
        serde_json::to_string(&all).unwrap_or_default()
    }
}
