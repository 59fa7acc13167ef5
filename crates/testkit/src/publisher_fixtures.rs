//! Realistic publishers and token records, as the exchange stores them, for the store
//! and use-case tests.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use trustmint_publishers::{
    GitHubPublisher, Origin, ProjectName, Publisher, PublisherId, PublisherSpec,
};
use trustmint_store::TokenRecord;

/// Unix seconds now.
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs() as i64
}

/// `name` as a project name (panics if it is not one).
pub fn project(name: &str) -> ProjectName {
    ProjectName::parse(name).expect("valid project name")
}

/// A token record as the exchange stores it for a GitHub release: one publisher, one
/// project, and the provenance claims trustmint-publishers keeps for GitHub (its
/// `stored.rs` lists them), with realistic values.
pub fn token_record() -> TokenRecord {
    let claims: BTreeMap<String, String> = [
        ("issuer", "https://token.actions.githubusercontent.com"),
        ("subject", "repo:pypa/sampleproject:environment:pypi"),
        ("repository", "pypa/sampleproject"),
        ("repository_owner", "pypa"),
        ("repository_owner_id", "647025"),
        ("workflow", "release.yml"),
        (
            "job_workflow_ref",
            "pypa/sampleproject/.github/workflows/release.yml@refs/tags/v4.0.1",
        ),
        (
            "workflow_ref",
            "pypa/sampleproject/.github/workflows/release.yml@refs/tags/v4.0.1",
        ),
        ("environment", "pypi"),
        ("ref", "refs/tags/v4.0.1"),
        ("sha", "9c5e3b8a0f4d7e21b6a3c8d9e0f1a2b3c4d5e6f7"),
        ("event_name", "release"),
        ("run_id", "12345678901"),
        ("run_attempt", "1"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let issued_at = now();
    TokenRecord {
        token_id: uuid::Uuid::new_v4().to_string(),
        publisher_ids: vec![PublisherId::random()],
        projects: vec![project("sampleproject")],
        claims,
        issued_at,
        expires_at: issued_at + 900,
    }
}

/// A GitHub publisher of `owner/repo` running `workflow`, registered over the API.
pub fn github(owner: &str, repo: &str, workflow: &str, projects: &[&str]) -> Publisher {
    Publisher {
        id: PublisherId::random(),
        projects: projects.iter().map(|p| project(p)).collect(),
        pending: false,
        spec: PublisherSpec::GitHub(GitHubPublisher {
            repository_owner: owner.into(),
            repository_owner_id: "647025".into(),
            repository_name: repo.into(),
            workflow_filename: workflow.into(),
            ..GitHubPublisher::default()
        }),
        policy: Default::default(),
        origin: Origin::Api,
        created_at: now(),
        expires_at: None,
        ecosystem: Default::default(),
    }
}

/// The same, pending until `expires_at`.
pub fn pending(
    owner: &str,
    repo: &str,
    workflow: &str,
    projects: &[&str],
    expires_at: Option<i64>,
) -> Publisher {
    Publisher {
        pending: true,
        expires_at,
        ..github(owner, repo, workflow, projects)
    }
}

/// The ids of `publishers`, in order.
pub fn ids(publishers: &[Publisher]) -> Vec<PublisherId> {
    publishers.iter().map(|p| p.id.clone()).collect()
}

/// A unique owner name, so tests sharing a prefix-less index never see each other.
pub fn unique_owner() -> String {
    format!("owner-{}", &uuid::Uuid::new_v4().simple().to_string()[..12])
}
