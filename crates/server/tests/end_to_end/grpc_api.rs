//! End-to-end over real gRPC sockets: the index's side of trustmint. Every test runs a
//! real `trustmint::Application` on free ports with a real testkit OIDC issuer and talks
//! to it with the tonic clients generated from `proto/` (the same stubs an index in Rust
//! would use), plus tonic-health and tonic-reflection clients. `in_memory` runs the
//! same services over in-memory pipes.
//!
//! What each RPC answers is tested on the adapter itself (`crates/grpc/tests/api`, a
//! tonic server over the memory backends). Here stays what needs the whole application:
//! transport (authentication, health, reflection, the loud warning), TLS/mTLS, the
//! in-memory transport, HTTP and gRPC sharing one exchange, and pending-publisher
//! confirmation across replicas on one Redis. This file holds what they share:
//! connected clients with an optional bearer token and the error assertion (code,
//! message, metadata, ErrorInfo).

use crate::support;

mod in_memory;
mod pending_replicas;
mod shared_with_http;
mod tls;
mod transport;

use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Channel, Endpoint};
use tonic::{Code, Request, Status};
use tonic_types::StatusExt as _;
use trustmint_grpc::pb;
use trustmint_grpc::pb::publisher_service_client::PublisherServiceClient;
use trustmint_grpc::pb::token_service_client::TokenServiceClient;

use support::TestApp;

/// Owner of the testkit's default GitHub repository (the declared publisher's).
pub(crate) const OWNER: &str = "octo-org";
/// Its numeric id.
pub(crate) const OWNER_ID: &str = "92345678";
/// The workflow file its default claims name.
pub(crate) const WORKFLOW: &str = "release.yml";

/// Adds `authorization: Bearer <token>` to every call when it has a token.
#[derive(Clone, Debug, Default)]
pub(crate) struct Bearer(Option<MetadataValue<Ascii>>);

impl Bearer {
    /// Sends `Bearer <token>`.
    pub(crate) fn token(token: &str) -> Self {
        Self(Some(
            format!("Bearer {token}")
                .parse()
                .expect("ascii bearer token"),
        ))
    }

    /// Sends the raw `authorization` value (for malformed-header cases).
    pub(crate) fn raw(value: &str) -> Self {
        Self(Some(value.parse().expect("ascii header")))
    }

    /// Sends nothing.
    pub(crate) fn none() -> Self {
        Self(None)
    }
}

impl Interceptor for Bearer {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        if let Some(value) = &self.0 {
            request
                .metadata_mut()
                .insert("authorization", value.clone());
        }
        Ok(request)
    }
}

/// A TokenService client as an index holds it.
pub(crate) type Tokens = TokenServiceClient<InterceptedService<Channel, Bearer>>;
/// A PublisherService client as an index holds it.
pub(crate) type Publishers = PublisherServiceClient<InterceptedService<Channel, Bearer>>;

/// Both clients over one channel.
#[derive(Clone, Debug)]
pub(crate) struct Grpc {
    pub(crate) tokens: Tokens,
    pub(crate) publishers: Publishers,
}

/// A plaintext channel to the app's gRPC listener (connects on first use).
pub(crate) fn channel(app: &TestApp) -> Channel {
    Endpoint::from_shared(format!("http://{}", app.grpc_addr))
        .expect("endpoint")
        .connect_lazy()
}

impl Grpc {
    /// Clients without credentials.
    pub(crate) fn connect(app: &TestApp) -> Self {
        Self::with(channel(app), Bearer::none())
    }

    /// Clients that send `bearer` on every call.
    pub(crate) fn with(channel: Channel, bearer: Bearer) -> Self {
        Self {
            tokens: TokenServiceClient::with_interceptor(channel.clone(), bearer.clone()),
            publishers: PublisherServiceClient::with_interceptor(channel, bearer),
        }
    }

    /// MintToken without a client address.
    pub(crate) async fn mint(&self, jwt: &str) -> Result<pb::MintTokenResponse, Status> {
        self.tokens
            .clone()
            .mint_token(pb::MintTokenRequest {
                oidc_token: jwt.to_owned(),
                client_ip: String::new(),
            })
            .await
            .map(tonic::Response::into_inner)
    }

