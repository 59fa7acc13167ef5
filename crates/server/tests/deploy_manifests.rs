//! The deployment artefacts under `deploy/` agree with each other and with the code:
//! the Kubernetes manifests with the config their ConfigMap carries (ports, paths,
//! secrets), the configs with `Settings::load` and `check-config`, the alert rules with
//! the metrics `crates/telemetry/src/metrics.rs` registers, and the Containerfile and
//! systemd unit with the same ports, paths and exit code.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde::Deserialize as _;
use serde_yaml_ng::Value;
use trustmint::{KeySettings, Settings};

/// Metric names the rules may use that trustmint does not export: Prometheus' own
/// scrape health and kube-state-metrics' deployment status.
const EXTERNAL_METRICS: [&str; 3] = [
    "up",
    "kube_deployment_status_replicas_available",
    "kube_deployment_spec_replicas",
];

/// Labels Prometheus attaches to every scraped series (target labels).
const TARGET_LABELS: [&str; 7] = [
    "job", "namespace", "pod", "instance", "service", "endpoint", "container",
];

fn repo_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(relative)
}

fn read(relative: &str) -> String {
    std::fs::read_to_string(repo_path(relative))
        .unwrap_or_else(|error| panic!("cannot read {relative}: {error}"))
}

/// One YAML document and the file it came from.
struct Doc {
    file: String,
    value: Value,
}

impl Doc {
    fn kind(&self) -> &str {
        text(&self.value, "kind")
    }
}

/// Every document of every `*.yaml` file under deploy/kubernetes, in file-name order.
fn manifests() -> Vec<Doc> {
    let dir = repo_path("deploy/kubernetes");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .expect("deploy/kubernetes exists")
        .map(|entry| entry.expect("dir entry").file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".yaml") || name.ends_with(".yml"))
        .collect();
    files.sort();
    let mut docs = Vec::new();
    for file in files {
        let source = read(&format!("deploy/kubernetes/{file}"));
        for document in serde_yaml_ng::Deserializer::from_str(&source) {
            let value = Value::deserialize(document)
                .unwrap_or_else(|error| panic!("{file}: invalid YAML: {error}"));
            if !value.is_null() {
                docs.push(Doc { file: file.clone(), value });
            }
        }
    }
    docs
}

/// The deployable documents (examples excluded), exactly one of `kind` expected.
fn only<'a>(docs: &'a [Doc], kind: &str) -> &'a Value {
    let found: Vec<&Doc> = docs
        .iter()
        .filter(|doc| doc.kind() == kind && !doc.file.contains(".example."))
        .collect();
    assert_eq!(found.len(), 1, "expected exactly one {kind}");
    &found[0].value
}

/// The value at a dotted path (`spec.template.spec.containers.0`); panics naming it.
fn at<'a>(value: &'a Value, path: &str) -> &'a Value {
    path.split('.').fold(value, |current, part| {
        let next = match part.parse::<usize>() {
            Ok(index) => current.get(index),
            Err(_) => current.get(part),
        };
        next.unwrap_or_else(|| panic!("missing {path} (at {part})"))
    })
}

fn text<'a>(value: &'a Value, path: &str) -> &'a str {
    at(value, path).as_str().unwrap_or_else(|| panic!("{path} is not a string"))
}

fn list<'a>(value: &'a Value, path: &str) -> &'a Vec<Value> {
    at(value, path).as_sequence().unwrap_or_else(|| panic!("{path} is not a list"))
}

fn find<'a>(items: &'a [Value], key: &str, wanted: &str) -> &'a Value {
    items
        .iter()
        .find(|item| item.get(key).and_then(Value::as_str) == Some(wanted))
        .unwrap_or_else(|| panic!("no entry with {key} = {wanted}"))
}

fn labels(value: &Value) -> BTreeMap<String, String> {
    serde_yaml_ng::from_value(value.clone()).expect("a string map of labels")
}

fn assert_selects(selector: &Value, pod_labels: &BTreeMap<String, String>, what: &str) {
    let selector = labels(selector);
    assert!(!selector.is_empty(), "{what}: empty selector");
    for (key, value) in &selector {
        assert_eq!(pod_labels.get(key), Some(value), "{what} selects {key}={value}");
    }
}

/// The one container of the Deployment.
fn container(docs: &[Doc]) -> &Value {
    let containers = list(only(docs, "Deployment"), "spec.template.spec.containers");
    assert_eq!(containers.len(), 1, "one container");
    &containers[0]
}

