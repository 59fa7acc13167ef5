//! Bitbucket Pipelines: one issuer per workspace, through the built-in `url_pattern`,
//! and Bitbucket's fixed workspace audience accepted through a publisher-bound template.

use serde_json::{Value, json};
use trustmint_testkit::claims::BitbucketClaims;

use super::harness::{Platform, Refusal, exercise};
use crate::providers_support::no_publisher;

const WORKSPACE_UUID: &str = "{8b1c2d3e-0000-4000-8000-00000000aaaa}";
const REPOSITORY_UUID: &str = "{9c2d3e4f-0000-4000-8000-00000000bbbb}";

fn platform() -> Platform {
    let builder = BitbucketClaims::new();
    Platform {
        iss: builder.issuer(),
        issuer: json!({
            "url_pattern": "https://api.bitbucket.org/2.0/workspaces/*/pipelines-config/identity/oidc",
            "kind": "bitbucket",
            "audiences": ["ari:cloud:bitbucket::workspace/{workspace_uuid}"],
        }),
        publisher: json!({
            "kind": "bitbucket",
            "workspace": "octo-team",
            "workspace_uuid": WORKSPACE_UUID,
            // Bare and upper case: compared as UUIDs.
            "repository_uuid": "9C2D3E4F-0000-4000-8000-00000000BBBB",
        }),
        claims: |iss, now| {
            let builder = BitbucketClaims::new();
            builder.build(iss, &builder.workspace_audience(), now)
        },
        provenance: vec![
            ("workspace", "octo-team".into()),
            ("repositoryUuid", REPOSITORY_UUID.into()),
            ("ref", "refs/heads/main".into()),
            ("stepUuid", "{f0f1f2f3-0000-4000-8000-000000000006}".into()),
            (
                "pipelineUuid",
                "{a0a1a2a3-0000-4000-8000-000000000007}".into(),
            ),
            ("publisher_url", "https://bitbucket.org/octo-team".into()),
        ],
        accepted: vec![(
            "a step that asked for the pypi audience",
            |claims: &mut Value| {
                claims["aud"] = json!("pypi");
            },
        )],
        refusals: vec![
            Refusal {
                case: "another repository of the workspace",
                edit: |claims: &mut Value| {
                    claims["repositoryUuid"] = json!("{99999999-0000-4000-8000-000000000009}");
                },
                code: "invalid-publisher",
                description: no_publisher(&format!(
                    "Publisher with matching claims was not found; no publisher is registered for \
                     workspace_uuid '{WORKSPACE_UUID}' repository_uuid \
                     '{{99999999-0000-4000-8000-000000000009}}' with issuer \
                     'https://api.bitbucket.org/2.0/workspaces/octo-team/pipelines-config/identity/oidc'"
                )),
            },
            Refusal {
                case: "another workspace's issuer with the same repository uuid",
                edit: |claims: &mut Value| {
                    claims["iss"] = json!(
                        "https://api.bitbucket.org/2.0/workspaces/evil/pipelines-config/identity/oidc"
                    );
                },
                code: "invalid-publisher",
                description: no_publisher(&format!(
                    "Publisher with matching claims was not found; no publisher is registered for \
                     workspace_uuid '{WORKSPACE_UUID}' repository_uuid '{REPOSITORY_UUID}' with \
                     issuer 'https://api.bitbucket.org/2.0/workspaces/evil/pipelines-config/identity/oidc'"
                )),
            },
            Refusal {
                case: "a workspace audience of another workspace than the token's",
                edit: |claims: &mut Value| {
                    claims["aud"] = json!(
                        "ari:cloud:bitbucket::workspace/99999999-0000-4000-8000-000000000009"
                    );
                },
                code: "invalid-token",
                description: "malformed or invalid token".into(),
            },
        ],
    }
}

#[tokio::test]
async fn a_bitbucket_repository_is_managed_mints_verifies_and_refuses() {
    exercise(platform()).await;
}
