//! Servers whose `[[publishers]]` differ from the default declaration: another project
//! list or environment for the default repository, or none at all (so only what a test
//! registers through PublisherService matches).

use trustmint_testkit::TestIssuer;
use trustmint_testkit::memory_exchange::{ExchangeBuilder, github_declaration};

use crate::support::TestServer;

/// The default repository's publisher declared for `projects`, restricted to
/// `environment` unless it is empty.
pub async fn declaring(projects: &[&str], environment: &str) -> TestServer {
    let issuer = TestIssuer::start().await;
    let url = issuer.url();
    let builder = ExchangeBuilder::new(issuer).publishers(vec![github_declaration(
        &url,
        projects,
        environment,
    )]);
    TestServer::with(builder, None).await
}

/// No declared publishers.
pub async fn without_declared_publishers() -> TestServer {
    TestServer::with(ExchangeBuilder::start().await.publishers(Vec::new()), None).await
}
