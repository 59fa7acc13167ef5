//! The deployment artefacts under `deploy/` agree with each other and with the code:
//! the Kubernetes manifests with the config their ConfigMap carries (ports, paths,
//! secrets), both production configs with `Settings::load` and `check-config`, the alert
//! rules with the metrics `Metrics::new()` registers, and the
//! Containerfile and the systemd unit with the same ports, paths and exit code.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde::Deserialize as _;
use serde_yaml_ng::Value;
use trustmint::{KeySettings, Settings};

/// The path every deployment reads the config from.
const CONFIG_PATH: &str = "/etc/trustmint/trustmint.toml";

/// Metric names the rules may use that trustmint does not export: Prometheus' own
/// scrape health and kube-state-metrics' deployment status (label `deployment`).
const EXTERNAL_METRICS: &str =
    "up kube_deployment_status_replicas_available kube_deployment_spec_replicas";

/// Labels Prometheus attaches to every scraped series (target labels).
const TARGET_LABELS: &str = "job namespace pod instance service endpoint container";

/// Requirements of the trustmint container: dotted path → expected value (YAML).
const CONTAINER_RULES: &[(&str, &str)] = &[
    ("securityContext.runAsNonRoot", "true"),
    ("securityContext.readOnlyRootFilesystem", "true"),
    ("securityContext.allowPrivilegeEscalation", "false"),
    ("securityContext.capabilities.drop", "[ALL]"),
    ("securityContext.seccompProfile.type", "RuntimeDefault"),
    ("livenessProbe.httpGet.path", "/healthz"),
    ("readinessProbe.httpGet.path", "/readyz"),
    ("args", "[serve, --config, /etc/trustmint/trustmint.toml]"),
];

/// Requirements of the Deployment: dotted path → expected value (YAML).
const DEPLOYMENT_RULES: &[(&str, &str)] = &[
    ("spec.strategy.rollingUpdate.maxUnavailable", "0"),
    ("spec.template.spec.automountServiceAccountToken", "false"),
    ("spec.template.spec.securityContext.runAsNonRoot", "true"),
    (
        "spec.template.spec.securityContext.seccompProfile.type",
        "RuntimeDefault",
    ),
];

/// Settings of the systemd unit: key → one of its values.
const SYSTEMD_RULES: &[(&str, &str)] = &[
    (
        "ExecStart",
        "/usr/local/bin/trustmint serve --config /etc/trustmint/trustmint.toml",
    ),
    ("Restart", "on-failure"),
    ("NoNewPrivileges", "yes"),
    ("ProtectSystem", "strict"),
    ("PrivateTmp", "yes"),
    ("CapabilityBoundingSet", ""),
    ("Environment", "RUST_LIB_BACKTRACE=0"),
    ("EnvironmentFile", "-/etc/trustmint/trustmint.env"),
];

fn read(relative: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(relative);
    std::fs::read_to_string(path).unwrap_or_else(|error| panic!("cannot read {relative}: {error}"))
}

fn yaml(source: &str) -> Value {
    serde_yaml_ng::from_str(source).expect("valid YAML")
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

    fn is_example(&self) -> bool {
        self.file.contains(".example.")
    }
}

/// Every document of every `*.yaml` file under deploy/kubernetes, in file-name order.
fn manifests() -> Vec<Doc> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/kubernetes");
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .expect("deploy/kubernetes exists")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| name.ends_with(".yaml"))
        .collect();
    files.sort();
    let mut docs = Vec::new();
    for file in files {
        let source = read(&format!("deploy/kubernetes/{file}"));
        for document in serde_yaml_ng::Deserializer::from_str(&source) {
            let value = Value::deserialize(document)
                .unwrap_or_else(|error| panic!("{file}: invalid YAML: {error}"));
            if !value.is_null() {
                docs.push(Doc {
                    file: file.clone(),
                    value,
                });
            }
        }
    }
    docs
}

/// The one deployable (non-example) document of `kind`.
fn only<'a>(docs: &'a [Doc], kind: &str) -> &'a Value {
    let found: Vec<&Doc> = docs
        .iter()
        .filter(|doc| doc.kind() == kind && !doc.is_example())
        .collect();
    assert_eq!(found.len(), 1, "expected exactly one {kind}");
    &found[0].value
}

/// The value at a dotted path (`spec.ports.0.name`); panics naming the path.
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
    at(value, path)
        .as_str()
        .unwrap_or_else(|| panic!("{path} is not a string"))
}

fn list<'a>(value: &'a Value, path: &str) -> &'a [Value] {
    at(value, path)
        .as_sequence()
        .unwrap_or_else(|| panic!("{path} is not a list"))
}

