//! The one place CI platforms are registered. Each line names the config spelling, the
//! variant, the platform's [`Platform`] implementation (in its own folder) and its spec
//! type; the macro below derives from that list the [`Provider`] enum, the
//! [`PublisherSpec`] enum and every per-platform dispatch, so no other code matches on
//! the platform kind.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::claims::TokenClaims;
use crate::diagnostics::NoMatch;
use crate::fields;
use crate::keys::LookupKey;
use crate::platform::{Platform, PlatformToken};
use crate::policy::{PolicyClaims, PolicyFacts};
use crate::reasons::shown;
use crate::validation::ValidationError;
use crate::verdict::Verdict;
use crate::{
    ActiveStatePublisher, BitbucketPublisher, BuildkitePublisher, CircleCIPublisher,
    ForgejoPublisher, GitHubPublisher, GitLabPublisher, GooglePublisher, OidcIssuerRules,
    OidcPublisher, Publisher, activestate, bitbucket, buildkite, circleci, forgejo, github, gitlab,
    google, oidc,
};

macro_rules! register_platforms {
    ($(
        $(#[$doc:meta])*
        $kind:literal => $variant:ident($platform:ty, $spec:ty)
    ),+ $(,)?) => {
        /// A kind of publisher, one per CI platform family. Self-managed and enterprise
        /// installations are the same kind with another issuer.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum Provider {
            $( $(#[$doc])* #[serde(rename = $kind)] $variant, )+
        }

        impl Provider {
            /// Every provider, in registration order.
            pub const ALL: &'static [Provider] = &[$(Provider::$variant),+];

            /// The lowercase name used in config (`kind = "github"`), metrics, the
            /// audit log and PyPI's `not-enabled` description.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( Provider::$variant => $kind, )+
                }
            }

            /// The display name PyPI uses in events ("GitHub", "GitLab", …).
            pub fn display_name(self) -> &'static str {
                match self {
                    $( Provider::$variant => <$platform as Platform>::DISPLAY_NAME, )+
                }
            }

            /// The provider's public issuer, trusted by a publisher that names no issuer
            /// (a `url_pattern` when [`public_issuer_is_pattern`](Self::public_issuer_is_pattern);
            /// `""` when no instance is trusted by default).
            pub fn public_issuer(self) -> &'static str {
                match self {
                    $( Provider::$variant => <$platform as Platform>::PUBLIC_ISSUER, )+
                }
            }

            /// Whether [`public_issuer`](Self::public_issuer) is a `url_pattern` (one
            /// issuer per tenant) rather than one URL.
            pub fn public_issuer_is_pattern(self) -> bool {
                match self {
                    $( Provider::$variant => <$platform as Platform>::PUBLIC_ISSUER_IS_PATTERN, )+
                }
            }

            /// The placeholders an `[[issuers]] audiences` template of this kind may
            /// name (`workspace_uuid` for Bitbucket); empty for most kinds.
            pub fn audience_placeholders(self) -> &'static [&'static str] {
                match self {
                    $( Provider::$variant => <$platform as Platform>::AUDIENCE_PLACEHOLDERS, )+
                }
            }

            /// What `placeholder` stands for in a verified token of this kind: the
            /// token's own tenant, which its publishers pin. `None` when unknown.
            pub fn audience_placeholder_value(
                self,
                placeholder: &str,
                claims: &TokenClaims<'_>,
            ) -> Option<String> {
                match self {
                    $( Provider::$variant => <$platform as Platform>::audience_placeholder(placeholder, claims), )+
                }
            }

            /// The claims a publisher policy can check on this provider's tokens.
            pub(crate) fn policy_claims(self) -> PolicyClaims {
                match self {
                    $( Provider::$variant => <$platform as Platform>::POLICY_CLAIMS, )+
                }
            }

            /// The config/proto field names of this provider's publishers, in
            /// declaration order, as serde's derive declares them.
            pub fn spec_fields(self) -> &'static [&'static str] {
                match self {
                    $( Provider::$variant => fields::field_names::<$spec>(), )+
                }
            }

            /// Reads this provider's publisher fields (without `kind` and `projects`)
            /// into its spec type; the error names the offending field.
            pub(crate) fn spec_from_fields(
                self,
                fields: Value,
            ) -> Result<PublisherSpec, ValidationError> {
                match self {
                    $( Provider::$variant => from_fields::<$spec>(fields).map(PublisherSpec::$variant), )+
                }
            }
        }

        /// The identity a publisher trusts, one variant per provider. Field names are
        /// those of the proto messages and of `[[publishers]]` config entries. An empty
        /// string means "not set" for every optional field (PyPI's convention), so the
        /// wire, the config and the store agree without `Option` juggling.
        #[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(tag = "kind")]
        pub enum PublisherSpec {
            $( $(#[$doc])* #[serde(rename = $kind)] $variant($spec), )+
        }

        impl PublisherSpec {
            /// The provider this identity belongs to.
            pub fn provider(&self) -> Provider {
                match self {
                    $( PublisherSpec::$variant(_) => Provider::$variant, )+
                }
            }

            /// The issuer URL this publisher trusts: its configured one, else the
            /// provider's public issuer (per-tenant platforms: the tenant's issuer). A
            /// token from any other issuer never matches it.
            pub fn issuer(&self) -> String {
                match self {
                    $( PublisherSpec::$variant(spec) => <$platform as Platform>::issuer(spec), )+
                }
            }

            /// The issuer this publisher names: `None` for platforms with one fixed
            /// issuer, `Some("")` when it could name one but trusts the public one.
            pub fn configured_issuer(&self) -> Option<&str> {
                match self {
                    $( PublisherSpec::$variant(spec) => <$platform as Platform>::configured_issuer(spec), )+
                }
            }

            pub(crate) fn lookup_key_with_issuer(&self, issuer: &str) -> LookupKey {
                match self {
                    $( PublisherSpec::$variant(spec) => <$platform as Platform>::lookup_key(spec, issuer), )+
                }
            }

            pub(crate) fn identity_parts(&self) -> Vec<String> {
                match self {
                    $( PublisherSpec::$variant(spec) => <$platform as Platform>::identity_parts(spec), )+
                }
            }

            /// Checks every input rule of this publisher kind; the first broken rule is
            /// the error. Required fields must be non-empty; every field is at most
            /// [`MAX_FIELD_LEN`](crate::MAX_FIELD_LEN) characters.
            pub fn validate(&self) -> Result<(), ValidationError> {
                match self {
                    $( PublisherSpec::$variant(spec) => <$platform as Platform>::validate(spec), )+
                }
            }

            /// A short human description, e.g.
            /// `GitHub octo-org/sampleproject release.yml (environment pypi)`; a custom
            /// issuer is appended as `on <issuer>`.
            pub fn describe(&self) -> String {
                match self {
                    $( PublisherSpec::$variant(spec) => <$platform as Platform>::describe(spec), )+
                }
            }

            /// What tells a publisher from others sharing its lookup key (same
            /// repository, project, email): `workflow 'release.yml', environment 'pypi'`.
            pub(crate) fn label(&self) -> String {
                match self {
                    $( PublisherSpec::$variant(spec) => <$platform as Platform>::label(spec), )+
                }
            }

            /// The web page a publish came from, as PyPI's `publisher_url` (reference
            /// §3.2–3.5), with `/commit/{sha}` when `stored_claims` has the sha and the
            /// platform links commits; `None` for platforms without a page (Google).
            pub fn publisher_url(
                &self,
                stored_claims: Option<&BTreeMap<String, String>>,
            ) -> Option<String> {
                match self {
                    $( PublisherSpec::$variant(spec) => <$platform as Platform>::publisher_url(spec, stored_claims), )+
                }
            }
        }

        /// A token's claims, checked for presence and read for its provider.
        #[derive(Debug)]
        pub(crate) enum ProviderToken {
            $( $variant(<$platform as Platform>::Token), )+
        }

        impl ProviderToken {
            /// PyPI's steps before its lookup: the fixed-issuer check (Google,
            /// ActiveState), required claims, and finding the workflow file.
            pub(crate) fn read(provider: Provider, claims: &TokenClaims<'_>) -> Result<Self, NoMatch> {
                Ok(match provider {
                    $( Provider::$variant => Self::$variant(<<$platform as Platform>::Token as PlatformToken>::read(claims)?), )+
                })
            }

            /// The lookup key the token selects.
            pub(crate) fn lookup_key(&self) -> LookupKey {
                match self {
                    $( Self::$variant(token) => token.lookup_key(), )+
                }
            }

            /// What every candidate shares, for diagnostics (`repository 'o/r'`).
            pub(crate) fn subject(&self) -> String {
                match self {
                    $( Self::$variant(token) => token.subject(), )+
                }
            }

            /// Provenance kept with a minted token (without `publisher_url`).
            pub(crate) fn stored_claims(&self) -> BTreeMap<String, String> {
                match self {
                    $( Self::$variant(token) => token.stored_claims(), )+
                }
            }

            /// The job ran a reusable workflow (GitHub).
            pub(crate) fn reusable_workflow_used(&self) -> bool {
                match self {
                    $( Self::$variant(token) => <$platform as Platform>::reusable_workflow_used(token), )+
                }
            }

            /// The token's values of the claims a publisher policy checks.
            pub(crate) fn policy_facts(&self) -> PolicyFacts {
                match self {
                    $( Self::$variant(token) => <$platform as Platform>::policy_facts(token), )+
                }
            }

            /// Checks one publisher; `None` when it is of another provider.
            pub(crate) fn evaluate(&self, spec: &PublisherSpec) -> Option<Verdict> {
                match (self, spec) {
                    $( (Self::$variant(token), PublisherSpec::$variant(spec)) => {
                        Some(token.evaluate(spec))
                    } )+
                    #[allow(unreachable_patterns)] // one registered platform leaves no other
                    _ => None,
                }
            }

            /// Remarks about the token itself, given the candidates that were checked.
            pub(crate) fn hints(&self, checked: &[&Publisher]) -> Vec<String> {
                match self {
                    $( Self::$variant(token) => {
                        let specs: Vec<&$spec> = checked
                            .iter()
                            .filter_map(|p| match &p.spec {
                                PublisherSpec::$variant(spec) => Some(spec),
                                #[allow(unreachable_patterns)]
                                _ => None,
                            })
                            .collect();
                        <$platform as Platform>::hints(token, &specs)
                    } )+
                }
            }
        }
    };
}

