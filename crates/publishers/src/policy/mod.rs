//! A publisher's policy: rules on *how* a trusted workflow ran, on top of the platform's
//! identity checks — which git refs may publish, whether the ref must be protected,
//! whether self-hosted runners are trusted, and (GitLab) whether the environment must
//! be protected. PyPI has none of these (warehouse #13911); every rule is off by
//! default, so a publisher without a policy behaves exactly as PyPI's does.
//!
//! A platform says which of these claims its tokens carry ([`PolicyClaims`]) and reads
//! their values from a token ([`PolicyFacts`]); a publisher setting a rule its platform
//! has no claim for is refused when it is written down, not silently never enforced.

mod ref_pattern;

use serde::{Deserialize, Serialize};

use crate::Provider;
use crate::reasons::shown;
use crate::validation::ValidationError;

pub(crate) use ref_pattern::MAX_REF_PATTERNS;

/// The policy keys of a `[[publishers]]` entry (beside `kind`, `projects` and the
/// platform's fields), in declaration order.
pub const POLICY_FIELDS: [&str; 4] = [
    "refs",
    "require_protected_ref",
    "allow_self_hosted_runners",
    "require_protected_environment",
];

/// Rules a token must also satisfy, whatever its platform. The default restricts
/// nothing (PyPI's behaviour).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PublisherPolicy {
    /// Git ref patterns (`refs/tags/v*`, `refs/heads/main`, `refs/heads/release/**`);
    /// the token's ref must match one. Empty = any ref.
    pub refs: Vec<String>,
    /// The token must say its ref is protected (GitHub/GitLab `ref_protected`).
    pub require_protected_ref: bool,
    /// `false`: the job must have run on the platform's hosted runners
    /// (`runner_environment`); a token without the claim is refused.
    pub allow_self_hosted_runners: bool,
    /// GitLab: the job's environment must be protected (`environment_protected`).
    pub require_protected_environment: bool,
}

impl Default for PublisherPolicy {
    fn default() -> Self {
        Self {
            refs: Vec::new(),
            require_protected_ref: false,
            allow_self_hosted_runners: true,
            require_protected_environment: false,
        }
    }
}

/// The claims a platform's tokens carry that a policy can check: the claim names (for
/// messages) and the hosted runners' `runner_environment` value. `None` = the platform
/// has no such claim.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct PolicyClaims {
    /// The claim holding the full git ref (`ref`, `ref_path`, …), or the name of the
    /// value the platform derives it from.
    pub(crate) git_ref: Option<&'static str>,
    /// The claim saying the ref is protected.
    pub(crate) ref_protected: Option<&'static str>,
    /// The claim naming the runner's environment.
    pub(crate) runner_environment: Option<&'static str>,
    /// The value of `runner_environment` on the platform's hosted runners.
    pub(crate) hosted_runner: Option<&'static str>,
    /// The claim saying the job's environment is protected.
    pub(crate) environment_protected: Option<&'static str>,
}

impl PolicyClaims {
    /// A platform without any of these claims.
    pub(crate) const NONE: Self = Self {
        git_ref: None,
        ref_protected: None,
        runner_environment: None,
        hosted_runner: None,
        environment_protected: None,
    };
}

/// One token's values of the [`PolicyClaims`], as text (`true`/`false` whether the
/// platform sends a JSON bool or a string); `None` when the token lacks the claim.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct PolicyFacts {
    pub(crate) git_ref: Option<String>,
    pub(crate) ref_protected: Option<String>,
    pub(crate) runner_environment: Option<String>,
    pub(crate) environment_protected: Option<String>,
}

impl PublisherPolicy {
    /// Restricts nothing (what stored publishers without a policy have).
    pub fn is_default(&self) -> bool {
        *self == Self::default()
    }

    /// The policy's part of a publisher's identity key: empty for the default policy,
    /// so the ids of publishers without one never change.
    pub(crate) fn identity_parts(&self) -> Vec<String> {
        if self.is_default() {
            return Vec::new();
        }
        let mut refs = self.refs.clone();
        refs.sort();
        refs.dedup();
        vec![
            format!("refs={}", serde_json::to_string(&refs).unwrap_or_default()),
            format!("require_protected_ref={}", self.require_protected_ref),
            format!(
                "allow_self_hosted_runners={}",
                self.allow_self_hosted_runners
            ),
            format!(
                "require_protected_environment={}",
                self.require_protected_environment
            ),
        ]
    }