/// The entry of `items` whose `key` is `wanted`.
fn find<'a>(items: &'a [Value], key: &str, wanted: &str) -> &'a Value {
    let mut matching = items
        .iter()
        .filter(|item| item.get(key).and_then(Value::as_str) == Some(wanted));
    matching
        .next()
        .unwrap_or_else(|| panic!("no entry with {key} = {wanted}"))
}

fn assert_rules(value: &Value, rules: &[(&str, &str)], what: &str) {
    for (path, expected) in rules {
        assert_eq!(at(value, path), &yaml(expected), "{what}: {path}");
    }
}

fn labels(value: &Value) -> BTreeMap<String, String> {
    serde_yaml_ng::from_value(value.clone()).expect("a string map of labels")
}

fn assert_selects(selector: &Value, target: &Value, what: &str) {
    let (selector, target) = (labels(selector), labels(target));
    assert!(!selector.is_empty(), "{what}: empty selector");
    for (key, value) in &selector {
        assert_eq!(target.get(key), Some(value), "{what} selects {key}={value}");
    }
}

/// The Deployment's pod spec and its one container.
fn pod_and_container(docs: &[Doc]) -> (&Value, &Value) {
    let pod = at(only(docs, "Deployment"), "spec.template.spec");
    let containers = list(pod, "containers");
    assert_eq!(containers.len(), 1, "one container");
    (pod, &containers[0])
}

/// The volume the container mounts at `mount_path`, and the mount.
fn mounted<'a>(docs: &'a [Doc], mount_path: &str) -> (&'a Value, &'a Value) {
    let (pod, container) = pod_and_container(docs);
    let mount = find(list(container, "volumeMounts"), "mountPath", mount_path);
    (
        find(list(pod, "volumes"), "name", text(mount, "name")),
        mount,
    )
}

/// Follows the config path → volumeMount → volume → ConfigMap key; returns the TOML.
fn configmap_toml(docs: &[Doc]) -> String {
    let (volume, mount) = mounted(docs, CONFIG_PATH);
    let sub_path = text(mount, "subPath");
    let key = text(
        find(list(volume, "configMap.items"), "path", sub_path),
        "key",
    );
    let configmap = only(docs, "ConfigMap");
    assert_eq!(
        text(configmap, "metadata.name"),
        text(volume, "configMap.name")
    );
    // `data` keys contain dots (`trustmint.toml`): no dotted path here.
    let data = at(configmap, "data").get(key).and_then(Value::as_str);
    data.expect("the mounted ConfigMap key").to_owned()
}

/// `[section] key` of a TOML document, as text.
fn toml_text(source: &str, section: &str, key: &str) -> String {
    let table: toml::Table = toml::from_str(source).expect("valid TOML");
    let value = table[section][key].as_str();
    value
        .unwrap_or_else(|| panic!("{section}.{key} is not a string"))
        .to_owned()
}

/// The port of `[server] <key>`, which must listen on every interface.
fn port_of(source: &str, key: &str) -> u16 {
    let addr: SocketAddr = toml_text(source, "server", key)
        .parse()
        .expect("socket address");
    assert!(
        addr.ip().is_unspecified(),
        "server.{key} must listen on every interface"
    );
    addr.port()
}

/// The number a container port reference (a name or a number) resolves to.
fn resolve_port(container: &Value, reference: &Value) -> u16 {
    let port = match reference.as_str() {
        Some(name) => at(
            find(list(container, "ports"), "name", name),
            "containerPort",
        ),
        None => reference,
    };
    port.as_u64()
        .and_then(|port| u16::try_from(port).ok())
        .expect("a port number")
}

#[test]
fn kustomization_lists_every_manifest_but_the_example() {
    let docs = manifests();
    let resources = list(only(&docs, "Kustomization"), "resources");
    let listed: BTreeSet<&str> = resources.iter().filter_map(Value::as_str).collect();
    let files: BTreeSet<&str> = docs
        .iter()
        .filter(|doc| doc.file != "kustomization.yaml" && !doc.is_example())
        .map(|doc| doc.file.as_str())
        .collect();
    assert_eq!(listed, files);
}

#[test]
fn manifests_are_namespace_agnostic_and_carry_no_secret_values() {
    let docs = manifests();
    let kinds: BTreeSet<&str> = docs.iter().map(Doc::kind).collect();
    for kind in [
        "Deployment",
        "Service",
        "ConfigMap",
        "PodDisruptionBudget",
        "ServiceMonitor",
        "PrometheusRule",
    ] {
        assert!(kinds.contains(kind), "no {kind}");
    }
    for doc in &docs {
        let namespace = doc
            .value
            .get("metadata")
            .and_then(|metadata| metadata.get("namespace"));
        assert_eq!(namespace, None, "{}: sets a namespace", doc.file);
        assert!(
            doc.kind() != "Secret" || doc.is_example(),
            "{}: a Secret with values",
            doc.file
        );
    }
    assert!(read("deploy/kubernetes/secrets.example.yaml").starts_with("# EXAMPLE ONLY"));
}

