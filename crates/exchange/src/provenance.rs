//! Who published, from where: the identity fields of audit events, read from the
//! provenance claims a match stored — or, when no publisher matched, from the verified
//! token's own claims, so refusals are just as attributable.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use trustmint_telemetry::AuditEvent;

/// Copies repository/project path, workflow, environment, ref and sha into `event`,
/// whichever provider's claim names they came under.
pub(crate) fn fill_identity(event: &mut AuditEvent, claims: &BTreeMap<String, String>) {
    let first = |names: &[&str]| {
        names
            .iter()
            .find_map(|name| claims.get(*name).filter(|v| !v.is_empty()).cloned())
            .unwrap_or_default()
    };
    event.repository = first(&["repository", "project_path", "email", "vcs_origin"]);
    // Platforms without a repository name: the tenant and what it publishes from.
    for (tenant, source) in [
        ("organization_slug", "pipeline_slug"),
        ("workspace", "repositoryUuid"),
    ] {
        let (tenant, source) = (first(&[tenant]), first(&[source]));
        if event.repository.is_empty() && !tenant.is_empty() {
            event.repository = format!("{tenant}/{source}");
        }
    }
    if event.repository.is_empty() {
        let organization = first(&["organization"]);
        let project = first(&["project"]);
        if !organization.is_empty() {
            event.repository = format!("{organization}/{project}");
        }
    }
    event.workflow = first(&["workflow", "workflow_filepath"]);
    event.environment = first(&["environment"]);
    event.git_ref = first(&["ref", "ref_path"]);
    event.sha = first(&["sha"]);
    if event.subject.is_empty() {
        event.subject = first(&["subject"]);
    }
}

/// Longest claim value copied into an audit event from a refused token (claims come
/// from a verified token, but an issuer's values are still unbounded strings).
const MAX_AUDITED_CLAIM_CHARS: usize = 256;

/// The identity claims of a verified token under the provenance names
/// [`fill_identity`] reads: the reference to the workflow that ran stands in for the
/// workflow file (`job_workflow_ref`, GitLab's `ci_config_ref_uri`).
pub(crate) fn identity_claims(claims: &Map<String, Value>) -> BTreeMap<String, String> {
    const NAMES: [(&str, &str); 11] = [
        ("repository", "repository"),
        ("project_path", "project_path"),
        ("email", "email"),
        ("organization", "organization"),
        ("project", "project"),
        ("job_workflow_ref", "workflow"),
        ("ci_config_ref_uri", "workflow_filepath"),
        ("environment", "environment"),
        ("ref", "ref"),
        ("ref_path", "ref_path"),
        ("sha", "sha"),
    ];
    NAMES
        .iter()
        .filter_map(|(claim, name)| {
            let value = claims.get(*claim)?.as_str()?;
            Some((
                (*name).to_owned(),
                value.chars().take(MAX_AUDITED_CLAIM_CHARS).collect(),
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_github_and_gitlab_names() {
        let github = BTreeMap::from([
            ("repository".to_owned(), "octo/pkg".to_owned()),
            ("workflow".to_owned(), "release.yml".to_owned()),
            ("ref".to_owned(), "refs/tags/v1".to_owned()),
            ("sha".to_owned(), "abc".to_owned()),
            ("environment".to_owned(), "pypi".to_owned()),
        ]);
        let mut event = AuditEvent::success(trustmint_telemetry::AuditAction::Exchange, 0);
        fill_identity(&mut event, &github);
        assert_eq!(
            (
                event.repository.as_str(),
                event.workflow.as_str(),
                event.git_ref.as_str(),
                event.sha.as_str(),
                event.environment.as_str()
            ),
            ("octo/pkg", "release.yml", "refs/tags/v1", "abc", "pypi")
        );

        let gitlab = BTreeMap::from([
            ("project_path".to_owned(), "group/sub/proj".to_owned()),
            ("workflow_filepath".to_owned(), ".gitlab-ci.yml".to_owned()),
            ("ref_path".to_owned(), "refs/heads/main".to_owned()),
        ]);
        let mut event = AuditEvent::success(trustmint_telemetry::AuditAction::Exchange, 0);
        fill_identity(&mut event, &gitlab);
        assert_eq!(event.repository, "group/sub/proj");
        assert_eq!(event.workflow, ".gitlab-ci.yml");
        assert_eq!(event.git_ref, "refs/heads/main");
    }

    #[test]
    fn refused_tokens_are_attributed_from_their_own_claims() {
        let raw = serde_json::json!({
            "repository": "octo/pkg",
            "job_workflow_ref": "octo/pkg/.github/workflows/ci.yml@refs/heads/main",
            "workflow": "CI",
            "ref": "refs/heads/main",
            "sha": "abc",
            "environment": ["not", "a", "string"],
            "run_id": "1",
            "project_path": "x".repeat(1000),
        });
        let Value::Object(raw) = raw else {
            unreachable!()
        };
        let claims = identity_claims(&raw);
        assert_eq!(
            claims.keys().collect::<Vec<_>>(),
            ["project_path", "ref", "repository", "sha", "workflow"]
        );
        assert_eq!(
            claims["workflow"],
            "octo/pkg/.github/workflows/ci.yml@refs/heads/main"
        );
        assert_eq!(claims["project_path"].len(), MAX_AUDITED_CLAIM_CHARS);
        let mut event = AuditEvent::success(trustmint_telemetry::AuditAction::Exchange, 0);
        fill_identity(&mut event, &claims);
        assert_eq!(event.repository, "octo/pkg");
        assert_eq!(event.git_ref, "refs/heads/main");
    }

    #[test]
    fn ci_platforms_without_a_repository_name_are_attributed_to_their_tenant() {
        for (claims, repository) in [
            (
                vec![
                    ("organization_slug", "acme-inc"),
                    ("pipeline_slug", "sampleproject"),
                ],
                "acme-inc/sampleproject",
            ),
            (
                vec![("workspace", "octo-team"), ("repositoryUuid", "{9c2d}")],
                "octo-team/{9c2d}",
            ),
            (
                vec![
                    ("vcs_origin", "github.com/octo-org/sampleproject"),
                    ("project_id", "c8d7"),
                ],
                "github.com/octo-org/sampleproject",
            ),
        ] {
            let claims: BTreeMap<String, String> = claims
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect();
            let mut event = AuditEvent::success(trustmint_telemetry::AuditAction::Exchange, 0);
            fill_identity(&mut event, &claims);
            assert_eq!(event.repository, repository);
        }
    }

    #[test]
    fn activestate_repository_is_org_and_project() {
        let claims = BTreeMap::from([
            ("organization".to_owned(), "acme".to_owned()),
            ("project".to_owned(), "tool".to_owned()),
        ]);
        let mut event = AuditEvent::success(trustmint_telemetry::AuditAction::Exchange, 0);
        fill_identity(&mut event, &claims);
        assert_eq!(event.repository, "acme/tool");
    }
}
