//! Code generated from `proto/trustmint/v1/trustmint.proto`.

#![allow(
    missing_docs,
    unreachable_pub,
    clippy::all,
    missing_debug_implementations
)]

tonic::include_proto!("trustmint.v1");

/// The encoded file descriptor set, for server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("trustmint_descriptor");
