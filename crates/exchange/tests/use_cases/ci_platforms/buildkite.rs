//! Buildkite: one issuer shared by every organization.

use serde_json::{Value, json};
use trustmint_testkit::claims::BuildkiteClaims;

use super::harness::{Platform, Refusal, exercise};
use crate::providers_support::no_publisher;

const ISS: &str = "https://agent.buildkite.com";
const ORG_ID: &str = "0a1b2c3d-0000-4000-8000-000000000001";

fn platform() -> Platform {
    let other_org = "9a1b2c3d-0000-4000-8000-000000000009";
    Platform {
        iss: ISS.to_owned(),
        issuer: json!({ "url": ISS, "kind": "buildkite" }),
        publisher: json!({
            "kind": "buildkite",
            "organization_slug": "acme-inc",
            "pipeline_slug": "sampleproject",
            "organization_id": ORG_ID,
            "step_key": "publish",
        }),
        claims: |iss, now| BuildkiteClaims::new().build(iss, "pypi", now),
        provenance: vec![
            ("ref", "refs/tags/v1.0.0".into()),
            ("sha", "d6e1f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4".into()),
            ("build_number", "1234".into()),
            ("job_id", "0184990a-477b-4fa8-9968-496074483cee".into()),
            ("pipeline_slug", "sampleproject".into()),
            (
                "publisher_url",
                "https://buildkite.com/acme-inc/sampleproject/builds/1234".into(),
            ),
        ],
        accepted: vec![("a branch build (no tag)", |claims: &mut Value| {
            claims["build_tag"] = Value::Null;
        })],
        refusals: vec![
            Refusal {
                case: "another organization with the same pipeline slug",
                edit: |claims: &mut Value| {
                    claims["organization_slug"] = json!("evil-corp");
                    claims["organization_id"] = json!("9a1b2c3d-0000-4000-8000-000000000009");
                },
                code: "invalid-publisher",
                description: no_publisher(
                    "Publisher with matching claims was not found; no publisher is registered for \
                     organization_slug 'evil-corp' pipeline_slug 'sampleproject' with issuer \
                     'https://agent.buildkite.com'",
                ),
            },
            Refusal {
                case: "another pipeline",
                edit: |claims: &mut Value| claims["pipeline_slug"] = json!("other"),
                code: "invalid-publisher",
                description: no_publisher(
                    "Publisher with matching claims was not found; no publisher is registered for \
                     organization_slug 'acme-inc' pipeline_slug 'other' with issuer \
                     'https://agent.buildkite.com'",
                ),
            },
            Refusal {
                case: "organization id of another organization",
                edit: |claims: &mut Value| {
                    claims["organization_id"] = json!("9a1b2c3d-0000-4000-8000-000000000009");
                },
                code: "invalid-publisher",
                description: no_publisher(&format!(
                    "Check failed for required claim 'organization_id'; the publisher for \
                     organization_slug 'acme-inc' pipeline_slug 'sampleproject' expects \
                     organization_id '{ORG_ID}' but the token's organization_id is '{other_org}' \
                     (ids never change: the slug now names another organization or pipeline, or \
                     the configured id is wrong)"
                )),
            },
            Refusal {
                case: "another step",
                edit: |claims: &mut Value| claims["step_key"] = json!("test"),
                code: "invalid-publisher",
                description: no_publisher(
                    "Publisher with matching claims was not found; the publisher for \
                     organization_slug 'acme-inc' pipeline_slug 'sampleproject' expects step_key \
                     'publish' but the token's step_key is 'test'",
                ),
            },
            Refusal {
                case: "audience of another service",
                edit: |claims: &mut Value| claims["aud"] = json!("sts.amazonaws.com"),
                code: "invalid-token",
                description: "malformed or invalid token".into(),
            },
        ],
    }
}

#[tokio::test]
async fn a_buildkite_pipeline_is_managed_mints_verifies_and_refuses() {
    exercise(platform()).await;
}
