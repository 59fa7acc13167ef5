//! Scraping an in-process app's `/metrics` and comparing scrapes, for the metrics tests.

use trustmint_grpc::pb::token_service_client::TokenServiceClient;

use super::metrics_text::{Scrape, parse};
use crate::support::TestApp;

/// The metric every exchange outcome is counted in.
pub const EXCHANGES: &str = "trustmint_exchanges_total";

/// `GET /metrics`, parsed.
pub async fn scrape(app: &TestApp) -> Scrape {
    let (status, text) = app.get("/metrics").await;
    assert_eq!(status, 200, "{text}");
    parse(&text)
}

/// The configured name of the app's one issuer (the `issuer` label of JWKS metrics).
pub fn issuer_name(app: &TestApp) -> String {
    app.app.verifier().registry().issuers()[0].name.clone()
}

/// A TokenService client for the app's gRPC listener.
pub async fn grpc(app: &TestApp) -> TokenServiceClient<tonic::transport::Channel> {
    TokenServiceClient::connect(format!("http://{}", app.grpc_addr))
        .await
        .expect("connect to the gRPC listener")
}

/// Every `trustmint_exchanges_total` series whose value differs between two scrapes.
pub fn moved_exchange_series(before: &Scrape, after: &Scrape) -> Vec<(Vec<(String, String)>, f64)> {
    after
        .series()
        .filter(|((name, _), _)| name == EXCHANGES)
        .filter_map(|((_, labels), value)| {
            let pairs: Vec<(&str, &str)> = labels
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            let delta = value - before.get(EXCHANGES, &pairs).unwrap_or(0.0);
            (delta != 0.0).then(|| (labels.clone(), delta))
        })
        .collect()
}

/// The labels of one `trustmint_exchanges_total` series.
pub fn exchange_labels<'a>(
    kind: &'a str,
    outcome: &'a str,
    code: &'a str,
) -> [(&'a str, &'a str); 3] {
    [("issuer_kind", kind), ("outcome", outcome), ("code", code)]
}