    /// MintToken that must succeed; returns the token.
    pub(crate) async fn mint_ok(&self, jwt: &str) -> pb::MintTokenResponse {
        match self.mint(jwt).await {
            Ok(minted) => minted,
            Err(status) => panic!("MintToken failed: {status:?}"),
        }
    }

    /// VerifyToken that must answer OK (allowed or denied).
    pub(crate) async fn verify(&self, token: &str, project: &str) -> pb::VerifyTokenResponse {
        self.try_verify(token, project)
            .await
            .unwrap_or_else(|status| panic!("VerifyToken failed: {status:?}"))
    }

    /// VerifyToken, status included.
    pub(crate) async fn try_verify(
        &self,
        token: &str,
        project: &str,
    ) -> Result<pb::VerifyTokenResponse, Status> {
        self.tokens
            .clone()
            .verify_token(pb::VerifyTokenRequest {
                ecosystem: String::new(),
                token: token.to_owned(),
                project: project.to_owned(),
            })
            .await
            .map(tonic::Response::into_inner)
    }

    /// RevokeToken; returns `revoked`.
    pub(crate) async fn revoke(&self, token: &str) -> bool {
        self.tokens
            .clone()
            .revoke_token(pb::RevokeTokenRequest {
                token: token.to_owned(),
                client_ip: String::new(),
            })
            .await
            .expect("RevokeToken answers OK")
            .into_inner()
            .revoked
    }

    /// CreatePublisher.
    pub(crate) async fn create(&self, publisher: pb::Publisher) -> Result<pb::Publisher, Status> {
        self.publishers
            .clone()
            .create_publisher(pb::CreatePublisherRequest {
                publisher: Some(publisher),
            })
            .await
            .map(tonic::Response::into_inner)
    }

    /// ConfirmPublisher.
    pub(crate) async fn confirm(&self, id: &str) -> Result<pb::ConfirmPublisherResponse, Status> {
        self.publishers
            .clone()
            .confirm_publisher(pb::ConfirmPublisherRequest { id: id.to_owned() })
            .await
            .map(tonic::Response::into_inner)
    }
}

/// A GitHub publisher message for `owner/repository` (release.yml, any environment)
/// trusting the app's test issuer.
pub(crate) fn github_publisher(
    app: &TestApp,
    repository: &str,
    projects: &[&str],
    pending: bool,
) -> pb::Publisher {
    pb::Publisher {
        projects: projects.iter().map(|p| (*p).to_owned()).collect(),
        pending,
        kind: Some(pb::publisher::Kind::Github(pb::GitHubPublisher {
            repository_owner: OWNER.to_owned(),
            repository_owner_id: OWNER_ID.to_owned(),
            repository_name: repository.to_owned(),
            workflow_filename: WORKFLOW.to_owned(),
            issuer: app.issuer.url(),
            ..pb::GitHubPublisher::default()
        })),
        ..pb::Publisher::default()
    }
}

/// Asserts a use-case error as the proto documents it: the gRPC `code`, the message
/// `"<wire code>: <description>"`, the trailing metadata `trustmint-error-code` and a
/// `google.rpc.ErrorInfo` detail (reason = wire code, domain = "trustmint",
/// metadata.description = description).
#[track_caller]
pub(crate) fn assert_error(status: &Status, code: Code, wire_code: &str, description: &str) {
    assert_eq!(status.code(), code, "{status:?}");
    assert_eq!(status.message(), format!("{wire_code}: {description}"));
    assert_eq!(
        status
            .metadata()
            .get(trustmint_grpc::ERROR_CODE_METADATA)
            .and_then(|value| value.to_str().ok()),
        Some(wire_code),
        "trustmint-error-code metadata: {:?}",
        status.metadata()
    );
    let details = status.get_error_details();
    let info = details.error_info().expect("ErrorInfo detail");
    assert_eq!(info.reason, wire_code);
    assert_eq!(info.domain, "trustmint");
    assert_eq!(
        info.metadata.get("description").map(String::as_str),
        Some(description)
    );
}