#[test]
fn ports_probes_and_selectors_agree_with_the_configmap_config() {
    let docs = manifests();
    let config = configmap_toml(&docs);
    let (http, grpc) = (port_of(&config, "http_addr"), port_of(&config, "grpc_addr"));
    let (_, container) = pod_and_container(&docs);
    let port = |reference: &Value| resolve_port(container, reference);
    assert_eq!((port(&yaml("http")), port(&yaml("grpc"))), (http, grpc));
    assert_eq!(port(at(container, "livenessProbe.httpGet.port")), http);
    assert_eq!(port(at(container, "readinessProbe.httpGet.port")), http);

    let pod_labels = at(only(&docs, "Deployment"), "spec.template.metadata.labels");
    let service = only(&docs, "Service");
    assert_selects(at(service, "spec.selector"), pod_labels, "Service");
    let service_ports = list(service, "spec.ports");
    for (name, expected) in [("http", http), ("grpc", grpc)] {
        let service_port = find(service_ports, "name", name);
        assert_eq!(
            at(service_port, "port").as_u64(),
            Some(u64::from(expected)),
            "{name}"
        );
        assert_eq!(port(at(service_port, "targetPort")), expected, "{name}");
        assert_eq!(text(service_port, "appProtocol"), name);
    }

    let monitor = only(&docs, "ServiceMonitor");
    assert_eq!(text(monitor, "apiVersion"), "monitoring.coreos.com/v1");
    assert_selects(
        at(monitor, "spec.selector.matchLabels"),
        at(service, "metadata.labels"),
        "ServiceMonitor",
    );
    let endpoint = at(monitor, "spec.endpoints.0");
    assert_eq!(text(endpoint, "path"), "/metrics");
    let scraped = find(service_ports, "name", text(endpoint, "port"));
    assert_eq!(port(at(scraped, "targetPort")), http);

    let budget = only(&docs, "PodDisruptionBudget");
    assert_eq!(at(budget, "spec.minAvailable"), &yaml("1"));
    assert_selects(
        at(budget, "spec.selector.matchLabels"),
        pod_labels,
        "PodDisruptionBudget",
    );

    let policy = only(&docs, "NetworkPolicy");
    assert_selects(
        at(policy, "spec.podSelector.matchLabels"),
        pod_labels,
        "NetworkPolicy",
    );
    let rules = list(policy, "spec.ingress").iter();
    let allowed: BTreeSet<u16> = rules
        .flat_map(|rule| list(rule, "ports"))
        .map(|p| port(at(p, "port")))
        .collect();
    assert_eq!(allowed, BTreeSet::from([http, grpc]));
}

#[test]
fn deployment_is_hardened_and_highly_available() {
    let docs = manifests();
    let deployment = only(&docs, "Deployment");
    assert_rules(deployment, DEPLOYMENT_RULES, "Deployment");
    assert!(
        at(deployment, "spec.replicas").as_u64() >= Some(2),
        "replicas"
    );
    let (pod, container) = pod_and_container(&docs);
    assert_rules(container, CONTAINER_RULES, "container");
    assert!(
        pod.get("topologySpreadConstraints").is_some(),
        "topology spread"
    );
    assert!(
        pod.get("affinity")
            .and_then(|a| a.get("podAntiAffinity"))
            .is_some(),
        "anti-affinity"
    );
    assert!(
        at(container, "securityContext.runAsUser").as_u64() > Some(0),
        "non-root uid"
    );
    for resource in [
        "requests.cpu",
        "requests.memory",
        "limits.cpu",
        "limits.memory",
    ] {
        let quantity = at(container, &format!("resources.{resource}"));
        assert!(
            quantity.as_str().is_some_and(|q| !q.is_empty()),
            "{resource}"
        );
    }
    let backtrace = find(list(container, "env"), "name", "RUST_LIB_BACKTRACE");
    assert_eq!(text(backtrace, "value"), "0");
}

