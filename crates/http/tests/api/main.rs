//! The HTTP adapter over a real actix server on a loopback port, in front of a real
//! exchange on the memory backends (testkit `memory_exchange`): every wire code's HTTP
//! status and PyPI body, body limits, malformed, oversized and truncated bodies, the
//! client address behind trusted proxies, and the operator endpoints. The rules
//! themselves are the exchange's tests; these check only what HTTP adds.

// A test binary exports nothing: `pub` here only means "visible to sibling modules".
#![allow(unreachable_pub)]

mod bodies;
mod burn_token;
mod client_ip;
mod doors;
mod endpoints;
mod error_mapping;
mod exact_bodies;
mod support;