/// The `--config` path the container starts with.
fn config_path(docs: &[Doc]) -> String {
    let args: Vec<&str> = list(container(docs), "args").iter().filter_map(Value::as_str).collect();
    let position = args.iter().position(|arg| *arg == "--config").expect("--config in args");
    args[position + 1].to_owned()
}

/// Follows `--config` → volumeMount → volume → ConfigMap key and returns the TOML.
fn configmap_toml(docs: &[Doc]) -> String {
    let path = config_path(docs);
    let mount = find(list(container(docs), "volumeMounts"), "mountPath", &path);
    let volumes = list(only(docs, "Deployment"), "spec.template.spec.volumes");
    let volume = find(volumes, "name", text(mount, "name"));
    let sub_path = text(mount, "subPath");
    let key = match volume.get("configMap").and_then(|cm| cm.get("items")) {
        Some(items) => text(find(items.as_sequence().expect("items"), "path", sub_path), "key"),
        None => sub_path,
    };
    let configmap = only(docs, "ConfigMap");
    assert_eq!(text(configmap, "metadata.name"), text(volume, "configMap.name"));
    text(configmap, &format!("data.{key}")).to_owned()
}

/// A `[section] key` of a TOML document as a string.
fn toml_text(source: &str, section: &str, key: &str) -> String {
    let table: toml::Table = toml::from_str(source).expect("valid TOML");
    table[section][key].as_str().unwrap_or_else(|| panic!("{section}.{key}")).to_owned()
}

fn port_of(source: &str, key: &str) -> u16 {
    let addr: SocketAddr = toml_text(source, "server", key).parse().expect("socket address");
    assert!(addr.ip().is_unspecified(), "server.{key} must listen on every interface");
    addr.port()
}

/// The number a container port reference (name or number) resolves to.
fn resolve_port(container: &Value, reference: &Value) -> u16 {
    let port = match reference.as_str() {
        Some(name) => at(find(list(container, "ports"), "name", name), "containerPort"),
        None => reference,
    };
    port.as_u64().and_then(|port| u16::try_from(port).ok()).expect("a port number")
}

#[test]
fn kustomization_lists_every_manifest_but_the_example() {
    let docs = manifests();
    let kustomization = only(&docs, "Kustomization");
    let listed: BTreeSet<&str> =
        list(kustomization, "resources").iter().filter_map(Value::as_str).collect();
    let files: BTreeSet<&str> = docs
        .iter()
        .map(|doc| doc.file.as_str())
        .filter(|file| *file != "kustomization.yaml" && !file.contains(".example."))
        .collect();
    assert_eq!(listed, files);
    assert!(docs.iter().any(|doc| doc.file == "secrets.example.yaml"));
}

#[test]
fn manifests_are_namespace_agnostic_and_carry_no_secret_values() {
    let docs = manifests();
    let kinds: BTreeSet<&str> = docs.iter().map(Doc::kind).collect();
    for kind in [
        "Deployment", "Service", "ConfigMap", "PodDisruptionBudget", "ServiceMonitor",
        "PrometheusRule",
    ] {
        assert!(kinds.contains(kind), "no {kind}");
    }
    for doc in &docs {
        let namespace = doc.value.get("metadata").and_then(|m| m.get("namespace"));
        assert!(namespace.is_none(), "{}: sets a namespace", doc.file);
        if doc.kind() == "Secret" {
            assert!(doc.file.contains(".example."), "{}: a Secret with values", doc.file);
        }
    }
    assert!(read("deploy/kubernetes/secrets.example.yaml").starts_with("# EXAMPLE ONLY"));
}

