//! GitHub Actions ID token claims.

use serde_json::{Value, json};

use super::{Overrides, finish, new_jti, object, override_setters, text_setters};

/// GitHub Actions claims. Defaults: `octo-org/sampleproject`, workflow `release.yml`
/// on `refs/heads/main`, event `push`, no environment, a fresh UUID `jti` per build.
#[derive(Debug, Clone)]
pub struct GitHubClaims {
    repository: String,
    repository_id: String,
    repository_owner_id: String,
    workflow_filename: String,
    workflow_name: String,
    git_ref: String,
    sha: String,
    event_name: String,
    environment: Option<String>,
    job_workflow_ref: Option<String>,
    actor: String,
    actor_id: String,
    run_id: String,
    jti: Option<String>,
    overrides: Overrides,
}

impl Default for GitHubClaims {
    fn default() -> Self {
        Self {
            repository: "octo-org/sampleproject".into(),
            repository_id: "690123456".into(),
            repository_owner_id: "92345678".into(),
            workflow_filename: "release.yml".into(),
            workflow_name: "Release".into(),
            git_ref: "refs/heads/main".into(),
            sha: "2f9a6d1f8e1c3b7a5d4e6f80912a3b4c5d6e7f80".into(),
            event_name: "push".into(),
            environment: None,
            job_workflow_ref: None,
            actor: "octocat".into(),
            actor_id: "583231".into(),
            run_id: "9876543210".into(),
            jti: None,
            overrides: Overrides::default(),
        }
    }
}

override_setters!(GitHubClaims);
text_setters!(GitHubClaims {
    /// `owner/name`; also sets `repository_owner`.
    repository,
    /// `repository_owner_id` (a decimal string, as GitHub sends it).
    repository_owner_id,
    /// `repository_id`.
    repository_id,
    /// `ref`, e.g. `refs/heads/main` or `refs/tags/v1.0`.
    git_ref,
    /// `sha` (40 hex digits).
    sha,
    /// `event_name`, e.g. `push`, `release`, `pull_request_target`.
    event_name,
} optional {
    /// `environment` (also changes `sub` to `repo:…:environment:<env>`).
    environment,
    /// Overrides `job_workflow_ref` (a reusable workflow, or an attack).
    job_workflow_ref,
    /// A fixed `jti` instead of a fresh UUID per build.
    jti,
});

// === impl GitHubClaims ===

impl GitHubClaims {
    /// Defaults (see the type docs).
    pub fn new() -> Self {
        Self::default()
    }

    /// Workflow file name under `.github/workflows/` (e.g. `release.yml`).
    pub fn workflow(mut self, filename: impl Into<String>) -> Self {
        self.workflow_filename = filename.into();
        self
    }

    /// `actor` and `actor_id`.
    pub fn actor(mut self, actor: impl Into<String>, actor_id: impl Into<String>) -> Self {
        self.actor = actor.into();
        self.actor_id = actor_id.into();
        self
    }

    /// `<repository>/.github/workflows/<workflow>@<ref>`.
    pub fn workflow_ref(&self) -> String {
        format!(
            "{}/.github/workflows/{}@{}",
            self.repository, self.workflow_filename, self.git_ref
        )
    }

