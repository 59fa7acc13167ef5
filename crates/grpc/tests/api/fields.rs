//! Required and malformed request fields: `invalid-argument` naming the field, with a
//! `BadRequest` detail; an empty optional field means "not given".

use trustmint_grpc::pb;
use trustmint_testkit::memory_exchange::PROJECT;

use crate::support::{TestServer, assert_invalid_argument};

#[tokio::test]
async fn a_client_ip_that_is_not_an_address_is_refused() {
    let server = TestServer::start().await;
    let mut tokens = server.anonymous().tokens;
    let status = tokens
        .mint_token(pb::MintTokenRequest {
            oidc_token: server.fx.github_jwt(Default::default()),
            client_ip: "not-an-ip".to_owned(),
        })
        .await
        .expect_err("bad client_ip");
    assert_invalid_argument(&status, "client_ip", "'not-an-ip' is not an IP address");
    let status = tokens
        .revoke_token(pb::RevokeTokenRequest {
            token: "pypi-x".to_owned(),
            client_ip: "999.1.1.1".to_owned(),
        })
        .await
        .expect_err("bad client_ip");
    assert_invalid_argument(&status, "client_ip", "'999.1.1.1' is not an IP address");
}

#[tokio::test]
async fn verify_needs_a_valid_project() {
    let server = TestServer::start().await;
    let minted = server.fx.mint_default().await;
    let mut tokens = server.anonymous().tokens;
    for (project, message) in [
        ("", "project name is empty"),
        (
            "-bad-",
            "project name '-bad-' is not valid: use ASCII letters, digits, '.', '_' and '-', starting and ending with a letter or digit",
        ),
    ] {
        let status = tokens
            .verify_token(pb::VerifyTokenRequest {
                token: minted.token.expose_secret().to_owned(),
                project: project.to_owned(),
                ecosystem: String::new(),
            })
            .await
            .expect_err(message);
        assert_invalid_argument(&status, "project", message);
    }
    let allowed = tokens
        .verify_token(pb::VerifyTokenRequest {
            token: minted.token.expose_secret().to_owned(),
            project: PROJECT.to_owned(),
            ecosystem: String::new(),
        })
        .await
        .expect("a valid project")
        .into_inner();
    assert!(allowed.allowed, "{allowed:?}");
}

#[tokio::test]
async fn publisher_requests_need_their_fields() {
    let server = TestServer::start().await;
    let mut publishers = server.anonymous().publishers;
    let status = publishers
        .create_publisher(pb::CreatePublisherRequest { publisher: None })
        .await
        .expect_err("no publisher");
    assert_invalid_argument(&status, "publisher", "required");
    let status = publishers
        .create_publisher(pb::CreatePublisherRequest {
            publisher: Some(pb::Publisher {
                projects: vec!["alpha".to_owned()],
                kind: None,
                ..pb::Publisher::default()
            }),
        })
        .await
        .expect_err("no kind");
    assert_invalid_argument(&status, "publisher.kind", "required");
    let empty = String::new;
    let statuses = [
        publishers
            .get_publisher(pb::GetPublisherRequest { id: empty() })
            .await
            .expect_err("get"),
        publishers
            .delete_publisher(pb::DeletePublisherRequest { id: empty() })
            .await
            .expect_err("delete"),
        publishers
            .confirm_publisher(pb::ConfirmPublisherRequest { id: empty() })
            .await
            .expect_err("confirm"),
    ];
    for status in statuses {
        assert_invalid_argument(&status, "id", "required");
    }
    let status = publishers
        .list_publishers(pb::ListPublishersRequest {
            project: String::new(),
        })
        .await
        .expect_err("list without a project");
    assert_invalid_argument(&status, "project", "required");
}