#[test]
fn secret_mounts_match_the_config_and_the_example_secrets() {
    let docs = manifests();
    let config = configmap_toml(&docs);
    let examples: BTreeMap<&str, &Value> = docs
        .iter()
        .filter(|doc| doc.kind() == "Secret")
        .map(|doc| {
            (
                text(&doc.value, "metadata.name"),
                at(&doc.value, "stringData"),
            )
        })
        .collect();
    let example_has = |secret: &str, key: &str| {
        examples
            .get(secret)
            .is_some_and(|data| data.get(key).is_some())
    };

    // [keys] secrets_dir is a whole Secret mounted there, holding the `current` key id.
    let (keys_volume, _) = mounted(&docs, &toml_text(&config, "keys", "secrets_dir"));
    let current = toml_text(&config, "keys", "current");
    assert!(
        example_has(text(keys_volume, "secret.secretName"), &current),
        "key {current}"
    );

    // [grpc] auth_token_file is one item of a Secret mounted at its directory.
    let token_file = PathBuf::from(toml_text(&config, "grpc", "auth_token_file"));
    let token_dir = token_file
        .parent()
        .expect("a directory")
        .to_string_lossy()
        .into_owned();
    let (token_volume, _) = mounted(&docs, &token_dir);
    let file_name = token_file
        .file_name()
        .expect("a file")
        .to_string_lossy()
        .into_owned();
    let item = find(list(token_volume, "secret.items"), "path", &file_name);
    assert!(
        example_has(text(token_volume, "secret.secretName"), text(item, "key")),
        "gRPC token"
    );

    // Every secretKeyRef of the environment names an example Secret and key.
    let (_, container) = pod_and_container(&docs);
    for variable in list(container, "env") {
        if let Some(reference) = variable
            .get("valueFrom")
            .and_then(|from| from.get("secretKeyRef"))
        {
            assert!(
                example_has(text(reference, "name"), text(reference, "key")),
                "{reference:?}"
            );
        }
    }
}

#[test]
fn example_secrets_are_placeholders_trustmint_refuses() {
    let docs = manifests();
    let example = |name: &str, key: &str| -> String {
        let mut secrets = docs.iter().filter(|doc| doc.kind() == "Secret");
        let secret = secrets
            .find(|doc| text(&doc.value, "metadata.name") == name)
            .expect("example Secret");
        text(&secret.value, &format!("stringData.{key}")).to_owned()
    };
    let placeholder = example("trustmint-keys", "k1");
    assert!(placeholder.contains("REPLACE"), "{placeholder}");
    let keys = KeySettings {
        current: "k1".to_owned(),
        secrets: BTreeMap::from([("k1".to_owned(), placeholder)]),
        secrets_dir: String::new(),
    };
    let refused = trustmint::keyring(&keys).expect_err("a placeholder is no key");
    assert_eq!(
        refused.to_string(),
        "invalid configuration: keys.secrets.k1: secret of key id \"k1\" is not valid base64"
    );

    let dir = tempfile::tempdir().expect("tempdir");
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, example("trustmint-grpc", "token")).expect("write token");
    let env = [(
        "TRUSTMINT__GRPC__AUTH_TOKEN_FILE".to_owned(),
        token_file.display().to_string(),
    )];
    let settings = Settings::load(None, env).expect("defaults load");
    let refused = settings.grpc.load().expect_err("an empty token is refused");
    assert_eq!(
        refused,
        format!("grpc.auth_token_file: '{}' is empty", token_file.display())
    );
}

/// Loads `source` as `serve` would, then — with the key and token files it names
/// replaced by temporary ones — runs the `check-config` validation and reads the
/// gRPC token. Returns the settings as loaded from the file alone.
fn load_and_check(source: &str, what: &str) -> Settings {
    let dir = tempfile::tempdir().expect("tempdir");
    let config_file = dir.path().join("trustmint.toml");
    std::fs::write(&config_file, source).expect("write config");
    let loaded = Settings::load(Some(&config_file), std::iter::empty());
    let settings = loaded.unwrap_or_else(|error| panic!("{what}: {error}"));

    let keys_dir = dir.path().join("keys");
    std::fs::create_dir(&keys_dir).expect("keys dir");
    let secret = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
    std::fs::write(keys_dir.join(&settings.keys.current), secret).expect("write key");
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, "test-token\n").expect("write token");
    let env = [
        (
            "TRUSTMINT__KEYS__SECRETS_DIR".to_owned(),
            keys_dir.display().to_string(),
        ),
        (
            "TRUSTMINT__GRPC__AUTH_TOKEN_FILE".to_owned(),
            token_file.display().to_string(),
        ),
    ];
    let with_files = Settings::load(Some(&config_file), env).expect("loads with overrides");
    let report = trustmint::check(&with_files).unwrap_or_else(|error| panic!("{what}: {error}"));
    assert!(report.starts_with("configuration OK"), "{report}");
    let security = with_files
        .grpc
        .load()
        .unwrap_or_else(|error| panic!("{what}: {error}"));
    assert_eq!(security.auth_tokens.len(), 1, "{what}");
    assert!(security.auth_tokens.accepts(b"test-token"), "{what}");
    settings
}