    /// Checks the rules, and that `provider`'s tokens carry every claim a rule set here
    /// needs; the error names the rule.
    pub fn validate(&self, provider: Provider) -> Result<(), ValidationError> {
        let claims = provider.policy_claims();
        let platform = provider.display_name();
        let lacks = |field: &str, what: &str| {
            ValidationError::new(
                field,
                format!(
                    "{platform} tokens carry no {what}, so this rule could never be checked; remove it"
                ),
            )
        };
        if !self.refs.is_empty() {
            if claims.git_ref.is_none() {
                return Err(lacks("refs", "git ref"));
            }
            if self.refs.len() > MAX_REF_PATTERNS {
                return Err(ValidationError::new(
                    "refs",
                    format!("lists at most {MAX_REF_PATTERNS} patterns"),
                ));
            }
            for (index, pattern) in self.refs.iter().enumerate() {
                ref_pattern::validate(index, pattern)?;
            }
        }
        if self.require_protected_ref && claims.ref_protected.is_none() {
            return Err(lacks(
                "require_protected_ref",
                "claim saying the ref is protected",
            ));
        }
        if !self.allow_self_hosted_runners && claims.hosted_runner.is_none() {
            return Err(lacks(
                "allow_self_hosted_runners",
                "claim telling hosted from self-hosted runners",
            ));
        }
        if self.require_protected_environment && claims.environment_protected.is_none() {
            return Err(lacks(
                "require_protected_environment",
                "claim saying the environment is protected",
            ));
        }
        Ok(())
    }

    /// Applies the rules to a token that passed its platform's checks; the error is the
    /// refusal's reason, naming the rule and the token's value.
    pub(crate) fn check(&self, claims: &PolicyClaims, facts: &PolicyFacts) -> Result<(), String> {
        if !self.refs.is_empty() {
            let name = claims.git_ref.unwrap_or("ref");
            let allowed = self.refs.join(", ");
            match facts.git_ref.as_deref().filter(|r| !r.is_empty()) {
                None => {
                    return Err(format!(
                        "the token has no {name}, and the publisher allows only refs {allowed}"
                    ));
                }
                Some(git_ref) if !self.refs.iter().any(|p| ref_pattern::matches(p, git_ref)) => {
                    return Err(format!(
                        "{name} {} matches none of {allowed}",
                        shown(git_ref)
                    ));
                }
                Some(_) => {}
            }
        }
        if self.require_protected_ref {
            let name = claims.ref_protected.unwrap_or("ref_protected");
            is_true(
                "require_protected_ref",
                name,
                facts.ref_protected.as_deref(),
            )?;
        }
        if !self.allow_self_hosted_runners {
            let name = claims.runner_environment.unwrap_or("runner_environment");
            let hosted = claims.hosted_runner.unwrap_or_default();
            match facts.runner_environment.as_deref() {
                Some(value) if value == hosted => {}
                found => {
                    return Err(format!(
                        "allow_self_hosted_runners = false: {}, and only {} runners are trusted",
                        token_has(name, found),
                        shown(hosted)
                    ));
                }
            }
        }
        if self.require_protected_environment {
            let name = claims
                .environment_protected
                .unwrap_or("environment_protected");
            is_true(
                "require_protected_environment",
                name,
                facts.environment_protected.as_deref(),
            )?;
        }
        Ok(())
    }
}

/// `rule`: the claim must be `true`.
fn is_true(rule: &str, name: &str, value: Option<&str>) -> Result<(), String> {
    if value == Some("true") {
        Ok(())
    } else {
        Err(format!("{rule}: {}, not 'true'", token_has(name, value)))
    }
}

/// `the token's <name> is '<value>'` or `the token has no <name>`.
fn token_has(name: &str, value: Option<&str>) -> String {
    match value {
        Some(value) if !value.is_empty() => format!("the token's {name} is {}", shown(value)),
        _ => format!("the token has no {name}"),
    }
}

#[cfg(test)]
mod tests;
