//! The service's own view of where time goes: `/metrics` scraped before and after a
//! scenario, so the difference of a histogram's `_sum` and `_count` gives the mean time
//! spent inside the use case and inside each store call — against the latency the
//! client saw, the rest is HTTP/gRPC, the network stack and queueing.

use std::collections::BTreeMap;

use crate::error::BenchError;

/// One series: metric name and its labels.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Series {
    name: String,
    labels: BTreeMap<String, String>,
}

/// A parsed Prometheus text exposition.
#[derive(Debug, Clone, Default)]
pub(crate) struct MetricsSnapshot {
    values: BTreeMap<Series, f64>,
}

/// Mean duration per call of one histogram over an interval.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub(crate) struct MeanDuration {
    /// Observations in the interval.
    pub(crate) calls: f64,
    /// Mean observation, in microseconds.
    pub(crate) mean_us: f64,
}

impl MetricsSnapshot {
    /// Scrapes `<http_url>/metrics`.
    pub(crate) async fn fetch(
        client: &reqwest::Client,
        http_url: &str,
    ) -> Result<Self, BenchError> {
        let text = client
            .get(format!("{http_url}/metrics"))
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|error| BenchError::Setup(format!("scraping /metrics: {error}")))?
            .text()
            .await
            .map_err(|error| BenchError::Setup(format!("reading /metrics: {error}")))?;
        Ok(Self::parse(&text))
    }

    /// Parses the text format; lines it does not understand are skipped.
    pub(crate) fn parse(text: &str) -> Self {
        let values = text
            .lines()
            .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
            .filter_map(parse_sample)
            .collect();
        Self { values }
    }

    /// Sum of every series of `name` whose labels include `label` (if given).
    fn total(&self, name: &str, label: Option<(&str, &str)>) -> f64 {
        self.values
            .iter()
            .filter(|(series, _)| series.name == name)
            .filter(|(series, _)| {
                label.is_none_or(|(key, value)| series.labels.get(key).is_some_and(|v| v == value))
            })
            .map(|(_, value)| value)
            .sum()
    }

    /// How much the counters `name` (summed over the series whose labels include
    /// `label`) grew between `earlier` and `self`.
    pub(crate) fn delta_since(
        &self,
        earlier: &MetricsSnapshot,
        name: &str,
        label: Option<(&str, &str)>,
    ) -> f64 {
        self.total(name, label) - earlier.total(name, label)
    }

    /// Mean of histogram `family` between `earlier` and `self`, over the series whose
    /// labels include `label`; `None` when nothing was observed in between.
    pub(crate) fn mean_since(
        &self,
        earlier: &MetricsSnapshot,
        family: &str,
        label: Option<(&str, &str)>,
    ) -> Option<MeanDuration> {
        let sum_name = format!("{family}_sum");
        let count_name = format!("{family}_count");
        let calls = self.total(&count_name, label) - earlier.total(&count_name, label);
        let seconds = self.total(&sum_name, label) - earlier.total(&sum_name, label);
        (calls > 0.0).then(|| MeanDuration {
            calls,
            mean_us: seconds / calls * 1e6,
        })
    }

    /// Mean of histogram `family` per value of `label_key` between `earlier` and `self`.
    pub(crate) fn means_by_label(
        &self,
        earlier: &MetricsSnapshot,
        family: &str,
        label_key: &str,
    ) -> BTreeMap<String, MeanDuration> {
        let count_name = format!("{family}_count");
        let label_values: Vec<String> = self
            .values
            .keys()
            .filter(|series| series.name == count_name)
            .filter_map(|series| series.labels.get(label_key).cloned())
            .collect();
        label_values
            .into_iter()
            .filter_map(|value| {
                self.mean_since(earlier, family, Some((label_key, &value)))
                    .map(|mean| (value, mean))
            })
            .collect()
    }
}