    /// The claim set, shaped like a real GitHub Actions token.
    pub fn build(&self, iss: &str, audience: &str, now: i64) -> Value {
        let owner = self
            .repository
            .split_once('/')
            .map_or(self.repository.as_str(), |(owner, _)| owner);
        let ref_type = if self.git_ref.starts_with("refs/tags/") {
            "tag"
        } else {
            "branch"
        };
        let sub = match (&self.environment, self.event_name.as_str()) {
            (Some(environment), _) => format!("repo:{}:environment:{environment}", self.repository),
            (None, "pull_request" | "pull_request_target") => {
                format!("repo:{}:pull_request", self.repository)
            }
            (None, _) => format!("repo:{}:ref:{}", self.repository, self.git_ref),
        };
        let workflow_ref = self.workflow_ref();
        let (head_ref, base_ref) = if self.event_name.starts_with("pull_request") {
            ("feature", "main")
        } else {
            ("", "")
        };
        let mut claims = object(json!({
            "jti": self.jti.clone().unwrap_or_else(new_jti),
            "sub": sub,
            "ref": self.git_ref,
            "sha": self.sha,
            "repository": self.repository,
            "repository_owner": owner,
            "repository_owner_id": self.repository_owner_id,
            "repository_id": self.repository_id,
            "repository_visibility": "public",
            "run_id": self.run_id,
            "run_number": "42",
            "run_attempt": "1",
            "runner_environment": "github-hosted",
            "actor": self.actor,
            "actor_id": self.actor_id,
            "workflow": self.workflow_name,
            "head_ref": head_ref,
            "base_ref": base_ref,
            "event_name": self.event_name,
            "ref_protected": "false",
            "ref_type": ref_type,
            "workflow_ref": workflow_ref,
            "workflow_sha": self.sha,
            "job_workflow_ref": self.job_workflow_ref.clone().unwrap_or_else(|| workflow_ref.clone()),
            "job_workflow_sha": self.sha,
            "check_run_id": "22334455667",
        }));
        if let Some(environment) = &self.environment {
            claims.insert("environment".into(), json!(environment));
            claims.insert(
                "environment_node_id".into(),
                json!("EN_kwDOKZ1fMs8AAAABhTe2Ng"),
            );
        }
        finish(claims, iss, audience, now, &self.overrides)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISS: &str = "https://token.actions.githubusercontent.com";

    #[test]
    fn defaults_look_like_a_real_token() {
        let claims = GitHubClaims::new().jti("j-1").build(ISS, "pypi", 1000);
        assert_eq!(claims["repository"], "octo-org/sampleproject");
        assert_eq!(claims["repository_owner"], "octo-org");
        assert_eq!(
            claims["job_workflow_ref"],
            "octo-org/sampleproject/.github/workflows/release.yml@refs/heads/main"
        );
        assert_eq!(claims["workflow_ref"], claims["job_workflow_ref"]);
        assert_eq!(
            claims["sub"],
            "repo:octo-org/sampleproject:ref:refs/heads/main"
        );
        assert_eq!(claims["event_name"], "push");
        assert_eq!(claims["jti"], "j-1");
        assert_eq!(
            (
                claims["iat"].as_i64(),
                claims["nbf"].as_i64(),
                claims["exp"].as_i64()
            ),
            (Some(1000), Some(1000), Some(1300))
        );
        assert_eq!(
            (claims["iss"].as_str(), claims["aud"].as_str()),
            (Some(ISS), Some("pypi"))
        );
        assert!(claims.get("environment").is_none());
    }

    #[test]
    fn setters_flow_into_derived_claims() {
        let claims = GitHubClaims::new()
            .repository("pypa/sampleproject")
            .workflow("publish.yaml")
            .git_ref("refs/tags/v1.0")
            .environment("pypi")
            .build(ISS, "pypi", 0);
        assert_eq!(claims["repository_owner"], "pypa");
        assert_eq!(claims["ref_type"], "tag");
        assert_eq!(claims["sub"], "repo:pypa/sampleproject:environment:pypi");
        assert_eq!(
            claims["job_workflow_ref"],
            "pypa/sampleproject/.github/workflows/publish.yaml@refs/tags/v1.0"
        );
        assert_eq!(claims["environment"], "pypi");
    }

    #[test]
    fn each_build_gets_a_fresh_jti() {
        let builder = GitHubClaims::new();
        assert_ne!(
            builder.build(ISS, "pypi", 0)["jti"],
            builder.build(ISS, "pypi", 0)["jti"]
        );
    }

    #[test]
    fn overrides_and_removals() {
        let claims = GitHubClaims::new()
            .claim("aud", json!(["pypi"]))
            .without("jti")
            .build(ISS, "pypi", 0);
        assert_eq!(claims["aud"], json!(["pypi"]));
        assert!(claims.get("jti").is_none());
    }
}
