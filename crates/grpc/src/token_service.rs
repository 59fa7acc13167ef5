//! `trustmint.v1.TokenService`: mint, verify and revoke upload tokens.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

use tonic::{Request, Response, Status};
use tracing::Instrument as _;
use trustmint_exchange::{
    Exchange, ExchangeError, MintRequest, Revocation, UploadToken, Verification, VerifyRequest,
};

use crate::convert::publisher_to_pb;
use crate::observe::{record, request_span};
use crate::pb;
use crate::status::status_from;

/// The TokenService implementation over the use cases.
#[derive(Debug, Clone)]
pub struct TokenApi {
    exchange: Arc<Exchange>,
}

/// The optional `client_ip` field: empty = unknown; anything else must be an address.
fn parse_client_ip(raw: &str) -> Result<Option<IpAddr>, Status> {
    match raw.trim() {
        "" => Ok(None),
        raw => raw.parse::<IpAddr>().map(Some).map_err(|_| {
            status_from(&ExchangeError::InvalidArgument {
                field: "client_ip".to_owned(),
                message: format!("'{raw}' is not an IP address"),
            })
        }),
    }
}

impl TokenApi {
    /// A service answering from `exchange`.
    pub fn new(exchange: Arc<Exchange>) -> Self {
        Self { exchange }
    }

    async fn mint(&self, request: pb::MintTokenRequest) -> Result<pb::MintTokenResponse, Status> {
        let client_ip = parse_client_ip(&request.client_ip)?;
        // An empty oidc_token goes to the use case like any other string, so it fails
        // exactly as HTTP's `{"token": ""}` does (invalid-payload, "malformed JWT").
        let minted = self
            .exchange
            .mint(MintRequest {
                oidc_token: request.oidc_token.into(),
                client_ip,
            })
            .await
            .map_err(|error| status_from(&error))?;
        Ok(pb::MintTokenResponse {
            token: minted.token.expose_secret().to_owned(),
            expires_at: minted.expires_at,
            projects: minted
                .projects
                .iter()
                .map(|p| p.as_str().to_owned())
                .collect(),
            publisher: minted.publisher().map(publisher_to_pb),
            token_id: minted.token_id.clone(),
            publishers: minted.publishers.iter().map(publisher_to_pb).collect(),
            claims: minted.claims.clone().into_iter().collect(),
        })
    }

    async fn verify(
        &self,
        request: pb::VerifyTokenRequest,
    ) -> Result<pb::VerifyTokenResponse, Status> {
        let ecosystem = crate::convert::ecosystem_from_pb("ecosystem", &request.ecosystem)?;
        let verification = self
            .exchange
            .verify_in(
                VerifyRequest {
                    token: request.token.into(),
                    project: request.project,
                },
                ecosystem,
            )
            .await
            .map_err(|error| status_from(&error))?;
        Ok(match verification {
            Verification::Allowed(allowed) => pb::VerifyTokenResponse {
                allowed: true,
                reason: String::new(),
                publisher: Some(publisher_to_pb(&allowed.publisher)),
                claims: allowed.claims.into_iter().collect(),
                expires_at: allowed.expires_at,
                projects: allowed.projects,
                token_id: allowed.token_id,
                attenuated: allowed.attenuated,
            },
            Verification::Denied { reason } => pb::VerifyTokenResponse {
                allowed: false,
                reason,
                ..pb::VerifyTokenResponse::default()
            },
        })
    }
}

#[tonic::async_trait]
impl pb::token_service_server::TokenService for TokenApi {
    async fn mint_token(
        &self,
        request: Request<pb::MintTokenRequest>,
    ) -> Result<Response<pb::MintTokenResponse>, Status> {
        const METHOD: &str = "MintToken";
        let (span, started) = (request_span(METHOD, request.metadata()), Instant::now());
        let result = self
            .mint(request.into_inner())
            .instrument(span.clone())
            .await;
        record(self.exchange.metrics(), &span, METHOD, started, &result);
        result.map(Response::new)
    }

    async fn verify_token(
        &self,
        request: Request<pb::VerifyTokenRequest>,
    ) -> Result<Response<pb::VerifyTokenResponse>, Status> {
        const METHOD: &str = "VerifyToken";
        let (span, started) = (request_span(METHOD, request.metadata()), Instant::now());
        let result = self
            .verify(request.into_inner())
            .instrument(span.clone())
            .await;
        record(self.exchange.metrics(), &span, METHOD, started, &result);
        result.map(Response::new)
    }

    async fn revoke_token(
        &self,
        request: Request<pb::RevokeTokenRequest>,
    ) -> Result<Response<pb::RevokeTokenResponse>, Status> {
        const METHOD: &str = "RevokeToken";
        let (span, started) = (request_span(METHOD, request.metadata()), Instant::now());
        let request = request.into_inner();
        let token = UploadToken::from(request.token);
        let result = async {
            let client_ip = parse_client_ip(&request.client_ip)?;
            self.exchange
                .revoke(&token, client_ip)
                .await
                .map(|revocation| pb::RevokeTokenResponse {
                    revoked: revocation == Revocation::Revoked,
                })
                .map_err(|error| status_from(&error))
        }
        .instrument(span.clone())
        .await;
        record(self.exchange.metrics(), &span, METHOD, started, &result);
        result.map(Response::new)
    }
}