#[test]
fn both_production_configs_load_and_pass_check_config() {
    let docs = manifests();
    let production = read("deploy/trustmint.production.toml");
    for (what, source) in [
        ("ConfigMap", configmap_toml(&docs)),
        ("trustmint.production.toml", production),
    ] {
        let settings = load_and_check(&source, what);
        assert_eq!(
            settings.store.backend,
            trustmint_store::Backend::Redis,
            "{what}"
        );
        assert_eq!(
            settings.telemetry.log_format,
            trustmint_telemetry::LogFormat::Json,
            "{what}"
        );
        assert_eq!(settings.keys.secrets_dir, "/etc/trustmint/keys", "{what}");
        assert!(
            settings.keys.secrets.is_empty(),
            "{what}: secrets in a config file"
        );
        assert_eq!(
            settings.grpc.auth_token_file, "/etc/trustmint/grpc/token",
            "{what}"
        );
        assert_eq!(
            settings.grpc.auth_token, "",
            "{what}: a token in a config file"
        );
        assert_eq!(settings.server.http_addr, "0.0.0.0:8080", "{what}");
        assert_eq!(settings.server.grpc_addr, "0.0.0.0:50051", "{what}");
    }
}

/// A metric the registry exports: its labels and whether it is a histogram.
#[derive(Debug)]
struct Registered {
    labels: BTreeSet<String>,
    histogram: bool,
}

/// Every metric of `Metrics::new()`'s registry, as `gather` reports it. A labelled
/// metric appears only once it has a series, so every typed recorder runs once first:
/// those are the only way the service writes metrics, so a metric no recorder reaches
/// is one the service never exports (and a rule using it fails here, as it should).
fn registered_metrics() -> BTreeMap<String, Registered> {
    use std::time::Duration;
    use trustmint_telemetry::{
        ErrorCode, ExchangeOutcome, JwksFetchResult, Metrics, PublisherChange, VerifyOutcome,
    };

    let metrics = Metrics::new();
    metrics.record_exchange("github", ExchangeOutcome::Refused(ErrorCode::RateLimited));
    metrics.observe_exchange_duration("github", Duration::ZERO);
    metrics.record_verification(VerifyOutcome::Allowed, Duration::ZERO);
    metrics.observe_remaining_lifetime(0);
    metrics.observe_store_call("token_put", Duration::ZERO);
    metrics.count_store_error("token_put");
    metrics.record_publisher_change(PublisherChange::Create);
    metrics.record_jwks_fetch("github", JwksFetchResult::Ok);
    metrics.record_jwks_cooldown_skip("github");
    metrics.set_jwks_cache("github", 1, 0.0);
    metrics.record_http_request("/metrics", 200, Duration::ZERO);
    metrics.record_grpc_request("MintToken", "OK", Duration::ZERO);
    metrics
        .registry()
        .gather()
        .iter()
        .map(|family| {
            let first = family.get_metric().first();
            let labels = first.map_or_else(BTreeSet::new, |metric| {
                metric
                    .get_label()
                    .iter()
                    .map(|pair| pair.name().to_owned())
                    .collect()
            });
            // Only a histogram's series carry buckets (ours all configure some).
            let histogram =
                first.is_some_and(|metric| !metric.get_histogram().get_bucket().is_empty());
            (family.name().to_owned(), Registered { labels, histogram })
        })
        .collect()
}

#[test]
fn metrics_are_read_from_the_registry() {
    let metrics = registered_metrics();
    assert!(metrics.len() >= 20, "{metrics:?}");
    let exchanges = &metrics["trustmint_exchanges_total"];
    assert_eq!(
        exchanges.labels,
        BTreeSet::from(["issuer_kind", "outcome", "code"].map(String::from))
    );
    assert!(!exchanges.histogram);
    let verify = &metrics["trustmint_verify_duration_seconds"];
    assert!(verify.histogram && verify.labels.is_empty());
    let jwks_keys = &metrics["trustmint_jwks_keys"];
    assert_eq!(jwks_keys.labels, BTreeSet::from(["issuer".to_owned()]));
}

/// One `metric{label op "value", …}` of a PromQL expression.
#[derive(Debug, PartialEq)]
struct Selector {
    metric: String,
    matchers: Vec<(String, String, String)>,
}

