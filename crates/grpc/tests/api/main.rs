//! The gRPC adapter: tonic clients generated from `proto/` against `trustmint_grpc::serve`
//! on a loopback port, in front of a real exchange on the memory backends (testkit
//! `memory_exchange`). What gRPC adds to the use cases: the messages each RPC answers
//! (MintToken, VerifyToken and attenuated tokens, RevokeToken, PublisherService and
//! pending publishers), every wire code's status (code, message, trailing metadata,
//! `ErrorInfo`, `BadRequest`, `RetryInfo`), bearer-token authentication, and required
//! fields.

// A test binary exports nothing: `pub` here only means "visible to sibling modules".
#![allow(unreachable_pub)]

mod attenuation;
mod auth;
mod calls;
mod ci_platforms;
mod custom_issuer_publishers;
mod declared;
mod ecosystems;
mod fields;
mod mint;
mod pending;
mod publisher_policy;
mod publishers;
mod revoke;
mod status_mapping;
mod support;
mod verify;
