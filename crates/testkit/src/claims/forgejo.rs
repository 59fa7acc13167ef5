//! Forgejo Actions OIDC token claims (`enable-openid-connect: true`; Codeberg, Gitea).

use serde_json::{Value, json};

use super::{Overrides, finish, new_jti, object, override_setters, text_setters};

/// Forgejo claims. Defaults: `octo-org/sampleproject` (owner id 1234, repository id
/// 5678), `.forgejo/workflows/release.yml` run by a push of tag `v1.0.0`, environment
/// `pypi`, a fresh `jti`.
#[derive(Debug, Clone)]
pub struct ForgejoClaims {
    owner: String,
    repository: String,
    workflow: String,
    event_name: String,
    environment: Option<String>,
    overrides: Overrides,
}

impl Default for ForgejoClaims {
    fn default() -> Self {
        Self {
            owner: "octo-org".into(),
            repository: "sampleproject".into(),
            workflow: "release.yml".into(),
            event_name: "push".into(),
            environment: Some("pypi".into()),
            overrides: Overrides::default(),
        }
    }
}

override_setters!(ForgejoClaims);
text_setters!(ForgejoClaims {
    /// The workflow file under `.forgejo/workflows/`.
    workflow,
    /// `event_name` (`push`, `pull_request`, `pull_request_target`, …).
    event_name,
} optional {
});

// === impl ForgejoClaims ===

impl ForgejoClaims {
    /// Defaults (see the type docs).
    pub fn new() -> Self {
        Self::default()
    }

    /// `repository_owner` and the repository name.
    pub fn repository(mut self, owner: impl Into<String>, name: impl Into<String>) -> Self {
        self.owner = owner.into();
        self.repository = name.into();
        self
    }

    /// `environment`; `None` removes it.
    pub fn environment(mut self, environment: Option<&str>) -> Self {
        self.environment = environment.map(str::to_owned);
        self
    }

    /// The claim set, shaped like a real Forgejo token.
    pub fn build(&self, iss: &str, audience: &str, now: i64) -> Value {
        let repository = format!("{}/{}", self.owner, self.repository);
        let mut claims = object(json!({
            "jti": new_jti(),
            "sub": format!("repo:{}-1234/{}-5678:ref:refs/tags/v1.0.0", self.owner, self.repository),
            "repository": repository,
            "repository_owner": self.owner,
            "repository_owner_id": "1234",
            "repository_id": "5678",
            "actor": "octocat",
            "actor_id": "42",
            "workflow": self.workflow,
            "workflow_ref": format!("{repository}/.forgejo/workflows/{}@refs/tags/v1.0.0", self.workflow),
            "ref": "refs/tags/v1.0.0",
            "ref_type": "tag",
            "sha": "d6e1f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4",
            "event_name": self.event_name,
            "run_id": "301",
            "run_number": "12",
            "run_attempt": "1",
        }));
        if let Some(environment) = &self.environment {
            claims.insert("environment".into(), json!(environment));
        }
        finish(claims, iss, audience, now, &self.overrides)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        let claims = ForgejoClaims::new().build("https://codeberg.org/api/actions", "pypi", 0);
        assert_eq!(
            claims["workflow_ref"],
            "octo-org/sampleproject/.forgejo/workflows/release.yml@refs/tags/v1.0.0"
        );
        assert_eq!(claims["environment"], "pypi");
        let pr = ForgejoClaims::new()
            .event_name("pull_request")
            .environment(None)
            .build("https://i", "pypi", 0);
        assert_eq!(pr["event_name"], "pull_request");
        assert!(pr.get("environment").is_none());
    }
}