#[test]
fn ports_probes_and_selectors_agree_with_the_configmap_config() {
    let docs = manifests();
    let config = configmap_toml(&docs);
    let (http, grpc) = (port_of(&config, "http_addr"), port_of(&config, "grpc_addr"));
    let container = container(&docs);
    let named = |name: &str| resolve_port(container, &Value::from(name));
    assert_eq!((named("http"), named("grpc")), (http, grpc));

    for (probe, path) in [("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")] {
        assert_eq!(text(container, &format!("{probe}.httpGet.path")), path);
        assert_eq!(resolve_port(container, at(container, &format!("{probe}.httpGet.port"))), http);
    }

    let pod_labels = labels(at(only(&docs, "Deployment"), "spec.template.metadata.labels"));
    let service = only(&docs, "Service");
    assert_selects(at(service, "spec.selector"), &pod_labels, "Service");
    let service_ports = list(service, "spec.ports");
    for (name, expected, protocol) in [("http", http, "http"), ("grpc", grpc, "grpc")] {
        let port = find(service_ports, "name", name);
        assert_eq!(at(port, "port").as_u64(), Some(u64::from(expected)), "Service {name}");
        assert_eq!(resolve_port(container, at(port, "targetPort")), expected, "Service {name}");
        assert_eq!(text(port, "appProtocol"), protocol);
    }

    let monitor = only(&docs, "ServiceMonitor");
    assert_eq!(text(monitor, "apiVersion"), "monitoring.coreos.com/v1");
    assert_selects(at(monitor, "spec.selector.matchLabels"), &labels(at(service, "metadata.labels")), "ServiceMonitor");
    let endpoint = &list(monitor, "spec.endpoints")[0];
    assert_eq!(text(endpoint, "path"), "/metrics");
    let scraped = find(service_ports, "name", text(endpoint, "port"));
    assert_eq!(resolve_port(container, at(scraped, "targetPort")), http);

    let budget = only(&docs, "PodDisruptionBudget");
    assert_eq!(at(budget, "spec.minAvailable").as_u64(), Some(1));
    assert_selects(at(budget, "spec.selector.matchLabels"), &pod_labels, "PodDisruptionBudget");

    let policy = only(&docs, "NetworkPolicy");
    assert_selects(at(policy, "spec.podSelector.matchLabels"), &pod_labels, "NetworkPolicy");
    let allowed: BTreeSet<u16> = list(policy, "spec.ingress")
        .iter()
        .flat_map(|rule| list(rule, "ports").iter().map(|port| resolve_port(container, at(port, "port"))))
        .collect();
    assert_eq!(allowed, BTreeSet::from([http, grpc]));
}

#[test]
fn deployment_is_hardened_and_highly_available() {
    let docs = manifests();
    let deployment = only(&docs, "Deployment");
    assert!(at(deployment, "spec.replicas").as_u64() >= Some(2));
    assert_eq!(at(deployment, "spec.strategy.rollingUpdate.maxUnavailable").as_u64(), Some(0));
    let pod = at(deployment, "spec.template.spec");
    assert_eq!(at(pod, "automountServiceAccountToken").as_bool(), Some(false));
    assert!(pod.get("topologySpreadConstraints").is_some() && pod.get("affinity").is_some());
    assert_eq!(at(pod, "securityContext.runAsNonRoot").as_bool(), Some(true));
    assert_eq!(text(pod, "securityContext.seccompProfile.type"), "RuntimeDefault");

    let container = container(&docs);
    for (path, expected) in [
        ("securityContext.runAsNonRoot", true),
        ("securityContext.readOnlyRootFilesystem", true),
        ("securityContext.allowPrivilegeEscalation", false),
    ] {
        assert_eq!(at(container, path).as_bool(), Some(expected), "{path}");
    }
    assert_eq!(list(container, "securityContext.capabilities.drop"), &vec![Value::from("ALL")]);
    assert_eq!(text(container, "securityContext.seccompProfile.type"), "RuntimeDefault");
    assert!(at(container, "securityContext.runAsUser").as_u64() > Some(0));
    for path in ["requests.cpu", "requests.memory", "limits.cpu", "limits.memory"] {
        assert!(at(container, &format!("resources.{path}")).as_str().is_some(), "{path}");
    }
    let env = list(container, "env");
    assert_eq!(text(find(env, "name", "RUST_LIB_BACKTRACE"), "value"), "0");
}

