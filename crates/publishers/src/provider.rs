//! The CI platforms a publisher can name, and their public OIDC issuers.

use std::fmt;

use serde::{Deserialize, Serialize};

/// GitHub Actions' public issuer.
pub const GITHUB_ISSUER_URL: &str = "https://token.actions.githubusercontent.com";
/// GitLab.com's issuer.
pub const GITLAB_ISSUER_URL: &str = "https://gitlab.com";
/// Google's issuer.
pub const GOOGLE_ISSUER_URL: &str = "https://accounts.google.com";
/// ActiveState's issuer.
pub const ACTIVESTATE_ISSUER_URL: &str = "https://platform.activestate.com/api/v1/oauth/oidc";

/// A kind of publisher, one per CI platform family. Self-managed GitLab and GitHub
/// Enterprise are the same kinds with another issuer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Provider {
    /// GitHub Actions (github.com, enterprise slugs, GHES).
    #[serde(rename = "github")]
    GitHub,
    /// GitLab CI/CD (gitlab.com or self-managed).
    #[serde(rename = "gitlab")]
    GitLab,
    /// Google Cloud service accounts.
    #[serde(rename = "google")]
    Google,
    /// The ActiveState Platform.
    #[serde(rename = "activestate")]
    ActiveState,
}

impl Provider {
    /// Every provider, in a fixed order.
    pub const ALL: [Provider; 4] = [
        Provider::GitHub,
        Provider::GitLab,
        Provider::Google,
        Provider::ActiveState,
    ];

    /// The lowercase name used in config (`kind = "github"`), metrics and PyPI's
    /// `not-enabled` description.
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::GitHub => "github",
            Provider::GitLab => "gitlab",
            Provider::Google => "google",
            Provider::ActiveState => "activestate",
        }
    }

    /// The display name PyPI uses in events ("GitHub", "GitLab", …).
    pub fn display_name(self) -> &'static str {
        match self {
            Provider::GitHub => "GitHub",
            Provider::GitLab => "GitLab",
            Provider::Google => "Google",
            Provider::ActiveState => "ActiveState",
        }
    }

    /// The provider's public issuer, trusted by a publisher that names no issuer.
    pub fn public_issuer(self) -> &'static str {
        match self {
            Provider::GitHub => GITHUB_ISSUER_URL,
            Provider::GitLab => GITLAB_ISSUER_URL,
            Provider::Google => GOOGLE_ISSUER_URL,
            Provider::ActiveState => ACTIVESTATE_ISSUER_URL,
        }
    }

    /// Parses the config spelling (`github`, `gitlab`, `google`, `activestate`).
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == raw)
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
