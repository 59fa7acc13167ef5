//! Bitbucket Pipelines step OIDC token claims (`oidc: true`, `$BITBUCKET_STEP_OIDC_TOKEN`).

use serde_json::{Value, json};

use super::{Overrides, finish, object, override_setters, text_setters};

/// Bitbucket claims. Defaults: workspace `octo-team`
/// (`{8b1c2d3e-0000-4000-8000-00000000aaaa}`), repository
/// `{9c2d3e4f-0000-4000-8000-00000000bbbb}`, branch `main`, deployment environment
/// `{e1e2e3e4-0000-4000-8000-000000000005}`. The issuer must be
/// [`issuer`](Self::issuer) for a real shape; the audience Bitbucket sets by default is
/// [`workspace_audience`](Self::workspace_audience).
#[derive(Debug, Clone)]
pub struct BitbucketClaims {
    workspace: String,
    workspace_uuid: String,
    repository_uuid: String,
    environment_uuid: Option<String>,
    overrides: Overrides,
}

impl Default for BitbucketClaims {
    fn default() -> Self {
        Self {
            workspace: "octo-team".into(),
            workspace_uuid: "{8b1c2d3e-0000-4000-8000-00000000aaaa}".into(),
            repository_uuid: "{9c2d3e4f-0000-4000-8000-00000000bbbb}".into(),
            environment_uuid: Some("{e1e2e3e4-0000-4000-8000-000000000005}".into()),
            overrides: Overrides::default(),
        }
    }
}

override_setters!(BitbucketClaims);
text_setters!(BitbucketClaims {
    /// `repositoryUuid`.
    repository_uuid,
} optional {
});

const STEP_UUID: &str = "{f0f1f2f3-0000-4000-8000-000000000006}";

// === impl BitbucketClaims ===

impl BitbucketClaims {
    /// Defaults (see the type docs).
    pub fn new() -> Self {
        Self::default()
    }

    /// The workspace slug and `workspaceUuid`.
    pub fn workspace(mut self, slug: impl Into<String>, uuid: impl Into<String>) -> Self {
        self.workspace = slug.into();
        self.workspace_uuid = uuid.into();
        self
    }

    /// A step without a deployment environment.
    pub fn no_environment(mut self) -> Self {
        self.environment_uuid = None;
        self
    }

    /// The workspace's issuer.
    pub fn issuer(&self) -> String {
        format!(
            "https://api.bitbucket.org/2.0/workspaces/{}/pipelines-config/identity/oidc",
            self.workspace
        )
    }

    /// Bitbucket's own audience for this workspace.
    pub fn workspace_audience(&self) -> String {
        let bare = self
            .workspace_uuid
            .trim_start_matches('{')
            .trim_end_matches('}');
        format!("ari:cloud:bitbucket::workspace/{bare}")
    }

    /// The claim set, shaped like a real Bitbucket token.
    pub fn build(&self, iss: &str, audience: &str, now: i64) -> Value {
        let sub = match &self.environment_uuid {
            Some(environment) => format!("{}:{environment}:{STEP_UUID}", self.repository_uuid),
            None => format!("{}:{STEP_UUID}", self.repository_uuid),
        };
        let mut claims = object(json!({
            "sub": sub,
            "workspaceUuid": self.workspace_uuid,
            "repositoryUuid": self.repository_uuid,
            "pipelineUuid": "{a0a1a2a3-0000-4000-8000-000000000007}",
            "stepUuid": STEP_UUID,
            "branchName": "main",
        }));
        if let Some(environment) = &self.environment_uuid {
            claims.insert("deploymentEnvironmentUuid".into(), json!(environment));
        }
        finish(claims, iss, audience, now, &self.overrides)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        let builder = BitbucketClaims::new();
        let claims = builder.build(&builder.issuer(), &builder.workspace_audience(), 0);
        assert_eq!(
            claims["aud"],
            "ari:cloud:bitbucket::workspace/8b1c2d3e-0000-4000-8000-00000000aaaa"
        );
        assert_eq!(
            claims["iss"],
            "https://api.bitbucket.org/2.0/workspaces/octo-team/pipelines-config/identity/oidc"
        );
        let plain = BitbucketClaims::new()
            .no_environment()
            .build("https://i", "pypi", 0);
        assert!(plain.get("deploymentEnvironmentUuid").is_none());
    }
}