#[test]
fn secret_mounts_match_the_config_and_the_example_secrets() {
    let docs = manifests();
    let config = configmap_toml(&docs);
    let container = container(&docs);
    let mounts = list(container, "volumeMounts");
    let volumes = list(only(&docs, "Deployment"), "spec.template.spec.volumes");
    let example_secrets: BTreeMap<&str, &Value> = docs
        .iter()
        .filter(|doc| doc.kind() == "Secret")
        .map(|doc| (text(&doc.value, "metadata.name"), at(&doc.value, "stringData")))
        .collect();

    // [keys] secrets_dir is a whole Secret, and it holds the `current` key id.
    let keys_dir = toml_text(&config, "keys", "secrets_dir");
    let keys_volume = find(volumes, "name", text(find(mounts, "mountPath", &keys_dir), "name"));
    let keys_secret = example_secrets[text(keys_volume, "secret.secretName")];
    assert!(keys_secret.get(toml_text(&config, "keys", "current")).is_some());

    // [grpc] auth_token_file is one item of a Secret mounted at its directory.
    let token_file = PathBuf::from(toml_text(&config, "grpc", "auth_token_file"));
    let token_dir = token_file.parent().expect("a directory").to_string_lossy().into_owned();
    let token_name = token_file.file_name().expect("a file").to_string_lossy().into_owned();
    let token_volume = find(volumes, "name", text(find(mounts, "mountPath", &token_dir), "name"));
    let item = find(list(token_volume, "secret.items"), "path", &token_name);
    assert!(example_secrets[text(token_volume, "secret.secretName")].get(text(item, "key")).is_some());

    // Every env secretKeyRef names an example Secret and key.
    for variable in list(container, "env") {
        if let Some(reference) = variable.get("valueFrom").and_then(|v| v.get("secretKeyRef")) {
            assert!(example_secrets[text(reference, "name")].get(text(reference, "key")).is_some());
        }
    }
}

#[test]
fn example_secrets_are_placeholders_trustmint_refuses() {
    let docs = manifests();
    let example = |name: &str, key: &str| -> String {
        let secret = docs
            .iter()
            .find(|doc| doc.kind() == "Secret" && text(&doc.value, "metadata.name") == name)
            .expect("example Secret");
        text(&secret.value, &format!("stringData.{key}")).to_owned()
    };
    let placeholder_key = example("trustmint-keys", "k1");
    assert!(placeholder_key.contains("REPLACE"));
    let keys = KeySettings {
        current: "k1".to_owned(),
        secrets: BTreeMap::from([("k1".to_owned(), placeholder_key)]),
        secrets_dir: String::new(),
    };
    let refused = trustmint::keyring(&keys).expect_err("a placeholder is no key");
    assert!(refused.to_string().contains("keys."), "{refused}");

    let dir = tempfile::tempdir().expect("tempdir");
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, example("trustmint-grpc", "token")).expect("write token");
    let env = [("TRUSTMINT__GRPC__AUTH_TOKEN_FILE".to_owned(), token_file.display().to_string())];
    let settings = Settings::load(None, env).expect("defaults load");
    let refused = settings.grpc.load().expect_err("an empty token is refused");
    assert!(refused.ends_with("is empty"), "{refused}");
}

/// Loads `source` as the file `serve` would read, with the key and token files its
/// paths name replaced by temporary ones, and runs the `check-config` validation.
fn load_and_check(source: &str, what: &str) -> Settings {
    let dir = tempfile::tempdir().expect("tempdir");
    let config_file = dir.path().join("trustmint.toml");
    std::fs::write(&config_file, source).expect("write config");
    let settings = Settings::load(Some(&config_file), std::iter::empty())
        .unwrap_or_else(|error| panic!("{what}: {error}"));

    let keys_dir = dir.path().join("keys");
    std::fs::create_dir(&keys_dir).expect("keys dir");
    let secret = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
    std::fs::write(keys_dir.join(&settings.keys.current), secret).expect("write key");
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, "test-token\n").expect("write token");
    let env = [
        ("TRUSTMINT__KEYS__SECRETS_DIR".to_owned(), keys_dir.display().to_string()),
        ("TRUSTMINT__GRPC__AUTH_TOKEN_FILE".to_owned(), token_file.display().to_string()),
    ];
    let with_files = Settings::load(Some(&config_file), env).expect("loads with overrides");
    let report = trustmint::check(&with_files).unwrap_or_else(|error| panic!("{what}: {error}"));
    assert!(report.starts_with("configuration OK"), "{report}");
    with_files.grpc.load().unwrap_or_else(|error| panic!("{what}: {error}"));
    settings
}

#[test]
fn both_production_configs_load_and_pass_check_config() {
    let docs = manifests();
    for (what, source) in [
        ("ConfigMap trustmint.toml", configmap_toml(&docs)),
        ("deploy/trustmint.production.toml", read("deploy/trustmint.production.toml")),
    ] {
        let settings = load_and_check(&source, what);
        assert_eq!(settings.store.backend, trustmint_store::Backend::Redis, "{what}");
        assert_eq!(settings.telemetry.log_format, trustmint_telemetry::LogFormat::Json, "{what}");
        assert_eq!(settings.keys.secrets_dir, "/etc/trustmint/keys", "{what}");
        assert_eq!(settings.grpc.auth_token_file, "/etc/trustmint/grpc/token", "{what}");
        assert!(settings.keys.secrets.is_empty(), "{what}: secrets in a config file");
        assert_eq!(settings.server.http_addr, "0.0.0.0:8080", "{what}");
        assert_eq!(settings.server.grpc_addr, "0.0.0.0:50051", "{what}");
    }
}

