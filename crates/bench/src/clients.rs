//! The calls the benchmark makes, as a CI runner and as the index make them: mint over
//! HTTP (PyPI's endpoint), verify and publisher registration over gRPC (with the bearer
//! token the index sends).

use std::time::Duration;

use serde_json::Value;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use trustmint_grpc::pb;
use trustmint_grpc::pb::publisher_service_client::PublisherServiceClient;
use trustmint_grpc::pb::token_service_client::TokenServiceClient;

use crate::error::BenchError;
use crate::load::Outcome;

/// Upper bound on one request; a hung request shows up as a failure, not a hung bench.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Adds `authorization: Bearer <token>` to every gRPC call.
#[derive(Clone, Debug)]
pub(crate) struct BearerToken(MetadataValue<Ascii>);

impl Interceptor for BearerToken {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        request
            .metadata_mut()
            .insert("authorization", self.0.clone());
        Ok(request)
    }
}

/// A TokenService client that authenticates as the index.
pub(crate) type TokenClient = TokenServiceClient<InterceptedService<Channel, BearerToken>>;

/// A PublisherService client that authenticates as the index.
pub(crate) type PublisherClient = PublisherServiceClient<InterceptedService<Channel, BearerToken>>;

/// How long a load worker keeps an idle HTTP connection for reuse.
const IDLE_CONNECTION_TIMEOUT: Duration = Duration::from_secs(2);

/// One HTTP client (its own connection pool) per load worker.
pub(crate) fn http_clients(count: usize) -> Result<Vec<reqwest::Client>, BenchError> {
    (0..count.max(1))
        .map(|_| {
            reqwest::Client::builder()
                .timeout(REQUEST_TIMEOUT)
                // Below the service's keep-alive (actix closes an idle connection after
                // 5 s): a pooled connection idle for longer may be closed by the server
                // just as it is reused, and a POST on it fails with no answer — a client
                // race, not a service failure (it showed as 5 "http transport error"s in
                // a 10-minute soak right after a latency spike had widened the pool).
                .pool_idle_timeout(IDLE_CONNECTION_TIMEOUT)
                .build()
                .map_err(|error| BenchError::Setup(format!("HTTP client: {error}")))
        })
        .collect()
}

/// A gRPC channel (one HTTP/2 connection) to `grpc_url`.
async fn channel(grpc_url: &str) -> Result<Channel, BenchError> {
    Channel::from_shared(grpc_url.to_owned())
        .map_err(|error| BenchError::Setup(format!("gRPC URL: {error}")))?
        .timeout(REQUEST_TIMEOUT)
        .connect()
        .await
        .map_err(|error| BenchError::Setup(format!("gRPC connect: {error}")))
}

fn bearer(auth_token: &str) -> Result<BearerToken, BenchError> {
    format!("Bearer {auth_token}")
        .parse()
        .map(BearerToken)
        .map_err(|_| BenchError::Setup("the gRPC token is not valid metadata".to_owned()))
}

/// `count` TokenService clients sharing `connections` HTTP/2 connections round-robin,
/// as an index shares one `Channel` among its request handlers (concurrent calls on a
/// connection are multiplexed streams).
pub(crate) async fn token_clients(
    grpc_url: &str,
    auth_token: &str,
    count: usize,
    connections: usize,
) -> Result<Vec<TokenClient>, BenchError> {
    let mut channels = Vec::with_capacity(connections.max(1));
    for _ in 0..connections.max(1) {
        channels.push(channel(grpc_url).await?);
    }
    (0..count.max(1))
        .map(|n| {
            Ok(TokenServiceClient::with_interceptor(
                channels[n % channels.len()].clone(),
                bearer(auth_token)?,
            ))
        })
        .collect()
}

/// A PublisherService client.
pub(crate) async fn publisher_client(
    grpc_url: &str,
    auth_token: &str,
) -> Result<PublisherClient, BenchError> {
    Ok(PublisherServiceClient::with_interceptor(
        channel(grpc_url).await?,
        bearer(auth_token)?,
    ))
}