/// `name{k="v",…} value` or `name value`.
fn parse_sample(line: &str) -> Option<(Series, f64)> {
    let (series, value) = line.trim().rsplit_once(' ')?;
    let value = value.parse::<f64>().ok()?;
    let (name, labels) = match series.split_once('{') {
        Some((name, rest)) => (name, parse_labels(rest.strip_suffix('}')?)?),
        None => (series, BTreeMap::new()),
    };
    Some((
        Series {
            name: name.to_owned(),
            labels,
        },
        value,
    ))
}

/// `k="v",k2="v2"` with `\"`, `\\` and `\n` escapes in values.
fn parse_labels(text: &str) -> Option<BTreeMap<String, String>> {
    let mut labels = BTreeMap::new();
    let mut rest = text;
    while !rest.is_empty() {
        let (key, after_key) = rest.split_once("=\"")?;
        let mut value = String::new();
        let mut chars = after_key.char_indices();
        let mut end = None;
        while let Some((at, c)) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some((_, 'n')) => value.push('\n'),
                    Some((_, escaped)) => value.push(escaped),
                    None => return None,
                },
                '"' => {
                    end = Some(at);
                    break;
                }
                c => value.push(c),
            }
        }
        let end = end?;
        labels.insert(key.trim_start_matches(',').to_owned(), value);
        rest = after_key[end + 1..].trim_start_matches(',');
    }
    Some(labels)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BEFORE: &str = r#"
# HELP trustmint_store_duration_seconds Store call time
trustmint_store_duration_seconds_sum{op="token_put"} 0.5
trustmint_store_duration_seconds_count{op="token_put"} 10
trustmint_store_duration_seconds_sum{op="replay_claim"} 0
trustmint_store_duration_seconds_count{op="replay_claim"} 0
trustmint_exchange_duration_seconds_sum{issuer_kind="github"} 1
trustmint_exchange_duration_seconds_count{issuer_kind="github"} 10
"#;
    const AFTER: &str = r#"
trustmint_store_duration_seconds_sum{op="token_put"} 0.6
trustmint_store_duration_seconds_count{op="token_put"} 20
trustmint_store_duration_seconds_sum{op="replay_claim"} 0.002
trustmint_store_duration_seconds_count{op="replay_claim"} 10
trustmint_store_duration_seconds_sum{op="token_get"} 0
trustmint_store_duration_seconds_count{op="token_get"} 0
trustmint_exchange_duration_seconds_sum{issuer_kind="github"} 1.5
trustmint_exchange_duration_seconds_count{issuer_kind="github"} 20
trustmint_exchange_duration_seconds_count{issuer_kind="gitlab"} 0
weird{a="x\"y,z",b="2"} 3
"#;

    fn close(left: f64, right: f64) -> bool {
        (left - right).abs() < 1e-6
    }

    #[test]
    fn means_are_differences_of_sum_over_count() {
        let (before, after) = (
            MetricsSnapshot::parse(BEFORE),
            MetricsSnapshot::parse(AFTER),
        );
        let exchange = after
            .mean_since(&before, "trustmint_exchange_duration_seconds", None)
            .expect("observed");
        assert!(
            close(exchange.calls, 10.0) && close(exchange.mean_us, 50_000.0),
            "{exchange:?}"
        );
        let stores = after.means_by_label(&before, "trustmint_store_duration_seconds", "op");
        assert_eq!(
            stores.keys().collect::<Vec<_>>(),
            ["replay_claim", "token_put"]
        );
        assert!(close(stores["token_put"].mean_us, 10_000.0), "{stores:?}");
        assert!(close(stores["replay_claim"].mean_us, 200.0), "{stores:?}");
    }

    #[test]
    fn parses_escaped_label_values() {
        let (series, value) = parse_sample(r#"weird{a="x\"y,z",b="2"} 3"#).expect("parsed");
        assert_eq!(series.name, "weird");
        assert_eq!(
            series.labels,
            BTreeMap::from([
                ("a".to_owned(), "x\"y,z".to_owned()),
                ("b".to_owned(), "2".to_owned())
            ])
        );
        assert_eq!(value, 3.0);
        assert_eq!(parse_sample("no_value_here"), None);
    }
}