register_platforms! {
    /// GitHub Actions (github.com, enterprise slugs, GHES).
    "github" => GitHub(github::GitHub, GitHubPublisher),
    /// GitLab CI/CD (gitlab.com or self-managed).
    "gitlab" => GitLab(gitlab::GitLab, GitLabPublisher),
    /// Google Cloud service accounts.
    "google" => Google(google::Google, GooglePublisher),
    /// The ActiveState Platform.
    "activestate" => ActiveState(activestate::ActiveState, ActiveStatePublisher),
    /// Buildkite agents (one issuer shared by every organization).
    "buildkite" => Buildkite(buildkite::Buildkite, BuildkitePublisher),
    /// CircleCI (one issuer per organization).
    "circleci" => CircleCI(circleci::CircleCI, CircleCIPublisher),
    /// Bitbucket Pipelines (one issuer per workspace).
    "bitbucket" => Bitbucket(bitbucket::Bitbucket, BitbucketPublisher),
    /// Forgejo, Gitea and Codeberg Actions (an instance per configured issuer).
    "forgejo" => Forgejo(forgejo::Forgejo, ForgejoPublisher),
    /// Any OIDC issuer an operator trusts from config (`[[issuers]] kind = "oidc"`).
    "oidc" => Oidc(oidc::Oidc, OidcPublisher),
}

