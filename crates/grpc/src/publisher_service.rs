//! `trustmint.v1.PublisherService`: the index manages publishers.

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use tonic::{Request, Response, Status};
use tracing::Instrument as _;
use trustmint_exchange::{Exchange, ExchangeError};

use crate::convert::{ecosystem_from_pb, new_publisher_from_pb, publisher_to_pb};
use crate::observe::{record, request_span};
use crate::pb;
use crate::status::status_from;

/// The PublisherService implementation over the use cases.
#[derive(Debug, Clone)]
pub struct PublisherApi {
    exchange: Arc<Exchange>,
}

fn missing(field: &str) -> Status {
    status_from(&ExchangeError::InvalidArgument {
        field: field.to_owned(),
        message: "required".to_owned(),
    })
}

impl PublisherApi {
    /// A service answering from `exchange`.
    pub fn new(exchange: Arc<Exchange>) -> Self {
        Self { exchange }
    }

    /// Runs one call inside its span and records its metrics.
    async fn observed<T>(
        &self,
        method: &'static str,
        metadata: &tonic::metadata::MetadataMap,
        call: impl Future<Output = Result<T, Status>>,
    ) -> Result<Response<T>, Status> {
        let (span, started) = (request_span(method, metadata), Instant::now());
        let result = call.instrument(span.clone()).await;
        record(self.exchange.metrics(), &span, method, started, &result);
        result.map(Response::new)
    }
}

#[tonic::async_trait]
impl pb::publisher_service_server::PublisherService for PublisherApi {
    async fn create_publisher(
        &self,
        request: Request<pb::CreatePublisherRequest>,
    ) -> Result<Response<pb::Publisher>, Status> {
        let (metadata, _, body) = request.into_parts();
        self.observed("CreatePublisher", &metadata, async {
            let publisher = body.publisher.ok_or_else(|| missing("publisher"))?;
            let ecosystem = ecosystem_from_pb("publisher.ecosystem", &publisher.ecosystem)?;
            let new = new_publisher_from_pb(publisher).ok_or_else(|| missing("publisher.kind"))?;
            let created = self
                .exchange
                .create_publisher_in(new, ecosystem)
                .await
                .map_err(|error| status_from(&error))?;
            Ok(publisher_to_pb(&created.publisher))
        })
        .await
    }

    async fn get_publisher(
        &self,
        request: Request<pb::GetPublisherRequest>,
    ) -> Result<Response<pb::Publisher>, Status> {
        let (metadata, _, body) = request.into_parts();
        self.observed("GetPublisher", &metadata, async {
            if body.id.is_empty() {
                return Err(missing("id"));
            }
            let publisher = self
                .exchange
                .get_publisher(&body.id)
                .await
                .map_err(|error| status_from(&error))?;
            Ok(publisher_to_pb(&publisher))
        })
        .await
    }

    async fn list_publishers(
        &self,
        request: Request<pb::ListPublishersRequest>,
    ) -> Result<Response<pb::ListPublishersResponse>, Status> {
        let (metadata, _, body) = request.into_parts();
        self.observed("ListPublishers", &metadata, async {
            if body.project.is_empty() {
                return Err(missing("project"));
            }
            let publishers = self
                .exchange
                .list_publishers(&body.project)
                .await
                .map_err(|error| status_from(&error))?;
            Ok(pb::ListPublishersResponse {
                publishers: publishers.iter().map(publisher_to_pb).collect(),
            })
        })
        .await
    }

    async fn delete_publisher(
        &self,
        request: Request<pb::DeletePublisherRequest>,
    ) -> Result<Response<pb::DeletePublisherResponse>, Status> {
        let (metadata, _, body) = request.into_parts();
        self.observed("DeletePublisher", &metadata, async {
            if body.id.is_empty() {
                return Err(missing("id"));
            }
            let deleted = self
                .exchange
                .delete_publisher(&body.id)
                .await
                .map_err(|error| status_from(&error))?;
            Ok(pb::DeletePublisherResponse {
                deleted: deleted.is_some(),
            })
        })
        .await
    }

    async fn confirm_publisher(
        &self,
        request: Request<pb::ConfirmPublisherRequest>,
    ) -> Result<Response<pb::ConfirmPublisherResponse>, Status> {
        let (metadata, _, body) = request.into_parts();
        self.observed("ConfirmPublisher", &metadata, async {
            if body.id.is_empty() {
                return Err(missing("id"));
            }
            let confirmed = self
                .exchange
                .confirm_publisher(&body.id)
                .await
                .map_err(|error| status_from(&error))?;
            Ok(pb::ConfirmPublisherResponse {
                publisher: Some(publisher_to_pb(&confirmed.publisher)),
                already_confirmed: confirmed.already_confirmed,
            })
        })
        .await
    }
}
