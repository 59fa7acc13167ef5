//! The publisher model: who may mint tokens for which projects.

use serde::{Deserialize, Serialize};

use crate::{ProjectName, Provider, PublisherId};

/// How long a pending publisher lives before it expires unused (PyPI: 30 days).
pub const PENDING_PUBLISHER_TTL_SECS: i64 = 30 * 24 * 60 * 60;

/// A trusted publisher: an identity on one CI platform (the [`PublisherSpec`]) that may
/// mint upload tokens for its projects.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Publisher {
    /// Stable identifier (tokens carry it in their OIDCPublisher caveat).
    pub id: PublisherId,
    /// Projects this publisher may upload to, normalised, sorted, without duplicates.
    pub projects: Vec<ProjectName>,
    /// A pending publisher names a project that does not exist in the index yet; the
    /// index confirms it after the first upload created the project.
    pub pending: bool,
    /// The identity the publisher trusts.
    pub spec: PublisherSpec,
    /// Where the publisher comes from: the config file (always in force, read-only) or
    /// the API (stored in the store).
    pub origin: Origin,
    /// Unix seconds at creation (0 for config-declared publishers).
    pub created_at: i64,
    /// Unix seconds after which a pending publisher is gone; `None` for normal ones.
    pub expires_at: Option<i64>,
}

/// Where a publisher was declared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    /// A `[[publishers]]` entry of the config file.
    Config,
    /// Created through the gRPC PublisherService.
    Api,
}

/// The identity a publisher trusts, one variant per provider. Field names are those of
/// the proto messages and of `[[publishers]]` config entries. An empty string means
/// "not set" for every optional field (PyPI's convention), so the wire, the config and
/// the store agree without `Option` juggling.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind")]
pub enum PublisherSpec {
    /// A GitHub Actions workflow.
    #[serde(rename = "github")]
    GitHub(GitHubPublisher),
    /// A GitLab CI/CD pipeline.
    #[serde(rename = "gitlab")]
    GitLab(GitLabPublisher),
    /// A Google Cloud service account.
    #[serde(rename = "google")]
    Google(GooglePublisher),
    /// An ActiveState Platform project.
    #[serde(rename = "activestate")]
    ActiveState(ActiveStatePublisher),
}

/// A GitHub Actions workflow (PyPI semantics, reference §3.2).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GitHubPublisher {
    /// Owner login (user or organisation), as GitHub spells it.
    pub repository_owner: String,
    /// Numeric id of the owner account: pins the account against resurrection.
    pub repository_owner_id: String,
    /// Repository name.
    pub repository_name: String,
    /// Workflow file name (`release.yml`), no directory.
    pub workflow_filename: String,
    /// Deployment environment; empty = any environment.
    pub environment: String,
    /// The issuer this publisher trusts; empty = `https://token.actions.githubusercontent.com`.
    pub issuer: String,
    /// `owner/repo` that holds a trusted reusable workflow named `workflow_filename`;
    /// empty = PyPI's behaviour (the workflow lives in the publishing repository).
    pub workflow_repository: String,
}

/// A GitLab CI/CD pipeline on gitlab.com or a self-managed instance (reference §3.3).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GitLabPublisher {
    /// Group path, may contain `/` for subgroups.
    pub namespace: String,
    /// Project name.
    pub project: String,
    /// Top-level pipeline file path (`.gitlab-ci.yml`).
    pub workflow_filepath: String,
    /// Environment; empty = any. Compared case-sensitively, as GitLab does.
    pub environment: String,
    /// The instance's issuer URL; empty = `https://gitlab.com`.
    pub issuer: String,
    /// Optional numeric namespace id (resurrection protection PyPI lacks).
    pub namespace_id: String,
    /// Optional numeric project id (resurrection protection PyPI lacks).
    pub project_id: String,
}

/// A Google Cloud service account (reference §3.4).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GooglePublisher {
    /// Service account email, exact.
    pub email: String,
    /// Optional subject; empty = any.
    pub sub: String,
}

/// An ActiveState Platform project (reference §3.5).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ActiveStatePublisher {
    /// Organization name, exact.
    pub organization: String,
    /// ActiveState project name, exact.
    pub project: String,
    /// Actor user name (informational; `actor_id` is what is checked).
    pub actor: String,
    /// Actor id, exact.
    pub actor_id: String,
}

impl PublisherSpec {
    /// The provider this identity belongs to.
    pub fn provider(&self) -> Provider {
        match self {
            PublisherSpec::GitHub(_) => Provider::GitHub,
            PublisherSpec::GitLab(_) => Provider::GitLab,
            PublisherSpec::Google(_) => Provider::Google,
            PublisherSpec::ActiveState(_) => Provider::ActiveState,
        }
    }

    /// The issuer URL this publisher trusts: its configured one, else the provider's
    /// public issuer. A token from any other issuer never matches it.
    pub fn issuer(&self) -> &str {
        let configured = match self {
            PublisherSpec::GitHub(p) => p.issuer.as_str(),
            PublisherSpec::GitLab(p) => p.issuer.as_str(),
            PublisherSpec::Google(_) | PublisherSpec::ActiveState(_) => "",
        };
        if configured.is_empty() {
            self.provider().public_issuer()
        } else {
            configured
        }
    }
}

impl Publisher {
    /// Whether this publisher lists `project`.
    pub fn lists(&self, project: &ProjectName) -> bool {
        self.projects.binary_search(project).is_ok()
    }

    /// Whether a pending publisher has expired at `now` (unix seconds).
    pub fn is_expired(&self, now: i64) -> bool {
        self.expires_at.is_some_and(|at| now >= at)
    }
}
