//! Buildkite agent OIDC token claims (`buildkite-agent oidc request-token`).

use serde_json::{Value, json};

use super::{Overrides, finish, object, override_setters, text_setters};

/// Buildkite claims. Defaults: organization `acme-inc` (id
/// `0a1b2c3d-0000-4000-8000-000000000001`), pipeline `sampleproject` (id
/// `0a1b2c3d-0000-4000-8000-000000000002`), build 1234 of tag `v1.0.0` on `main`, step
/// `publish`, a self-hosted agent; `organization_id` and `pipeline_id` are included as
/// with `--claim organization_id,pipeline_id`.
#[derive(Debug, Clone)]
pub struct BuildkiteClaims {
    organization_slug: String,
    pipeline_slug: String,
    organization_id: String,
    pipeline_id: String,
    branch: String,
    tag: String,
    commit: String,
    step_key: String,
    jti: Option<String>,
    overrides: Overrides,
}

impl Default for BuildkiteClaims {
    fn default() -> Self {
        Self {
            organization_slug: "acme-inc".into(),
            pipeline_slug: "sampleproject".into(),
            organization_id: "0a1b2c3d-0000-4000-8000-000000000001".into(),
            pipeline_id: "0a1b2c3d-0000-4000-8000-000000000002".into(),
            branch: "main".into(),
            tag: "v1.0.0".into(),
            commit: "d6e1f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4".into(),
            step_key: "publish".into(),
            jti: None,
            overrides: Overrides::default(),
        }
    }
}

override_setters!(BuildkiteClaims);
text_setters!(BuildkiteClaims {
    /// `step_key`.
    step_key,
} optional {
    /// A `jti` (Buildkite sends one per token).
    jti,
});

// === impl BuildkiteClaims ===

impl BuildkiteClaims {
    /// Defaults (see the type docs).
    pub fn new() -> Self {
        Self::default()
    }

    /// `organization_slug` and `organization_id`.
    pub fn organization(mut self, slug: impl Into<String>, id: impl Into<String>) -> Self {
        self.organization_slug = slug.into();
        self.organization_id = id.into();
        self
    }

    /// `pipeline_slug` and `pipeline_id`.
    pub fn pipeline(mut self, slug: impl Into<String>, id: impl Into<String>) -> Self {
        self.pipeline_slug = slug.into();
        self.pipeline_id = id.into();
        self
    }

    /// A branch build (no tag).
    pub fn branch(mut self, branch: impl Into<String>) -> Self {
        self.branch = branch.into();
        self.tag = String::new();
        self
    }

    /// The claim set, shaped like a real Buildkite token.
    pub fn build(&self, iss: &str, audience: &str, now: i64) -> Value {
        let git_ref = if self.tag.is_empty() {
            format!("refs/heads/{}", self.branch)
        } else {
            format!("refs/tags/{}", self.tag)
        };
        let mut claims = object(json!({
            "sub": format!(
                "organization:{}:pipeline:{}:ref:{git_ref}:commit:{}:step:{}",
                self.organization_slug, self.pipeline_slug, self.commit, self.step_key
            ),
            "organization_slug": self.organization_slug,
            "pipeline_slug": self.pipeline_slug,
            "build_number": 1234,
            "build_branch": self.branch,
            "build_tag": if self.tag.is_empty() { Value::Null } else { json!(self.tag) },
            "build_commit": self.commit,
            "build_source": "webhook",
            "step_key": self.step_key,
            "job_id": "0184990a-477b-4fa8-9968-496074483cee",
            "agent_id": "0184990a-4782-42b5-afc1-16715b10b8ff",
            "runner_environment": "self-hosted",
            "organization_id": self.organization_id,
            "pipeline_id": self.pipeline_id,
        }));
        let jti = self
            .jti
            .clone()
            .unwrap_or_else(|| "0184990a-0000-4000-8000-0000000000aa".to_owned());
        claims.insert("jti".into(), json!(jti));
        finish(claims, iss, audience, now, &self.overrides)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        let claims = BuildkiteClaims::new().build("https://agent.buildkite.com", "pypi", 0);
        assert_eq!(
            claims["sub"],
            "organization:acme-inc:pipeline:sampleproject:ref:refs/tags/v1.0.0:commit:d6e1f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4:step:publish"
        );
        let branch = BuildkiteClaims::new()
            .branch("dev")
            .build("https://i", "pypi", 0);
        assert_eq!(branch["build_tag"], Value::Null);
        assert!(
            branch["sub"]
                .as_str()
                .unwrap_or_default()
                .contains(":ref:refs/heads/dev:")
        );
    }
}
