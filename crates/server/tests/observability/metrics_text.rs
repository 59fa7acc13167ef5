//! A small parser of the Prometheus text exposition format (version 0.0.4), enough to
//! read exact series values before and after a request.

use std::collections::BTreeMap;

/// One series: metric name and its labels, sorted by label name.
pub type SeriesKey = (String, Vec<(String, String)>);

/// Every sample of one scrape.
#[derive(Debug, Clone, Default)]
pub struct Scrape {
    samples: BTreeMap<SeriesKey, f64>,
}

/// Parses an exposition; panics (failing the test) on a line it cannot read, quoting it.
pub fn parse(text: &str) -> Scrape {
    let mut samples = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, value) = parse_line(line).unwrap_or_else(|| panic!("unparsable line: {line}"));
        assert!(
            samples.insert(key, value).is_none(),
            "duplicate series: {line}"
        );
    }
    Scrape { samples }
}

fn parse_line(line: &str) -> Option<(SeriesKey, f64)> {
    let (name, rest) = match line.find(['{', ' ']) {
        Some(at) => line.split_at(at),
        None => return None,
    };
    let (labels, value_text) = if let Some(rest) = rest.strip_prefix('{') {
        let (labels, after) = parse_labels(rest)?;
        (labels, after)
    } else {
        (Vec::new(), rest)
    };
    // A sample line may carry a timestamp after the value; trustmint's never do.
    let value_text = value_text.split_whitespace().next()?;
    let value = match value_text {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        other => other.parse().ok()?,
    };
    Some(((name.to_owned(), labels), value))
}

/// Reads `a="x",b="y"}` and returns the labels (sorted) and the text after the `}`.
fn parse_labels(mut rest: &str) -> Option<(Vec<(String, String)>, &str)> {
    let mut labels = Vec::new();
    loop {
        rest = rest.trim_start_matches(',');
        if let Some(after) = rest.strip_prefix('}') {
            labels.sort();
            return Some((labels, after));
        }
        let eq = rest.find('=')?;
        let name = rest[..eq].trim().to_owned();
        let mut chars = rest[eq + 1..].char_indices();
        if chars.next()?.1 != '"' {
            return None;
        }
        let mut value = String::new();
        let mut escaped = false;
        let mut end = None;
        for (index, c) in chars {
            if escaped {
                value.push(if c == 'n' { '\n' } else { c });
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                end = Some(eq + 1 + index + 1);
                break;
            } else {
                value.push(c);
            }
        }
        labels.push((name, value));
        rest = &rest[end?..];
    }
}

impl Scrape {
    /// The value of the series `name` with exactly `labels` (any order).
    pub fn get(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let mut labels: Vec<(String, String)> = labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        labels.sort();
        self.samples.get(&(name.to_owned(), labels)).copied()
    }

    /// Like [`get`](Self::get), but a missing series fails the test, listing the
    /// series of that name that do exist.
    #[track_caller]
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.get(name, labels).unwrap_or_else(|| {
            panic!(
                "no series {name}{labels:?}; series of that name:\n{}",
                self.describe(name)
            )
        })
    }

    /// `after − before` of one series; a series missing before counts as 0 there.
    #[track_caller]
    pub fn delta(&self, before: &Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.value(name, labels) - before.get(name, labels).unwrap_or(0.0)
    }

    /// Every series, for the cardinality checks.
    pub fn series(&self) -> impl Iterator<Item = (&SeriesKey, f64)> {
        self.samples.iter().map(|(key, value)| (key, *value))
    }

    /// The set of series keys (names and label sets).
    pub fn keys(&self) -> Vec<SeriesKey> {
        self.samples.keys().cloned().collect()
    }

    /// The series of metric `name`, one per line (for failure messages).
    pub fn describe(&self, name: &str) -> String {
        self.samples
            .iter()
            .filter(|((series, _), _)| series == name)
            .map(|((series, labels), value)| format!("  {series}{labels:?} = {value}"))
            .collect::<Vec<_>>()
            .join("\n")
    }
}