/// A metric `register`ed in metrics.rs: its labels and whether it is a histogram.
struct Registered {
    labels: BTreeSet<String>,
    histogram: bool,
}

/// Every `"trustmint_…"` literal of metrics.rs (tests excluded), read from the source.
/// The statement registering it is `let x = <constructor>("name", "help", &["label", …] …);`.
fn registered_metrics() -> BTreeMap<String, Registered> {
    let source = read("crates/telemetry/src/metrics.rs");
    let code = source.split("#[cfg(test)]").next().unwrap_or_default();
    let mut metrics = BTreeMap::new();
    for (start, _) in code.match_indices("\"trustmint_") {
        let name_end = start + 1 + code[start + 1..].find('"').expect("closing quote");
        let name = &code[start + 1..name_end];
        let statement_start = code[..start].rfind("let ").expect("a let statement");
        let statement_end = name_end + code[name_end..].find(';').expect("end of statement");
        let constructor = &code[statement_start..start];
        let rest = &code[name_end..statement_end];
        let labels = rest.find("&[").map_or_else(BTreeSet::new, |open| {
            let close = open + rest[open..].find(']').expect("closing bracket");
            rest[open + 2..close]
                .split(',')
                .map(|label| label.trim().trim_matches('"').to_owned())
                .filter(|label| !label.is_empty())
                .collect()
        });
        let histogram = constructor.to_lowercase().contains("histogram");
        metrics.insert(name.to_owned(), Registered { labels, histogram });
    }
    assert!(metrics.len() >= 10, "found only {} metrics in metrics.rs", metrics.len());
    metrics
}

/// One `metric{label op "value", …}` of a PromQL expression.
#[derive(Debug)]
struct Selector {
    metric: String,
    matchers: Vec<(String, String, String)>,
}

/// The selectors and grouping labels (`by`, `on`, …) of a PromQL expression.
fn parse_promql(expr: &str) -> (Vec<Selector>, Vec<String>) {
    const GROUPING: [&str; 6] = ["by", "without", "on", "ignoring", "group_left", "group_right"];
    // Binary keywords, and aggregations (which may be followed by `by (…)`, not `(`).
    const KEYWORDS: [&str; 17] = [
        "and", "or", "unless", "bool", "offset", "sum", "min", "max", "avg", "count", "group",
        "stddev", "stdvar", "topk", "bottomk", "quantile", "count_values",
    ];
    let chars: Vec<char> = expr.chars().collect();
    let (mut selectors, mut grouping) = (Vec::new(), Vec::new());
    let mut i = 0;
    let word = |i: &mut usize| -> String {
        let start = *i;
        while *i < chars.len() && (chars[*i].is_ascii_alphanumeric() || matches!(chars[*i], '_' | ':')) {
            *i += 1;
        }
        chars[start..*i].iter().collect()
    };
    let skip_space = |i: &mut usize| {
        while *i < chars.len() && chars[*i].is_whitespace() {
            *i += 1;
        }
    };
    while i < chars.len() {
        let c = chars[i];
        if c == '[' {
            i += chars[i..].iter().position(|c| *c == ']').expect("closing ]") + 1;
        } else if c.is_ascii_digit() || c == '.' {
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.') {
                i += 1;
            }
        } else if c.is_ascii_alphabetic() || c == '_' {
            let name = word(&mut i);
            skip_space(&mut i);
            let next = chars.get(i).copied();
            if GROUPING.contains(&name.as_str()) && next == Some('(') {
                let close = i + chars[i..].iter().position(|c| *c == ')').expect("closing )");
                let inside: String = chars[i + 1..close].iter().collect();
                grouping.extend(inside.split(',').map(|l| l.trim().to_owned()).filter(|l| !l.is_empty()));
                i = close + 1;
            } else if next == Some('(') || KEYWORDS.contains(&name.as_str()) {
                // a function or aggregation, or a binary keyword
            } else {
                let mut matchers = Vec::new();
                if next == Some('{') {
                    let close = i + chars[i..].iter().position(|c| *c == '}').expect("closing }");
                    let inside: String = chars[i + 1..close].iter().collect();
                    for matcher in inside.split(',').filter(|m| !m.trim().is_empty()) {
                        let op_at = matcher.find(['=', '!']).expect("a matcher operator");
                        let (label, rest) = matcher.split_at(op_at);
                        let op_len = if rest.starts_with("!=") || rest.starts_with("=~") || rest.starts_with("!~") { 2 } else { 1 };
                        let value = rest[op_len..].trim().trim_matches('"');
                        matchers.push((label.trim().to_owned(), rest[..op_len].to_owned(), value.to_owned()));
                    }
                    i = close + 1;
                }
                selectors.push(Selector { metric: name, matchers });
            }
        } else {
            i += 1;
        }
    }
    (selectors, grouping)
}