/// The selectors and grouping labels (`by`, `on`, …) of a PromQL expression. Enough
/// PromQL for alert rules: functions, aggregations, binary operators, ranges, numbers.
fn parse_promql(expr: &str) -> (Vec<Selector>, Vec<String>) {
    const GROUPING: &str = "by without on ignoring group_left group_right";
    const BINARY_KEYWORDS: &str = "and or unless bool offset";
    // Followed by `by (…)` as often as by their arguments.
    const AGGREGATIONS: &str =
        "sum min max avg count group stddev stdvar topk bottomk quantile count_values";
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':';
    let (mut selectors, mut grouping) = (Vec::new(), Vec::new());
    let mut rest = expr;
    while let Some(c) = rest.chars().next() {
        if c == '[' {
            rest = &rest[rest.find(']').expect("closing ]") + 1..];
        } else if c.is_ascii_digit() || c == '.' {
            rest = rest.trim_start_matches(|c: char| c.is_ascii_alphanumeric() || c == '.');
        } else if c.is_ascii_alphabetic() || c == '_' {
            let end = rest.find(|c: char| !is_word(c)).unwrap_or(rest.len());
            let name = &rest[..end];
            rest = rest[end..].trim_start();
            let (between, after) = match rest.chars().next() {
                Some(open @ ('(' | '{')) => {
                    let close = rest
                        .find(if open == '(' { ')' } else { '}' })
                        .expect("closing bracket");
                    (Some((open, &rest[1..close])), &rest[close + 1..])
                }
                _ => (None, rest),
            };
            let is_keyword = [BINARY_KEYWORDS, AGGREGATIONS]
                .iter()
                .any(|words| words.split(' ').any(|keyword| keyword == name));
            match between {
                Some(('(', labels)) if GROUPING.split(' ').any(|keyword| keyword == name) => {
                    grouping.extend(
                        labels
                            .split(',')
                            .map(str::trim)
                            .filter(|l| !l.is_empty())
                            .map(str::to_owned),
                    );
                    rest = after;
                }
                Some(('(', _)) => {} // a function or aggregation: its arguments come next
                _ if is_keyword => {}
                Some((_, matchers)) => {
                    let matchers = matchers
                        .split(',')
                        .filter(|m| !m.trim().is_empty())
                        .map(parse_matcher);
                    selectors.push(Selector {
                        metric: name.to_owned(),
                        matchers: matchers.collect(),
                    });
                    rest = after;
                }
                None => selectors.push(Selector {
                    metric: name.to_owned(),
                    matchers: Vec::new(),
                }),
            }
        } else {
            rest = &rest[c.len_utf8()..];
        }
    }
    (selectors, grouping)
}

/// `label op "value"` → (label, op, value).
fn parse_matcher(matcher: &str) -> (String, String, String) {
    let op_start = matcher.find(['=', '!']).expect("a matcher operator");
    let (label, rest) = matcher.split_at(op_start);
    let op_len = if ["!=", "=~", "!~"].iter().any(|op| rest.starts_with(op)) {
        2
    } else {
        1
    };
    let value = rest[op_len..].trim().trim_matches('"');
    (
        label.trim().to_owned(),
        rest[..op_len].to_owned(),
        value.to_owned(),
    )
}

#[test]
fn promql_parser_reads_selectors_and_grouping() {
    let (selectors, grouping) = parse_promql(
        r#"histogram_quantile(0.99, sum by (namespace, le) (rate(m_bucket{job="x",code!~"a|b"}[5m]))) > 2e1
           and on(pod) up unless absent(kube_x{deployment="y"})"#,
    );
    let matcher =
        |label: &str, op: &str, value: &str| (label.to_owned(), op.to_owned(), value.to_owned());
    let expected = [
        Selector {
            metric: "m_bucket".into(),
            matchers: vec![matcher("job", "=", "x"), matcher("code", "!~", "a|b")],
        },
        Selector {
            metric: "up".into(),
            matchers: vec![],
        },
        Selector {
            metric: "kube_x".into(),
            matchers: vec![matcher("deployment", "=", "y")],
        },
    ];
    assert_eq!(selectors, expected);
    assert_eq!(grouping, ["namespace", "le", "pod"]);
}

/// What the rules must call the scrape job and the Deployment.
struct Names<'a> {
    /// The ServiceMonitor's job label: the Service name.
    job: &'a str,
    /// kube-state-metrics' `deployment` label: the Deployment name.
    deployment: &'a str,
}

