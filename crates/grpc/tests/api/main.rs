//! The gRPC adapter: tonic clients generated from `proto/` against `trustmint_grpc::serve`
//! on a loopback port, in front of a real exchange on the memory backends (testkit
//! `memory_exchange`). What gRPC adds to the use cases: every wire code's status (code,
//! message, trailing metadata, `ErrorInfo`, `BadRequest`, `RetryInfo`), bearer-token
//! authentication, and required fields.

// A test binary exports nothing: `pub` here only means "visible to sibling modules".
#![allow(unreachable_pub)]

mod auth;
mod custom_issuer_publishers;
mod fields;
mod publisher_policy;
mod status_mapping;
mod support;
