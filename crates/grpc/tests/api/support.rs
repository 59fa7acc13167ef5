//! A running gRPC adapter and clients that send an optional bearer token.

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Channel, Endpoint};
use tonic::{Code, Request, Status};
use tonic_types::StatusExt as _;
use trustmint_grpc::pb::publisher_service_client::PublisherServiceClient;
use trustmint_grpc::pb::token_service_client::TokenServiceClient;
use trustmint_grpc::{AcceptedTokens, ERROR_CODE_METADATA, ERROR_DOMAIN, GrpcSecurity, serve};
use trustmint_testkit::memory_exchange::{ExchangeBuilder, MemoryExchange};

/// `serve` on `127.0.0.1:<free port>`; stops when dropped.
pub struct TestServer {
    pub fx: MemoryExchange,
    channel: Channel,
    _stop: oneshot::Sender<()>,
}

impl TestServer {
    /// The default exchange, no bearer token required.
    pub async fn start() -> Self {
        Self::with(ExchangeBuilder::start().await, None).await
    }

    /// `builder`'s exchange; calls must send `auth_token` when it is set.
    pub async fn with(builder: ExchangeBuilder, auth_token: Option<&str>) -> Self {
        let fx = builder.build();
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("binds");
        let addr = listener.local_addr().expect("an address");
        let (stop, stopped) = oneshot::channel::<()>();
        let security = GrpcSecurity {
            auth_tokens: AcceptedTokens::new(auth_token),
            tls: None,
        };
        tokio::spawn(serve(listener, fx.exchange.clone(), security, async {
            let _ = stopped.await;
        }));
        let channel = Endpoint::from_shared(format!("http://{addr}"))
            .expect("an endpoint")
            .connect_lazy();
        Self {
            fx,
            channel,
            _stop: stop,
        }
    }

    /// Clients sending `bearer`.
    pub fn clients(&self, bearer: Bearer) -> Clients {
        Clients {
            tokens: TokenServiceClient::with_interceptor(self.channel.clone(), bearer.clone()),
            publishers: PublisherServiceClient::with_interceptor(self.channel.clone(), bearer),
        }
    }

    /// Clients without credentials.
    pub fn anonymous(&self) -> Clients {
        self.clients(Bearer::none())
    }
}

/// Adds an `authorization` value to every call when it has one.
#[derive(Clone, Debug, Default)]
pub struct Bearer(Option<MetadataValue<Ascii>>);

impl Bearer {
    /// `Bearer <token>`.
    pub fn token(token: &str) -> Self {
        Self::raw(&format!("Bearer {token}"))
    }

    /// The raw `authorization` value.
    pub fn raw(value: &str) -> Self {
        Self(Some(value.parse().expect("an ASCII header")))
    }

    /// No `authorization` at all.
    pub fn none() -> Self {
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

/// Both services' clients over one channel.
#[derive(Clone, Debug)]
pub struct Clients {
    pub tokens: TokenServiceClient<InterceptedService<Channel, Bearer>>,
    pub publishers: PublisherServiceClient<InterceptedService<Channel, Bearer>>,
}

/// Asserts a use-case error as the proto documents it: the gRPC code, the message
/// `"<wire code>: <description>"`, the trailing metadata `trustmint-error-code`, and a
/// `google.rpc.ErrorInfo` (reason = wire code, domain `trustmint`, the description).
#[track_caller]
pub fn assert_error(status: &Status, code: Code, wire_code: &str, description: &str) {
    assert_eq!(status.code(), code, "{status:?}");
    assert_eq!(status.message(), format!("{wire_code}: {description}"));
    assert_eq!(
        status
            .metadata()
            .get(ERROR_CODE_METADATA)
            .map(|v| v.to_str().expect("ASCII")),
        Some(wire_code),
        "{status:?}"
    );
    let details = status.get_error_details();
    let info = details.error_info().expect("an ErrorInfo detail");
    assert_eq!(info.reason, wire_code);
    assert_eq!(info.domain, ERROR_DOMAIN);
    assert_eq!(
        info.metadata.get("description").map(String::as_str),
        Some(description)
    );
}

/// Asserts `invalid-argument` naming `field` in the message and a `BadRequest` detail.
#[track_caller]
pub fn assert_invalid_argument(status: &Status, field: &str, message: &str) {
    assert_error(
        status,
        Code::InvalidArgument,
        "invalid-argument",
        &format!("{field}: {message}"),
    );
    let violations = status
        .get_error_details()
        .bad_request()
        .expect("a BadRequest detail")
        .field_violations
        .clone();
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert_eq!(violations[0].field, field);
    assert_eq!(violations[0].description, message);
}
