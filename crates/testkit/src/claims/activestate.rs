//! ActiveState Platform ID token claims.

use serde_json::{Value, json};

use super::{Overrides, finish, object, override_setters, text_setters};

/// ActiveState claims. Defaults: organization `octo-org`, project `sampleproject`,
/// actor `octocat`, builder `pypi-publisher`; no `jti` unless set.
#[derive(Debug, Clone)]
pub struct ActiveStateClaims {
    organization: String,
    project: String,
    actor: String,
    actor_id: String,
    builder: String,
    jti: Option<String>,
    overrides: Overrides,
}

impl Default for ActiveStateClaims {
    fn default() -> Self {
        Self {
            organization: "octo-org".into(),
            project: "sampleproject".into(),
            actor: "octocat".into(),
            actor_id: "7f1c2d3e-4b5a-4c6d-8e9f-0a1b2c3d4e5f".into(),
            builder: "pypi-publisher".into(),
            jti: None,
            overrides: Overrides::default(),
        }
    }
}

override_setters!(ActiveStateClaims);
text_setters!(ActiveStateClaims {
    /// `organization`.
    organization,
    /// `project`.
    project,
    /// `builder` (PyPI requires `pypi-publisher`).
    builder,
} optional {
    /// A `jti`.
    jti,
});

// === impl ActiveStateClaims ===

impl ActiveStateClaims {
    /// Defaults (see the type docs).
    pub fn new() -> Self {
        Self::default()
    }

    /// `actor` and `actor_id`.
    pub fn actor(mut self, actor: impl Into<String>, actor_id: impl Into<String>) -> Self {
        self.actor = actor.into();
        self.actor_id = actor_id.into();
        self
    }

    /// The claim set, shaped like a real ActiveState token.
    pub fn build(&self, iss: &str, audience: &str, now: i64) -> Value {
        let mut claims = object(json!({
            "sub": format!("org:{}:project:{}", self.organization, self.project),
            "organization": self.organization,
            "organization_id": "0b1c2d3e-1111-4222-8333-444455556666",
            "project": self.project,
            "project_id": "9a8b7c6d-5555-4666-8777-888899990000",
            "project_path": format!("{}/{}", self.organization, self.project),
            "project_visibility": "public",
            "actor": self.actor,
            "actor_id": self.actor_id,
            "builder": self.builder,
            "ingredient": self.project,
            "artifact_id": "3c4d5e6f-7777-4888-8999-aaaabbbbcccc",
        }));
        if let Some(jti) = &self.jti {
            claims.insert("jti".into(), json!(jti));
        }
        finish(claims, iss, audience, now, &self.overrides)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        let claims = ActiveStateClaims::new()
            .organization("acme")
            .project("widgets")
            .build(
                "https://platform.activestate.com/api/v1/oauth/oidc",
                "pypi",
                0,
            );
        assert_eq!(claims["sub"], "org:acme:project:widgets");
        assert_eq!(claims["builder"], "pypi-publisher");
        assert_eq!(claims["actor"], "octocat");
        assert!(claims.get("jti").is_none());
    }
}
