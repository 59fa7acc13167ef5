//! Realistic claim sets per CI provider (GitHub, GitLab, Google, ActiveState,
//! Buildkite, CircleCI, Bitbucket, Forgejo), as builders with setters.
//!
//! Every builder's `build(iss, audience, now)` sets `iss`, `aud`, `iat = now`,
//! `nbf = now`, `exp = now + 300`, then applies [`claim`](GitHubClaims::claim) overrides
//! and [`without`](GitHubClaims::without) removals last, so tests can shape any edge case.

mod activestate;
mod bitbucket;
mod buildkite;
mod circleci;
mod forgejo;
mod github;
mod gitlab;
mod google;

pub use activestate::ActiveStateClaims;
pub use bitbucket::BitbucketClaims;
pub use buildkite::BuildkiteClaims;
pub use circleci::CircleCIClaims;
pub use forgejo::ForgejoClaims;
pub use github::GitHubClaims;
pub use gitlab::GitLabClaims;
pub use google::GoogleClaims;

use serde_json::{Map, Value};

/// Lifetime given to built tokens, in seconds (GitHub's are ~5 min too).
pub const TOKEN_LIFETIME_SECS: i64 = 300;

/// Per-test additions and removals, applied after the provider's claims.
#[derive(Debug, Clone, Default)]
struct Overrides {
    extra: Map<String, Value>,
    removed: Vec<String>,
}

impl Overrides {
    fn set(&mut self, name: impl Into<String>, value: Value) {
        let name = name.into();
        self.removed.retain(|removed| *removed != name);
        self.extra.insert(name, value);
    }

    fn remove(&mut self, name: impl Into<String>) {
        let name = name.into();
        self.extra.remove(&name);
        self.removed.push(name);
    }
}

/// Adds the registered claims, then the overrides.
fn finish(
    mut claims: Map<String, Value>,
    iss: &str,
    audience: &str,
    now: i64,
    overrides: &Overrides,
) -> Value {
    claims.insert("iss".into(), Value::from(iss));
    claims.insert("aud".into(), Value::from(audience));
    claims.insert("iat".into(), Value::from(now));
    claims.insert("nbf".into(), Value::from(now));
    claims.insert("exp".into(), Value::from(now + TOKEN_LIFETIME_SECS));
    for (name, value) in &overrides.extra {
        claims.insert(name.clone(), value.clone());
    }
    for name in &overrides.removed {
        claims.remove(name);
    }
    Value::Object(claims)
}

/// The map a `json!({...})` literal builds.
fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// A fresh `jti` (GitHub and GitLab send UUIDs).
fn new_jti() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// `iss` without its scheme (GitLab's `ci_config_ref_uri` starts with the host).
fn host_and_path(iss: &str) -> &str {
    let rest = iss.split_once("://").map_or(iss, |(_, rest)| rest);
    rest.strip_suffix('/').unwrap_or(rest)
}

/// Implements `claim` / `without` for a builder with an `overrides` field.
macro_rules! override_setters {
    ($builder:ty) => {
        impl $builder {
            /// Sets (or replaces) any claim, applied last.
            pub fn claim(mut self, name: impl Into<String>, value: serde_json::Value) -> Self {
                self.overrides.set(name, value);
                self
            }

            /// Removes a claim from the built set.
            pub fn without(mut self, name: impl Into<String>) -> Self {
                self.overrides.remove(name);
                self
            }
        }
    };
}
pub(crate) use override_setters;

/// Implements the setters that store one text claim in the builder's field of the same
/// name: `name(value)` sets it, and for the `optional` ones sets `Some(value)`.
macro_rules! text_setters {
    (
        $builder:ty {
            $( $(#[$doc:meta])* $name:ident, )*
        } optional {
            $( $(#[$optional_doc:meta])* $optional:ident, )*
        }
    ) => {
        impl $builder {
            $(
                $(#[$doc])*
                pub fn $name(mut self, value: impl Into<String>) -> Self {
                    self.$name = value.into();
                    self
                }
            )*
            $(
                $(#[$optional_doc])*
                pub fn $optional(mut self, value: impl Into<String>) -> Self {
                    self.$optional = Some(value.into());
                    self
                }
            )*
        }
    };
}
pub(crate) use text_setters;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_and_path_strips_scheme_and_trailing_slash() {
        assert_eq!(host_and_path("https://gitlab.com"), "gitlab.com");
        assert_eq!(
            host_and_path("http://127.0.0.1:9000/gitlab/"),
            "127.0.0.1:9000/gitlab"
        );
    }

    #[test]
    fn overrides_apply_last_and_removals_win_until_set_again() {
        let mut overrides = Overrides::default();
        overrides.set("aud", Value::from(vec!["pypi"]));
        overrides.remove("nbf");
        let built = finish(Map::new(), "https://i", "pypi", 100, &overrides);
        assert_eq!(
            built,
            serde_json::json!({"iss": "https://i", "aud": ["pypi"], "iat": 100, "exp": 400})
        );
        overrides.set("nbf", Value::from(7));
        let built = finish(Map::new(), "https://i", "pypi", 100, &overrides);
        assert_eq!(built["nbf"], 7);
    }
}
