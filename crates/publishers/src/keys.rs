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

use crate::{Provider, PublisherSpec};

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

impl LookupKey {
    /// A platform's key: its kind, the canonical issuer, then what the platform groups
    /// publishers by. Platforms fold case ASCII-only on purpose: every name these keys
    /// hold is ASCII once validated, and Unicode folding would let a token spell `k` as
    /// KELVIN SIGN (U+212A, which lowercases to `k`) and land on another repository's
    /// candidates.
    pub(crate) fn for_platform(provider: Provider, issuer: &str, parts: &[&str]) -> Self {
        let mut all = vec![provider.as_str(), canonical_issuer(issuer)];
        all.extend_from_slice(parts);
        Self::from_parts(&all)
    }

    /// One repository (`owner/name`, case-insensitive) under one issuer: the key of
    /// GitHub's and Forgejo's publishers and tokens.
    pub(crate) fn for_repository(provider: Provider, issuer: &str, repository: &str) -> Self {
        Self::for_platform(provider, issuer, &[&repository.to_ascii_lowercase()])
    }
}

/// The identity parts of a repository workflow publisher (GitHub, Forgejo): owner and
/// repository names folded as they match, the owner id and workflow file as written,
/// the environment lowercased.
pub(crate) fn repository_identity(
    owner: &str,
    owner_id: &str,
    name: &str,
    workflow: &str,
    environment: &str,
) -> Vec<String> {
    vec![
        owner.to_ascii_lowercase(),
        owner_id.to_owned(),
        name.to_ascii_lowercase(),
        workflow.to_owned(),
        environment.to_lowercase(),
    ]
}

impl PublisherSpec {
    /// The lookup key of this publisher (see the module docs).
    pub fn lookup_key(&self) -> LookupKey {
        self.lookup_key_with_issuer(&self.issuer())
    }

    /// The identity key of this publisher: every field that decides a match, with
    /// case-insensitive fields lowercased and empty optional fields kept empty.
    pub fn identity_key(&self) -> String {
        let kind = self.provider().as_str();
        let issuer = self.issuer();
        let issuer = canonical_issuer(&issuer);
        let parts = self.identity_parts();
        let mut all = vec![kind.to_owned(), issuer.to_owned()];
        all.extend(parts);
        serde_json::to_string(&all).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use crate::test_support::{activestate_spec, github_spec, gitlab_spec, google_spec};
    use crate::{GitLabPublisher, PublisherSpec};

    /// The key strings are part of the store's layout (`{pub}:k:<lookup key>`).
    #[test]
    fn lookup_key_shapes() {
        let custom_gitlab = PublisherSpec::GitLab(GitLabPublisher {
            namespace: "Group/Sub".into(),
            project: "Proj".into(),
            issuer: "https://gitlab.example.com/".into(),
            ..gitlab_spec()
        });
        for (spec, expected) in [
            (
                PublisherSpec::GitHub(github_spec()),
                r#"["github","https://token.actions.githubusercontent.com","octo-org/sampleproject"]"#,
            ),
            (
                custom_gitlab,
                r#"["gitlab","https://gitlab.example.com","group/sub/proj"]"#,
            ),
            (
                PublisherSpec::Google(google_spec()),
                r#"["google","https://accounts.google.com","publisher@my-project.iam.gserviceaccount.com"]"#,
            ),
            (
                PublisherSpec::ActiveState(activestate_spec()),
                r#"["activestate","https://platform.activestate.com/api/v1/oauth/oidc","fakeorg","fakeproject"]"#,
            ),
        ] {
            assert_eq!(spec.lookup_key().as_str(), expected);
        }
    }

    #[test]
    fn identity_key_folds_case_where_matching_does() {
        let mut shouting = github_spec();
        shouting.repository_owner = "OCTO-ORG".into();
        shouting.environment = "PyPI".into();
        let mut quiet = github_spec();
        quiet.environment = "pypi".into();
        assert_eq!(
            PublisherSpec::GitHub(shouting).identity_key(),
            PublisherSpec::GitHub(quiet.clone()).identity_key()
        );
        let mut other_workflow = quiet.clone();
        other_workflow.workflow_filename = "Release.yml".into();
        assert_ne!(
            PublisherSpec::GitHub(other_workflow).identity_key(),
            PublisherSpec::GitHub(quiet).identity_key()
        );
    }
}