impl Provider {
    /// Parses the config spelling (`github`, `gitlab`, …).
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|p| p.as_str() == raw)
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PublisherSpec {
    /// The rules that need the issuer's `[[issuers]]` entry (custom issuers' required
    /// and pattern claims); other kinds have none.
    pub fn validate_for_issuer(&self, rules: &OidcIssuerRules) -> Result<(), ValidationError> {
        match self {
            PublisherSpec::Oidc(spec) => oidc::validate_for_issuer(spec, rules),
            _ => Ok(()),
        }
    }

    /// This spec as registered under an issuer with `rules`: a custom-issuer publisher
    /// is indexed by the issuer's first required claim, so the store finds it by the
    /// key its tokens select. Call after [`PublisherSpec::validate_for_issuer`].
    pub fn bound_to_issuer(mut self, rules: &OidcIssuerRules) -> Self {
        if let (PublisherSpec::Oidc(spec), Some(first)) = (&mut self, rules.required_claims.first())
        {
            spec.lookup_claim = first.clone();
        }
        self
    }
}

impl ProviderToken {
    /// The refusal when the token's repository (project, email) has no publisher at all
    /// under its issuer.
    pub(crate) fn nothing_registered(&self, issuer: &str) -> NoMatch {
        let detail = format!(
            "no publisher is registered for {} with issuer {}",
            self.subject(),
            shown(issuer)
        );
        NoMatch::not_found().with_details(std::iter::once(detail).chain(self.hints(&[])))
    }
}

