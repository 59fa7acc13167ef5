//! CircleCI OIDC token claims (`$CIRCLE_OIDC_TOKEN_V2`, `circleci run oidc get`).

use serde_json::{Value, json};

use super::{Overrides, finish, object, override_setters, text_setters};

/// CircleCI claims. Defaults: organization `b7c6d5e4-0000-4000-8000-000000000001`,
/// project `c8d7e6f5-0000-4000-8000-000000000002` of
/// `github.com/octo-org/sampleproject`, tag `v1.0.0`, one context, not an SSH rerun.
/// The issuer must be `https://oidc.circleci.com/org/<organization>` for a real shape.
#[derive(Debug, Clone)]
pub struct CircleCIClaims {
    organization_id: String,
    project_id: String,
    vcs_origin: String,
    vcs_ref: String,
    ssh_rerun: bool,
    overrides: Overrides,
}

impl Default for CircleCIClaims {
    fn default() -> Self {
        Self {
            organization_id: "b7c6d5e4-0000-4000-8000-000000000001".into(),
            project_id: "c8d7e6f5-0000-4000-8000-000000000002".into(),
            vcs_origin: "github.com/octo-org/sampleproject".into(),
            vcs_ref: "refs/tags/v1.0.0".into(),
            ssh_rerun: false,
            overrides: Overrides::default(),
        }
    }
}

override_setters!(CircleCIClaims);
text_setters!(CircleCIClaims {
    /// The organization id (also in `sub`; the issuer names it too).
    organization_id,
    /// `oidc.circleci.com/project-id`.
    project_id,
} optional {
});

// === impl CircleCIClaims ===

impl CircleCIClaims {
    /// Defaults (see the type docs).
    pub fn new() -> Self {
        Self::default()
    }

    /// `oidc.circleci.com/ssh-rerun`.
    pub fn ssh_rerun(mut self, ssh_rerun: bool) -> Self {
        self.ssh_rerun = ssh_rerun;
        self
    }

    /// The issuer of this organization.
    pub fn issuer(&self) -> String {
        format!("https://oidc.circleci.com/org/{}", self.organization_id)
    }

    /// The claim set, shaped like a real CircleCI token.
    pub fn build(&self, iss: &str, audience: &str, now: i64) -> Value {
        let claims = object(json!({
            "sub": format!(
                "org/{}/project/{}/user/d9e8f7a6-0000-4000-8000-000000000004",
                self.organization_id, self.project_id
            ),
            "oidc.circleci.com/project-id": self.project_id,
            "oidc.circleci.com/pipeline-definition-id": "5d1a2b3c-0000-4000-8000-000000000003",
            "oidc.circleci.com/vcs-origin": self.vcs_origin,
            "oidc.circleci.com/vcs-ref": self.vcs_ref,
            "oidc.circleci.com/context-ids": ["a74579f1-2e7d-451e-b009-5c082ad2729e"],
            "oidc.circleci.com/ssh-rerun": self.ssh_rerun,
        }));
        finish(claims, iss, audience, now, &self.overrides)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        let builder = CircleCIClaims::new();
        let claims = builder.build(&builder.issuer(), "pypi", 0);
        assert_eq!(
            claims["iss"],
            "https://oidc.circleci.com/org/b7c6d5e4-0000-4000-8000-000000000001"
        );
        assert_eq!(claims["oidc.circleci.com/ssh-rerun"], false);
        assert!(
            claims["sub"]
                .as_str()
                .unwrap_or_default()
                .starts_with("org/b7c6d5e4-0000-4000-8000-000000000001/project/c8d7e6f5-")
        );
    }
}