/// Checks one rule expression against the registered metrics; returns the problems.
fn expression_problems(
    expr: &str,
    metrics: &BTreeMap<String, Registered>,
    names: &Names<'_>,
) -> Vec<String> {
    let mint_codes = trustmint_exchange::ExchangeError::MINT_CODES;
    let mut problems = Vec::new();
    let (selectors, grouping) = parse_promql(expr);
    let mut known: BTreeSet<&str> = TARGET_LABELS.split(' ').collect();
    for selector in &selectors {
        let metric = selector.metric.as_str();
        for (label, _, value) in &selector.matchers {
            let expected = match label.as_str() {
                "job" => names.job,
                "deployment" => names.deployment,
                _ => continue,
            };
            if value != expected {
                problems.push(format!("{label}=\"{value}\" should be \"{expected}\""));
            }
        }
        let (exported, base) = if EXTERNAL_METRICS.split(' ').any(|name| name == metric) {
            known.insert("deployment");
            continue;
        } else if let Some(base) = metric
            .strip_suffix("_bucket")
            .filter(|base| metrics.get(*base).is_some_and(|m| m.histogram))
        {
            known.insert("le");
            (&metrics[base], base)
        } else if let Some(exported) = metrics.get(metric) {
            (exported, metric)
        } else {
            problems.push(format!("{metric} is not a registered metric"));
            continue;
        };
        known.extend(exported.labels.iter().map(String::as_str));
        for (label, _, value) in &selector.matchers {
            if !exported.labels.contains(label) && !TARGET_LABELS.split(' ').any(|l| l == label) {
                problems.push(format!("{metric} has no label {label}"));
            }
            if base == "trustmint_exchanges_total" && label == "code" {
                let unknown = value.split('|').filter(|code| !mint_codes.contains(code));
                problems.extend(unknown.map(|code| format!("unknown exchange code {code}")));
            }
        }
    }
    problems.extend(
        grouping
            .iter()
            .filter(|l| !known.contains(l.as_str()))
            .map(|l| format!("groups by unknown label {l}")),
    );
    if selectors.is_empty() {
        problems.push("no metric".to_owned());
    }
    problems
}

#[test]
fn expression_checks_name_each_problem() {
    let metrics = registered_metrics();
    let cases: &[(&str, &[&str])] = &[
        (
            r#"rate(trustmint_exchanges_total{job="trustmint",code="unavailable"}[5m]) > 0"#,
            &[],
        ),
        (
            r#"histogram_quantile(0.99, sum by (le) (rate(trustmint_verify_duration_seconds_bucket[5m])))"#,
            &[],
        ),
        (
            r#"kube_deployment_spec_replicas{deployment="trustmint"} > 0"#,
            &[],
        ),
        (
            r#"rate(trustmint_exchange_total[5m])"#,
            &["trustmint_exchange_total is not a registered metric"],
        ),
        (
            r#"rate(trustmint_exchanges_total{code=~"unavailable|oops"}[5m])"#,
            &["unknown exchange code oops"],
        ),
        (
            r#"rate(trustmint_store_errors_total{operation="ping"}[5m])"#,
            &["trustmint_store_errors_total has no label operation"],
        ),
        (
            r#"sum by (op) (rate(trustmint_exchanges_total[5m]))"#,
            &["groups by unknown label op"],
        ),
        (
            r#"up{job="tm"} == 0"#,
            &["job=\"tm\" should be \"trustmint\""],
        ),
        (
            r#"kube_deployment_spec_replicas{deployment="tm"}"#,
            &["deployment=\"tm\" should be \"trustmint\""],
        ),
        (
            r#"rate(trustmint_exchanges_total_bucket[5m])"#,
            &["trustmint_exchanges_total_bucket is not a registered metric"],
        ),
    ];
    let names = Names {
        job: "trustmint",
        deployment: "trustmint",
    };
    for (expr, expected) in cases {
        assert_eq!(
            expression_problems(expr, &metrics, &names),
            *expected,
            "{expr}"
        );
    }
}

#[test]
fn alert_rules_use_only_exported_metrics_labels_and_codes() {
    let docs = manifests();
    let metrics = registered_metrics();
    let names = Names {
        job: text(only(&docs, "Service"), "metadata.name"),
        deployment: text(only(&docs, "Deployment"), "metadata.name"),
    };
    let mut alerts = BTreeSet::new();
    for group in list(only(&docs, "PrometheusRule"), "spec.groups") {
        for rule in list(group, "rules") {
            let alert = text(rule, "alert");
            assert!(alerts.insert(alert), "duplicate alert {alert}");
            let severity = text(rule, "labels.severity");
            assert!(
                ["critical", "warning", "info"].contains(&severity),
                "{alert}: {severity}"
            );
            assert!(!text(rule, "annotations.summary").is_empty(), "{alert}");
            assert!(!text(rule, "annotations.description").is_empty(), "{alert}");
            assert!(rule.get("for").is_some(), "{alert}: no `for`");
            assert_eq!(
                expression_problems(text(rule, "expr"), &metrics, &names),
                Vec::<String>::new(),
                "{alert}"
            );
        }
    }
    for (alert, needle) in [
        ("TrustmintExchangeUnavailable", "code=\"unavailable\""),
        ("TrustmintExchangeFailureRatioHigh", "outcome=\"failure\""),
        (
            "TrustmintJwksRefreshFailing",
            "trustmint_jwks_fetches_total",
        ),
        ("TrustmintStoreErrors", "trustmint_store_errors_total"),
        ("TrustmintStoreUnreachable", "op=\"ping\""),
        ("TrustmintExchangeLatencyHigh", "histogram_quantile(0.99"),
        (
            "TrustmintExchangeLatencyHigh",
            "trustmint_exchange_duration_seconds_bucket",
        ),
        ("TrustmintDown", "up{"),
    ] {
        let expr = rule_expr(&docs, alert);
        assert!(expr.contains(needle), "{alert} should use {needle}: {expr}");
    }
}