/// Deserializes one spec type from its fields; the error names the field and says
/// what it must be (the wording of `fields.rs`).
fn from_fields<T: serde::de::DeserializeOwned>(fields: Value) -> Result<T, ValidationError> {
    serde_path_to_error::deserialize(fields).map_err(|error| {
        let field = error.path().to_string();
        let field = if field == "." {
            "publisher".to_owned()
        } else {
            field
        };
        ValidationError::new(field, error.into_inner().to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Registration order is config order; every spelling round-trips.
    #[test]
    fn providers_round_trip_their_spelling() {
        let kinds: Vec<&str> = Provider::ALL.iter().map(|p| p.as_str()).collect();
        assert_eq!(
            kinds,
            [
                "github",
                "gitlab",
                "google",
                "activestate",
                "buildkite",
                "circleci",
                "bitbucket",
                "forgejo",
                "oidc"
            ]
        );
        for provider in Provider::ALL {
            assert_eq!(Provider::parse(provider.as_str()), Some(*provider));
            let json = serde_json::to_value(provider).unwrap_or_default();
            assert_eq!(json, Value::String(provider.as_str().to_owned()));
        }
        assert_eq!(Provider::parse("GitHub"), None);
    }

    /// The field lists serde declares are what the spec types serialize: a renamed or
    /// added field cannot drift between declarations, the docs and the store.
    #[test]
    fn spec_fields_are_the_serialized_fields() {
        for provider in Provider::ALL {
            let empty = provider
                .spec_from_fields(Value::Object(serde_json::Map::new()))
                .unwrap_or_else(|e| panic!("{provider}: {e}"));
            let Value::Object(serialized) = serde_json::to_value(&empty).unwrap_or_default() else {
                panic!("{provider}: not an object");
            };
            let mut serialized: Vec<&str> = serialized
                .keys()
                .map(String::as_str)
                .filter(|k| *k != "kind")
                .collect();
            serialized.sort_unstable();
            let mut declared = provider.spec_fields().to_vec();
            declared.sort_unstable();
            assert_eq!(declared, serialized, "{provider}");
            assert_eq!(empty.provider(), *provider);
        }
        assert_eq!(
            Provider::Google.spec_fields(),
            ["email", "sub"],
            "declaration order is kept"
        );
    }
}