/// The `{"token": …}` body of a mint request.
pub(crate) fn mint_body(jwt: &str) -> String {
    serde_json::json!({ "token": jwt }).to_string()
}

/// POSTs `body` to `/_/oidc/mint-token`; the status and the JSON answer.
async fn post_mint(
    client: &reqwest::Client,
    http_url: &str,
    body: String,
) -> Result<(u16, Value), String> {
    let response = client
        .post(format!("{http_url}/_/oidc/mint-token"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .map_err(|error| transport_failure(&error))?;
    let status = response.status().as_u16();
    let bytes = response
        .bytes()
        .await
        .map_err(|error| transport_failure(&error))?;
    Ok((
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    ))
}

/// A low-cardinality name for a transport error.
fn transport_failure(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "http timeout".to_owned()
    } else if error.is_connect() {
        "http connect error".to_owned()
    } else {
        "http transport error".to_owned()
    }
}

/// `http <status> <code>` of a refused mint.
fn refusal(status: u16, answer: &Value) -> String {
    match answer["errors"][0]["code"].as_str() {
        Some(code) => format!("http {status} {code}"),
        None => format!("http {status}"),
    }
}

/// Mints: success is a 200 with `success: true` and a token, which is returned.
pub(crate) async fn mint(
    client: &reqwest::Client,
    http_url: &str,
    body: String,
) -> Result<String, String> {
    let (status, answer) = post_mint(client, http_url, body).await?;
    match (
        status,
        answer["success"].as_bool(),
        answer["token"].as_str(),
    ) {
        (200, Some(true), Some(token)) => Ok(token.to_owned()),
        _ => Err(refusal(status, &answer)),
    }
}

/// Sends a JWT that must be refused: success is PyPI's 422 with code `invalid-token`.
pub(crate) async fn mint_refused(
    client: &reqwest::Client,
    http_url: &str,
    body: String,
) -> Outcome {
    let (status, answer) = post_mint(client, http_url, body).await?;
    match (status, answer["errors"][0]["code"].as_str()) {
        (422, Some("invalid-token")) => Ok(()),
        (200, _) => Err("http 200: the broken JWT was accepted".to_owned()),
        _ => Err(refusal(status, &answer)),
    }
}

/// VerifyToken: success is `allowed = true`.
pub(crate) async fn verify(mut client: TokenClient, token: String, project: String) -> Outcome {
    match client
        .verify_token(pb::VerifyTokenRequest {
            token,
            project,
            ecosystem: String::new(),
        })
        .await
    {
        Ok(response) if response.get_ref().allowed => Ok(()),
        Ok(_) => Err("grpc denied".to_owned()),
        Err(status) => Err(format!("grpc {:?}", status.code())),
    }
}

/// Registers a GitHub publisher for `octo-org/<repository>` (workflow `release.yml`, any
/// environment) listing `projects`, through the index's API.
pub(crate) async fn register_github_publisher(
    client: &mut PublisherClient,
    issuer: &str,
    repository: &str,
    projects: Vec<String>,
) -> Result<(), BenchError> {
    let publisher = pb::Publisher {
        projects,
        kind: Some(pb::publisher::Kind::Github(pb::GitHubPublisher {
            repository_owner: "octo-org".to_owned(),
            repository_owner_id: "92345678".to_owned(),
            repository_name: repository.to_owned(),
            workflow_filename: "release.yml".to_owned(),
            issuer: issuer.to_owned(),
            ..Default::default()
        })),
        ..Default::default()
    };
    client
        .create_publisher(pb::CreatePublisherRequest {
            publisher: Some(publisher),
        })
        .await
        .map(|_| ())
        .map_err(|status| {
            BenchError::Setup(format!(
                "CreatePublisher {repository}: {:?} {}",
                status.code(),
                status.message()
            ))
        })
}