fn rule_expr<'a>(docs: &'a [Doc], alert: &str) -> &'a str {
    let groups = list(only(docs, "PrometheusRule"), "spec.groups");
    let mut rules = groups.iter().flat_map(|group| list(group, "rules"));
    let rule = rules.find(|rule| rule.get("alert").and_then(Value::as_str) == Some(alert));
    text(
        rule.unwrap_or_else(|| panic!("missing alert {alert}")),
        "expr",
    )
}

/// The arguments of every `INSTRUCTION` line of the Containerfile (continuations joined).
fn containerfile(instruction: &str) -> Vec<String> {
    let source = read("deploy/Containerfile").replace("\\\n", " ");
    let prefix = format!("{instruction} ");
    source
        .lines()
        .filter_map(|line| line.strip_prefix(&prefix))
        .map(|args| args.trim().to_owned())
        .collect()
}

fn last_exec_form(instruction: &str) -> Vec<String> {
    let line = containerfile(instruction)
        .pop()
        .unwrap_or_else(|| panic!("no {instruction}"));
    serde_json::from_str(&line)
        .unwrap_or_else(|error| panic!("{instruction} {line}: not exec form: {error}"))
}

#[test]
fn containerfile_agrees_with_the_deployment_and_configs() {
    let docs = manifests();
    let exposed: BTreeSet<u16> = containerfile("EXPOSE")
        .iter()
        .flat_map(|line| {
            line.split_whitespace()
                .map(|port| port.parse::<u16>().expect("a port"))
                .collect::<Vec<_>>()
        })
        .collect();
    for source in [
        configmap_toml(&docs),
        read("deploy/trustmint.production.toml"),
    ] {
        assert_eq!(
            exposed,
            BTreeSet::from([port_of(&source, "http_addr"), port_of(&source, "grpc_addr")])
        );
    }

    assert_eq!(last_exec_form("ENTRYPOINT"), ["trustmint"]);
    let cmd = last_exec_form("CMD");
    assert_eq!(cmd, ["serve", "--config", CONFIG_PATH]);
    let (_, container) = pod_and_container(&docs);
    assert_eq!(
        at(container, "args"),
        &yaml(&format!("{cmd:?}")),
        "the Deployment runs what the image runs"
    );
    assert!(
        containerfile("COPY").contains(&format!("deploy/trustmint.production.toml {CONFIG_PATH}"))
    );

    let user = containerfile("USER").pop().expect("USER");
    let uid: u64 = user
        .split(':')
        .next()
        .and_then(|uid| uid.parse().ok())
        .expect("a numeric USER");
    assert_ne!(uid, 0);
    assert_eq!(
        at(container, "securityContext.runAsUser").as_u64(),
        Some(uid)
    );

    let stages = containerfile("FROM");
    assert!(
        stages
            .first()
            .is_some_and(|from| from.contains("rust:1-bookworm")),
        "{stages:?}"
    );
    assert!(
        stages
            .last()
            .is_some_and(|from| from.contains("debian:bookworm-slim")),
        "{stages:?}"
    );
    let runs = containerfile("RUN");
    assert!(
        runs.iter()
            .any(|run| run.contains("cargo build --release --locked -p trustmint"))
    );
    assert!(
        runs.iter()
            .any(|run| run.contains("-p trustmint --no-default-features")),
        "the production image is built without the dev issuer: {runs:?}"
    );
    assert!(
        runs.iter()
            .any(|run| run.contains("ca-certificates libssl3"))
    );
    assert!(
        read(".dockerignore")
            .lines()
            .any(|line| line.trim() == "target/")
    );
}

#[test]
fn systemd_unit_runs_the_static_config_and_stops_on_config_errors() {
    let unit = read("deploy/systemd/trustmint.service");
    let values = |key: &str| -> Vec<String> {
        let prefix = format!("{key}=");
        unit.lines()
            .filter_map(|line| line.strip_prefix(&prefix))
            .map(str::to_owned)
            .collect()
    };
    for (key, value) in SYSTEMD_RULES {
        assert!(values(key).iter().any(|v| v == value), "{key}={value}");
    }
    let main = read("crates/server/src/main.rs");
    let exit_config = main
        .lines()
        .find_map(|line| line.trim().strip_prefix("const EXIT_CONFIG: u8 = "));
    let exit_config = exit_config
        .expect("EXIT_CONFIG in main.rs")
        .trim_end_matches(';');
    assert_eq!(values("RestartPreventExitStatus"), [exit_config]);
}
