//! The same services over an in-memory transport: `trustmint_grpc::serve_incoming` fed
//! `tokio::io::duplex` pipes instead of accepted sockets, with the service built by
//! `trustmint::build_service` as `serve` builds it. No port, no TCP stack: the fastest
//! way to exercise the gRPC layer (routing, interceptor, status mapping, codecs).
//! Everything else in this suite runs over real sockets.

use std::io;

use hyper_util::rt::TokioIo;
use tokio::sync::{mpsc, oneshot};
use tokio_stream::StreamExt as _;
use tokio_stream::wrappers::ReceiverStream;
use tonic::Code;
use tonic::transport::{Channel, Endpoint};
use trustmint_grpc::{AcceptedTokens, GrpcSecurity};
use trustmint_testkit::TestIssuer;
use trustmint_testkit::claims::GitHubClaims;

use super::{Bearer, Grpc};
use crate::support::{PROJECT, base_settings};

const AUTH_TOKEN: &str = "in-memory-index-token";

/// A service served over in-memory pipes; stops when dropped.
struct InMemory {
    channel: Channel,
    issuer: TestIssuer,
    _stop: oneshot::Sender<()>,
}

impl InMemory {
    async fn start() -> Self {
        let issuer = TestIssuer::start().await;
        let settings = base_settings(&issuer);
        let service = trustmint::build_service(&settings)
            .await
            .expect("the service builds");
        let (connections, accepted) = mpsc::channel::<tokio::io::DuplexStream>(8);
        let (stop, stopped) = oneshot::channel::<()>();
        let security = GrpcSecurity {
            auth_tokens: AcceptedTokens::new([AUTH_TOKEN]),
            tls: None,
        };
        tokio::spawn(trustmint_grpc::serve_incoming(
            ReceiverStream::new(accepted).map(Ok::<_, io::Error>),
            service.exchange,
            security,
            async {
                let _ = stopped.await;
            },
        ));
        // Each connection the client opens is a fresh pipe whose far end goes to the
        // server's incoming stream. The URI is never resolved.
        let channel = Endpoint::from_static("http://in-memory.invalid")
            .connect_with_connector(tower::service_fn(move |_: http::Uri| {
                let connections = connections.clone();
                async move {
                    let (client, server) = tokio::io::duplex(64 * 1024);
                    connections
                        .send(server)
                        .await
                        .map_err(|_| io::Error::other("the in-memory server stopped"))?;
                    Ok::<_, io::Error>(TokioIo::new(client))
                }
            }))
            .await
            .expect("an in-memory channel");
        Self {
            channel,
            issuer,
            _stop: stop,
        }
    }

    fn jwt(&self) -> String {
        self.issuer.sign(&GitHubClaims::new().build(
            &self.issuer.url(),
            "pypi",
            crate::support::now(),
        ))
    }
}

#[tokio::test]
async fn mint_and_verify_over_an_in_memory_transport() {
    let service = InMemory::start().await;
    let grpc = Grpc::with(service.channel.clone(), Bearer::token(AUTH_TOKEN));
    let minted = grpc.mint_ok(&service.jwt()).await;
    assert_eq!(minted.projects, [PROJECT]);

    let allowed = grpc.verify(&minted.token, PROJECT).await;
    assert!(allowed.allowed, "{allowed:?}");
    assert_eq!(allowed.reason, "");
    let denied = grpc.verify(&minted.token, "otherproject").await;
    assert!(!denied.allowed);
    assert_eq!(
        denied.reason,
        "project-scoped token is not valid for project: 'otherproject'"
    );
}

#[tokio::test]
async fn the_interceptor_guards_the_in_memory_transport_too() {
    let service = InMemory::start().await;
    let anonymous = Grpc::with(service.channel.clone(), Bearer::none());
    let refused = anonymous
        .try_verify("pypi-not-a-token", PROJECT)
        .await
        .expect_err("no bearer token");
    assert_eq!(refused.code(), Code::Unauthenticated);
    let wrong = Grpc::with(service.channel.clone(), Bearer::token("not-the-token"));
    let refused = wrong
        .mint(&service.jwt())
        .await
        .expect_err("wrong bearer token");
    assert_eq!(refused.code(), Code::Unauthenticated);
}
