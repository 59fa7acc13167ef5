//! Integration tests of trustmint-store against real backends: process memory, the
//! machine's Redis at 127.0.0.1:6379, and Redis Clusters and servers the tests start
//! themselves. No mocks: if Redis is missing, the Redis tests fail and say how to start it.

// A test binary exports nothing: `pub` here only means "visible to sibling modules".
#![allow(unreachable_pub)]

mod conformance;
mod faults;
mod registry;
mod support;

mod memory {
    crate::conformance::conformance_suite!(crate::support::Target::Memory);
}

mod standalone {
    crate::conformance::conformance_suite!(crate::support::Target::Standalone);
}

mod cluster {
    crate::conformance::conformance_suite!(crate::support::Target::Cluster);
}
