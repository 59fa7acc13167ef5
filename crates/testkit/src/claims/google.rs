//! Google Cloud service-account ID token claims.

use serde_json::{Value, json};

use super::{Overrides, finish, object, override_setters, text_setters};

/// Google claims: `email`, `email_verified: true`, `sub`, `azp`; **no `jti`** (Google ID
/// tokens have none, so replay protection falls back to the token hash).
#[derive(Debug, Clone)]
pub struct GoogleClaims {
    email: String,
    email_verified: Value,
    sub: String,
    azp: String,
    overrides: Overrides,
}

impl Default for GoogleClaims {
    fn default() -> Self {
        Self {
            email: "pypi-publisher@my-project.iam.gserviceaccount.com".into(),
            email_verified: Value::Bool(true),
            sub: "112233445566778899001".into(),
            azp: "112233445566778899001".into(),
            overrides: Overrides::default(),
        }
    }
}

override_setters!(GoogleClaims);
text_setters!(GoogleClaims {
    /// `email`.
    email,
} optional {
});

// === impl GoogleClaims ===

impl GoogleClaims {
    /// Defaults (see the type docs).
    pub fn new() -> Self {
        Self::default()
    }

    /// `email_verified`, any JSON (PyPI requires the boolean `true`).
    pub fn email_verified(mut self, value: Value) -> Self {
        self.email_verified = value;
        self
    }

    /// `sub` (and `azp`, which Google sets to the same numeric id).
    pub fn subject(mut self, sub: impl Into<String>) -> Self {
        self.sub = sub.into();
        self.azp = self.sub.clone();
        self
    }

    /// The claim set, shaped like a real Google ID token.
    pub fn build(&self, iss: &str, audience: &str, now: i64) -> Value {
        let claims = object(json!({
            "azp": self.azp,
            "email": self.email,
            "email_verified": self.email_verified,
            "sub": self.sub,
        }));
        finish(claims, iss, audience, now, &self.overrides)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_have_no_jti() {
        let claims =
            GoogleClaims::new()
                .subject("42")
                .build("https://accounts.google.com", "pypi", 0);
        assert_eq!(claims["email_verified"], true);
        assert_eq!(
            (claims["sub"].as_str(), claims["azp"].as_str()),
            (Some("42"), Some("42"))
        );
        assert!(claims.get("jti").is_none());
    }
}
