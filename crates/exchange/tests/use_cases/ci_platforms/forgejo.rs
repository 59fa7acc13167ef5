//! Forgejo Actions on Codeberg: an instance trusted because it is configured.

use serde_json::{Value, json};
use trustmint_testkit::claims::ForgejoClaims;

use super::harness::{Platform, Refusal, exercise};
use crate::providers_support::no_publisher;

const ISS: &str = "https://codeberg.org/api/actions";
const REFUSED_TRIGGER: &str = "Forgejo Actions runs triggered by 'pull_request_target', or by \
     'pull_request' from another repository, may not publish";

fn platform() -> Platform {
    Platform {
        iss: ISS.to_owned(),
        issuer: json!({ "url": ISS, "kind": "forgejo" }),
        publisher: json!({
            "kind": "forgejo",
            "repository_owner": "octo-org",
            "repository_owner_id": "1234",
            "repository_name": "sampleproject",
            "workflow_filename": "release.yml",
            "environment": "pypi",
            "issuer": ISS,
        }),
        claims: |iss, now| ForgejoClaims::new().build(iss, "pypi", now),
        provenance: vec![
            ("repository", "octo-org/sampleproject".into()),
            ("ref", "refs/tags/v1.0.0".into()),
            ("sha", "d6e1f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4".into()),
            ("run_id", "301".into()),
            ("workflow", "release.yml".into()),
            (
                "publisher_url",
                "https://codeberg.org/octo-org/sampleproject/commit/d6e1f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4".into(),
            ),
        ],
        accepted: vec![("a pull request from the repository itself", |claims: &mut Value| {
            claims["event_name"] = json!("pull_request");
            claims["head_repository"] = json!("octo-org/sampleproject");
        })],
        refusals: vec![
            Refusal {
                case: "pull_request_target",
                edit: |claims: &mut Value| claims["event_name"] = json!("pull_request_target"),
                code: "invalid-publisher",
                description: no_publisher(&format!(
                    "{REFUSED_TRIGGER}; the publisher for repository 'octo-org/sampleproject' \
                     refuses runs triggered by 'pull_request_target' from 'an unnamed head repository'"
                )),
            },
            Refusal {
                case: "a pull request from a fork",
                edit: |claims: &mut Value| {
                    claims["event_name"] = json!("pull_request");
                    claims["head_repository"] = json!("evil/sampleproject");
                },
                code: "invalid-publisher",
                description: no_publisher(&format!(
                    "{REFUSED_TRIGGER}; the publisher for repository 'octo-org/sampleproject' \
                     refuses runs triggered by 'pull_request' from 'evil/sampleproject'"
                )),
            },
            Refusal {
                case: "another workflow",
                edit: |claims: &mut Value| {
                    claims["workflow_ref"] = json!(
                        "octo-org/sampleproject/.forgejo/workflows/ci.yml@refs/heads/main"
                    );
                },
                code: "invalid-publisher",
                description: no_publisher(
                    "Publisher with matching claims was not found; the publisher for repository \
                     'octo-org/sampleproject' expects workflow_filename 'release.yml' but the \
                     token's workflow_ref names 'ci.yml'",
                ),
            },
            Refusal {
                case: "owner id of another account",
                edit: |claims: &mut Value| claims["repository_owner_id"] = json!("9999"),
                code: "invalid-publisher",
                description: no_publisher(
                    "Publisher with matching claims was not found; the publisher for repository \
                     'octo-org/sampleproject' expects repository_owner_id '1234' but the token's \
                     repository_owner_id is '9999' (account ids never change: another account now \
                     owns this name, or the configured id is wrong)",
                ),
            },
            Refusal {
                case: "another environment",
                edit: |claims: &mut Value| claims["environment"] = json!("test"),
                code: "invalid-publisher",
                description: no_publisher(
                    "Publisher with matching claims was not found; the publisher for repository \
                     'octo-org/sampleproject' expects environment 'pypi' but the token's \
                     environment is 'test'",
                ),
            },
            Refusal {
                case: "an instance nobody configured",
                edit: |claims: &mut Value| {
                    claims["iss"] = json!("https://git.example.org/api/actions");
                },
                code: "invalid-payload",
                description: "unknown trusted publishing issuer".into(),
            },
        ],
    }
}

#[tokio::test]
async fn a_forgejo_workflow_is_managed_mints_verifies_and_refuses() {
    exercise(platform()).await;
}