#[test]
fn promql_parser_reads_selectors_and_grouping() {
    let (selectors, grouping) = parse_promql(
        r#"histogram_quantile(0.99, sum by (namespace, le) (rate(m_bucket{job="x",code!~"a|b"}[5m]))) > 2 and on(pod) up"#,
    );
    let names: Vec<&str> = selectors.iter().map(|s| s.metric.as_str()).collect();
    assert_eq!(names, ["m_bucket", "up"]);
    assert_eq!(
        selectors[0].matchers,
        [("job".into(), "=".into(), "x".into()), ("code".into(), "!~".into(), "a|b".into())]
    );
    assert_eq!(grouping, ["namespace", "le", "pod"]);
}

#[test]
fn alert_rules_use_only_exported_metrics_labels_and_codes() {
    let docs = manifests();
    let registered = registered_metrics();
    let service_name = text(only(&docs, "Service"), "metadata.name");
    let mint_codes: BTreeSet<&str> = trustmint_exchange::ExchangeError::MINT_CODES.into_iter().collect();
    let mut alerts = BTreeSet::new();
    let mut quantile_over_exchange_duration = false;
    for group in list(only(&docs, "PrometheusRule"), "spec.groups") {
        for rule in list(group, "rules") {
            let alert = text(rule, "alert");
            assert!(alerts.insert(alert.to_owned()), "duplicate alert {alert}");
            assert!(["critical", "warning", "info"].contains(&text(rule, "labels.severity")), "{alert}");
            assert!(!text(rule, "annotations.summary").is_empty(), "{alert}");
            assert!(!text(rule, "annotations.description").is_empty(), "{alert}");
            assert!(rule.get("for").is_some(), "{alert}: no `for`");
            let expr = text(rule, "expr");
            quantile_over_exchange_duration |= expr.contains("histogram_quantile")
                && expr.contains("trustmint_exchange_duration_seconds_bucket");
            let (selectors, grouping) = parse_promql(expr);
            assert!(!selectors.is_empty(), "{alert}: no metric");
            let mut known_labels: BTreeSet<String> = TARGET_LABELS.iter().map(|l| l.to_string()).collect();
            for selector in &selectors {
                let metric = selector.metric.as_str();
                if EXTERNAL_METRICS.contains(&metric) {
                    known_labels.insert("deployment".to_owned());
                    continue;
                }
                let (base, bucket) = match metric.strip_suffix("_bucket") {
                    Some(base) if registered.get(base).is_some_and(|m| m.histogram) => (base, true),
                    _ => (metric, false),
                };
                let exported = registered
                    .get(base)
                    .unwrap_or_else(|| panic!("{alert}: {metric} is not registered in metrics.rs"));
                known_labels.extend(exported.labels.iter().cloned());
                if bucket {
                    known_labels.insert("le".to_owned());
                }
                for (label, op, value) in &selector.matchers {
                    let allowed = exported.labels.contains(label) || TARGET_LABELS.contains(&label.as_str());
                    assert!(allowed, "{alert}: {metric} has no label {label}");
                    if label == "job" {
                        assert_eq!(value, service_name, "{alert}: job is the Service name");
                    }
                    if base == "trustmint_exchanges_total" && label == "code" {
                        for code in value.split('|') {
                            assert!(mint_codes.contains(code), "{alert}: unknown code {code} ({op})");
                        }
                    }
                }
            }
            for label in grouping {
                assert!(known_labels.contains(&label), "{alert}: groups by unknown label {label}");
            }
        }
    }
    assert!(quantile_over_exchange_duration, "no p99 exchange latency alert");
    for expected in [
        "TrustmintExchangeUnavailable", "TrustmintExchangeFailureRatioHigh",
        "TrustmintJwksRefreshFailing", "TrustmintStoreErrors", "TrustmintStoreUnreachable",
        "TrustmintExchangeLatencyHigh", "TrustmintDown",
    ] {
        assert!(alerts.contains(expected), "missing alert {expected}");
    }
}

