//! CircleCI: one issuer per organization, through the built-in `url_pattern`.

use serde_json::{Value, json};
use trustmint_testkit::claims::CircleCIClaims;

use super::harness::{Platform, Refusal, exercise};
use crate::providers_support::no_publisher;

const ORG: &str = "b7c6d5e4-0000-4000-8000-000000000001";
const PROJECT_ID: &str = "c8d7e6f5-0000-4000-8000-000000000002";

fn platform() -> Platform {
    Platform {
        iss: format!("https://oidc.circleci.com/org/{ORG}"),
        issuer: json!({
            "url_pattern": "https://oidc.circleci.com/org/*",
            "kind": "circleci",
            // CircleCI's default audience is the organization id.
            "audiences": ["{organization_id}"],
        }),
        publisher: json!({
            "kind": "circleci",
            "organization_id": ORG,
            "project_id": PROJECT_ID,
            "vcs_origin": "github.com/octo-org/sampleproject",
        }),
        claims: |iss, now| CircleCIClaims::new().build(iss, "pypi", now),
        provenance: vec![
            ("organization_id", ORG.into()),
            ("project_id", PROJECT_ID.into()),
            ("ref", "refs/tags/v1.0.0".into()),
            ("vcs_origin", "github.com/octo-org/sampleproject".into()),
            (
                "publisher_url",
                "https://github.com/octo-org/sampleproject".into(),
            ),
        ],
        accepted: vec![(
            "CircleCI's default audience: the organization id",
            |claims: &mut Value| {
                claims["aud"] = json!(ORG);
            },
        )],
        refusals: vec![
            Refusal {
                case: "SSH rerun",
                edit: |claims: &mut Value| claims["oidc.circleci.com/ssh-rerun"] = json!(true),
                code: "invalid-publisher",
                description: no_publisher(
                    "SSH reruns may not publish: a person had a shell in the job that holds this token",
                ),
            },
            Refusal {
                case: "another project",
                edit: |claims: &mut Value| {
                    claims["oidc.circleci.com/project-id"] =
                        json!("99999999-0000-4000-8000-000000000009");
                },
                code: "invalid-publisher",
                description: no_publisher(&format!(
                    "Publisher with matching claims was not found; no publisher is registered for \
                     project_id '99999999-0000-4000-8000-000000000009' with issuer \
                     'https://oidc.circleci.com/org/{ORG}'"
                )),
            },
            Refusal {
                case: "another repository",
                edit: |claims: &mut Value| {
                    claims["oidc.circleci.com/vcs-origin"] = json!("github.com/evil/fork");
                },
                code: "invalid-publisher",
                description: no_publisher(&format!(
                    "Check failed for required claim 'vcs_origin'; the publisher for project_id \
                     '{PROJECT_ID}' expects vcs_origin 'github.com/octo-org/sampleproject' but the \
                     token's oidc.circleci.com/vcs-origin is 'github.com/evil/fork'"
                )),
            },
            Refusal {
                case: "the same project id from another organization's issuer",
                edit: |claims: &mut Value| {
                    claims["iss"] =
                        json!("https://oidc.circleci.com/org/99999999-0000-4000-8000-000000000009");
                },
                code: "invalid-publisher",
                description: no_publisher(&format!(
                    "Publisher with matching claims was not found; no publisher is registered for \
                     project_id '{PROJECT_ID}' with issuer \
                     'https://oidc.circleci.com/org/99999999-0000-4000-8000-000000000009'"
                )),
            },
            Refusal {
                case: "the organization-id audience of another organization",
                edit: |claims: &mut Value| {
                    claims["aud"] = json!("99999999-0000-4000-8000-000000000009");
                },
                code: "invalid-token",
                description: "malformed or invalid token".into(),
            },
        ],
    }
}

#[tokio::test]
async fn a_circleci_project_is_managed_mints_verifies_and_refuses() {
    exercise(platform()).await;
}
