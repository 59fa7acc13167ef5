//! GitLab CI/CD ID token claims (gitlab.com or self-managed).

use serde_json::{Value, json};

use super::{Overrides, finish, host_and_path, new_jti, object, override_setters, text_setters};

/// GitLab claims. Defaults: project `ns/proj`, pipeline file `.gitlab-ci.yml`, branch
/// `main`, no environment, a fresh UUID `jti` per build. `ci_config_ref_uri` starts with
/// the issuer's host (taken from `iss`, e.g. `gitlab.com`) unless overridden.
#[derive(Debug, Clone)]
pub struct GitLabClaims {
    project_path: String,
    project_id: String,
    namespace_id: String,
    ci_config_path: String,
    git_ref: String,
    ref_type: String,
    sha: String,
    environment: Option<String>,
    ci_config_host: Option<String>,
    user_login: String,
    jti: Option<String>,
    overrides: Overrides,
}

impl Default for GitLabClaims {
    fn default() -> Self {
        Self {
            project_path: "ns/proj".into(),
            project_id: "4242".into(),
            namespace_id: "72".into(),
            ci_config_path: ".gitlab-ci.yml".into(),
            git_ref: "main".into(),
            ref_type: "branch".into(),
            sha: "714a629c0b401fdce83e847fc9589983fc6f46bc".into(),
            environment: None,
            ci_config_host: None,
            user_login: "alice".into(),
            jti: None,
            overrides: Overrides::default(),
        }
    }
}

override_setters!(GitLabClaims);
text_setters!(GitLabClaims {
    /// `project_path` (`namespace/…/project`); also sets `namespace_path`.
    project_path,
    /// Top-level pipeline file path (e.g. `.gitlab-ci.yml`, `ci/release.yml`).
    ci_config_path,
    /// `sha`.
    sha,
} optional {
    /// `environment`.
    environment,
    /// Host (and path) `ci_config_ref_uri` starts with, instead of the one from `iss`.
    ci_config_host,
    /// A fixed `jti` instead of a fresh UUID per build.
    jti,
});

// === impl GitLabClaims ===

impl GitLabClaims {
    /// Defaults (see the type docs).
    pub fn new() -> Self {
        Self::default()
    }

    /// `project_id` and `namespace_id`.
    pub fn ids(mut self, project_id: impl Into<String>, namespace_id: impl Into<String>) -> Self {
        self.project_id = project_id.into();
        self.namespace_id = namespace_id.into();
        self
    }

    /// A branch name (`ref_type` branch).
    pub fn branch(mut self, branch: impl Into<String>) -> Self {
        self.git_ref = branch.into();
        self.ref_type = "branch".into();
        self
    }

    /// A tag name (`ref_type` tag).
    pub fn tag(mut self, tag: impl Into<String>) -> Self {
        self.git_ref = tag.into();
        self.ref_type = "tag".into();
        self
    }

    /// The claim set, shaped like a real GitLab token.
    pub fn build(&self, iss: &str, audience: &str, now: i64) -> Value {
        let namespace = self
            .project_path
            .rsplit_once('/')
            .map_or("", |(namespace, _)| namespace);
        let ref_path = match self.ref_type.as_str() {
            "tag" => format!("refs/tags/{}", self.git_ref),
            _ => format!("refs/heads/{}", self.git_ref),
        };
        let host = self
            .ci_config_host
            .clone()
            .unwrap_or_else(|| host_and_path(iss).to_owned());
        let mut claims = object(json!({
            "jti": self.jti.clone().unwrap_or_else(new_jti),
            "sub": format!("project_path:{}:ref_type:{}:ref:{}", self.project_path, self.ref_type, self.git_ref),
            "namespace_id": self.namespace_id,
            "namespace_path": namespace,
            "project_id": self.project_id,
            "project_path": self.project_path,
            "user_id": "5",
            "user_login": self.user_login,
            "user_email": format!("{}@example.com", self.user_login),
            "user_access_level": "developer",
            "pipeline_id": "1234567",
            "pipeline_source": "push",
            "job_id": "7654321",
            "ref": self.git_ref,
            "ref_type": self.ref_type,
            "ref_path": ref_path,
            "ref_protected": "true",
            "runner_id": 12270837,
            "runner_environment": "gitlab-hosted",
            "sha": self.sha,
            "project_visibility": "public",
            "ci_config_ref_uri": format!("{host}/{}//{}@{ref_path}", self.project_path, self.ci_config_path),
            "ci_config_sha": self.sha,
        }));
        if let Some(environment) = &self.environment {
            claims.insert("environment".into(), json!(environment));
            claims.insert("environment_protected".into(), json!("false"));
            claims.insert("deployment_tier".into(), json!("production"));
            claims.insert("environment_action".into(), json!("start"));
        }
        finish(claims, iss, audience, now, &self.overrides)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_look_like_a_real_token() {
        let claims = GitLabClaims::new().build("https://gitlab.com", "pypi", 10);
        assert_eq!(claims["project_path"], "ns/proj");
        assert_eq!(claims["namespace_path"], "ns");
        assert_eq!(
            claims["ci_config_ref_uri"],
            "gitlab.com/ns/proj//.gitlab-ci.yml@refs/heads/main"
        );
        assert_eq!(claims["ref_path"], "refs/heads/main");
        assert_eq!(
            claims["sub"],
            "project_path:ns/proj:ref_type:branch:ref:main"
        );
        assert_eq!(claims["exp"], 310);
        assert!(claims["jti"].as_str().is_some_and(|jti| jti.len() == 36));
    }

    #[test]
    fn self_managed_host_and_tags() {
        let claims = GitLabClaims::new()
            .project_path("group/sub/proj")
            .tag("v1.2.0")
            .environment("release")
            .build("https://gitlab.example.com", "pypi", 0);
        assert_eq!(claims["namespace_path"], "group/sub");
        assert_eq!(
            claims["ci_config_ref_uri"],
            "gitlab.example.com/group/sub/proj//.gitlab-ci.yml@refs/tags/v1.2.0"
        );
        assert_eq!(
            claims["sub"],
            "project_path:group/sub/proj:ref_type:tag:ref:v1.2.0"
        );
        assert_eq!(claims["environment"], "release");
    }
}