/// The arguments of every `INSTRUCTION` line of the Containerfile (continuations joined).
fn containerfile(instruction: &str) -> Vec<String> {
    let source = read("deploy/Containerfile").replace("\\\n", " ");
    source
        .lines()
        .filter_map(|line| line.strip_prefix(&format!("{instruction} ")))
        .map(|rest| rest.trim().to_owned())
        .collect()
}

fn json_args(line: &str) -> Vec<String> {
    serde_json::from_str(line).unwrap_or_else(|error| panic!("not exec form: {line}: {error}"))
}

#[test]
fn containerfile_agrees_with_the_deployment_and_configs() {
    let docs = manifests();
    let config = configmap_toml(&docs);
    let production = read("deploy/trustmint.production.toml");
    let exposed: BTreeSet<u16> = containerfile("EXPOSE")
        .iter()
        .flat_map(|line| line.split_whitespace().map(|port| port.parse::<u16>().expect("port")).collect::<Vec<_>>())
        .collect();
    for source in [&config, &production] {
        let ports = BTreeSet::from([port_of(source, "http_addr"), port_of(source, "grpc_addr")]);
        assert_eq!(exposed, ports);
    }

    let path = config_path(&docs);
    assert_eq!(path, "/etc/trustmint/trustmint.toml");
    let cmd = json_args(containerfile("CMD").last().expect("CMD"));
    assert_eq!(cmd, ["serve", "--config", path.as_str()]);
    let args: Vec<&str> = list(container(&docs), "args").iter().filter_map(Value::as_str).collect();
    assert_eq!(args, cmd, "the Deployment runs what the image runs");
    assert_eq!(json_args(containerfile("ENTRYPOINT").last().expect("ENTRYPOINT")), ["trustmint"]);
    assert!(containerfile("COPY").contains(&format!("deploy/trustmint.production.toml {path}")));

    let user = containerfile("USER").last().expect("USER").clone();
    let uid = user.split(':').next().expect("uid").parse::<u64>().expect("numeric USER");
    assert_ne!(uid, 0);
    assert_eq!(at(container(&docs), "securityContext.runAsUser").as_u64(), Some(uid));
    assert!(containerfile("RUN").iter().any(|run| run.contains("cargo build --release --locked -p trustmint")));
    let stages = containerfile("FROM");
    assert!(stages[0].contains("rust:1-bookworm") && stages.last().expect("FROM").contains("debian:bookworm-slim"));
    assert!(containerfile("RUN").iter().any(|run| run.contains("ca-certificates libssl3")));
    assert!(read(".dockerignore").lines().any(|line| line.trim() == "target/"));
}

#[test]
fn systemd_unit_runs_the_static_config_and_stops_on_config_errors() {
    let unit = read("deploy/systemd/trustmint.service");
    let setting = |key: &str| -> Vec<&str> {
        unit.lines().filter_map(|line| line.strip_prefix(&format!("{key}="))).collect()
    };
    let main = read("crates/server/src/main.rs");
    let exit_config = main
        .lines()
        .find_map(|line| line.trim().strip_prefix("const EXIT_CONFIG: u8 = "))
        .expect("EXIT_CONFIG in main.rs")
        .trim_end_matches(';');
    assert_eq!(setting("RestartPreventExitStatus"), [exit_config]);
    assert_eq!(setting("Restart"), ["on-failure"]);
    assert_eq!(setting("ExecStart"), ["/usr/local/bin/trustmint serve --config /etc/trustmint/trustmint.toml"]);
    for (key, value) in [
        ("NoNewPrivileges", "yes"), ("ProtectSystem", "strict"), ("PrivateTmp", "yes"),
        ("CapabilityBoundingSet", ""), ("Environment", "RUST_LIB_BACKTRACE=0"),
    ] {
        assert!(setting(key).contains(&value), "{key}={value}");
    }
    assert!(setting("EnvironmentFile").iter().any(|file| file.ends_with("/etc/trustmint/trustmint.env")));
}
