//! The publisher model: who may mint tokens for which projects.

use serde::{Deserialize, Serialize};

use crate::{Ecosystem, ProjectName, PublisherId, PublisherPolicy, PublisherSpec};

/// How long a pending publisher lives before it expires unused (PyPI: 30 days).
pub const PENDING_PUBLISHER_TTL_SECS: i64 = 30 * 24 * 60 * 60;

/// A trusted publisher: an identity on one CI platform (the [`PublisherSpec`]) that may
/// mint upload tokens for its projects.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Publisher {
    /// Stable identifier (tokens carry it in their OIDCPublisher caveat).
    pub id: PublisherId,
    /// Projects this publisher may upload to, normalised, sorted, without duplicates.
    pub projects: Vec<ProjectName>,
    /// A pending publisher names a project that does not exist in the index yet; the
    /// index confirms it after the first upload created the project.
    pub pending: bool,
    /// The identity the publisher trusts.
    pub spec: PublisherSpec,
    /// Rules on how the trusted workflow ran (refs, protection, runners); stored
    /// publishers written before policies existed read as the default, which
    /// restricts nothing.
    #[serde(default, skip_serializing_if = "PublisherPolicy::is_default")]
    pub policy: PublisherPolicy,
    /// Where the publisher comes from: the config file (always in force, read-only) or
    /// the API (stored in the store).
    pub origin: Origin,
    /// Unix seconds at creation (0 for config-declared publishers).
    pub created_at: i64,
    /// Unix seconds after which a pending publisher is gone; `None` for normal ones.
    pub expires_at: Option<i64>,
    /// The ecosystem its projects belong to (records from before ecosystems: `pypi`).
    /// Only that ecosystem's door mints for it, and its tokens verify only there.
    #[serde(default)]
    pub ecosystem: Ecosystem,
}

/// Where a publisher was declared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    /// A `[[publishers]]` entry of the config file.
    Config,
    /// Created through the gRPC PublisherService.
    Api,
}

impl Publisher {
    /// Whether this publisher lists `project`.
    pub fn lists(&self, project: &ProjectName) -> bool {
        self.projects.binary_search(project).is_ok()
    }

    /// The identity key of this publisher: its spec's, extended by its policy when it
    /// has one and behind its ecosystem unless PyPI, so the same workflow with a stricter policy is another publisher (and
    /// never silently folds into a laxer one), while ids of publishers without a policy
    /// stay what they always were.
    pub fn identity_key(&self) -> String {
        identity_key(&self.spec, &self.policy, self.ecosystem)
    }

    /// Whether a pending publisher has expired at `now` (unix seconds).
    pub fn is_expired(&self, now: i64) -> bool {
        self.expires_at.is_some_and(|at| now >= at)
    }
}

/// See [`Publisher::identity_key`].
pub(crate) fn identity_key(
    spec: &PublisherSpec,
    policy: &PublisherPolicy,
    ecosystem: Ecosystem,
) -> String {
    let parts = policy.identity_parts();
    let key = if parts.is_empty() {
        spec.identity_key()
    } else {
        let mut all: Vec<String> = serde_json::from_str(&spec.identity_key()).unwrap_or_default();
        all.extend(parts);
        serde_json::to_string(&all).unwrap_or_default()
    };
    // Behind the ecosystem for non-PyPI publishers (PyPI's keys and ids stay as they
    // were): an npm publisher of a repository is not the PyPI one of it.
    match ecosystem {
        Ecosystem::Pypi => key,
        other => format!("{other}:{key}"),
    }
}
