//! The `trustmint` binary as operators run it: `check-config` (the effective settings
//! with secrets redacted; exit 64 with a message naming the key for every invalid
//! config), environment overrides, `serve` with a missing file, and a real `serve`
//! process that exchanges a token over HTTP and shuts down gracefully on SIGTERM while a
//! slow request is in flight.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use base64::Engine;
use serde_json::json;
use trustmint_testkit::TestIssuer;
use trustmint_testkit::claims::GitHubClaims;

use crate::support;

use support::trustmint_process::TrustmintProcess;

const BINARY: &str = env!("CARGO_BIN_EXE_trustmint");

/// sysexits EX_USAGE: the configuration is invalid.
const EXIT_CONFIG: i32 = 64;

/// Base64 of 32 bytes of `byte`: a valid minting secret.
fn secret(byte: u8) -> String {
    base64::engine::general_purpose::STANDARD.encode([byte; 32])
}

const GRPC_TOKEN: &str = "grpc-token-that-must-never-be-printed";
const REDIS_PASSWORD: &str = "redis-password-that-must-never-be-printed";

/// A valid config: keys, a gRPC token, a Redis URL with a password, an exact GitLab
/// issuer, the GitHub enterprise pattern and one publisher of each.
fn valid_config() -> String {
    format!(
        r#"
[server]
http_addr = "127.0.0.1:0"
grpc_addr = "127.0.0.1:0"
location = "https://upload.example.org"

[store]
backend = "redis"
redis_url = "redis://:{REDIS_PASSWORD}@10.0.0.1:6379"

[keys]
current = "k2"

[keys.secrets]
k1 = "{k1}"
k2 = "{k2}"

[grpc]
auth_token = "{GRPC_TOKEN}"

[[issuers]]
url = "https://gitlab.example.com"
kind = "gitlab"
algorithms = ["RS256", "ES256"]

[[issuers]]
url_pattern = "https://token.actions.githubusercontent.com/*"
kind = "github"

[[publishers]]
kind = "gitlab"
projects = ["Sample_Project"]
namespace = "group/sub"
project = "proj"
workflow_filepath = ".gitlab-ci.yml"
issuer = "https://gitlab.example.com"
project_id = 4242

[[publishers]]
kind = "github"
projects = ["sampleproject"]
repository_owner = "octo-org"
repository_owner_id = "92345678"
repository_name = "sampleproject"
workflow_filename = "release.yml"
environment = "pypi"
issuer = "https://token.actions.githubusercontent.com/octo-enterprise"
"#,
        k1 = secret(1),
        k2 = secret(2),
    )
}

/// Runs the binary with `args`, no inherited `TRUSTMINT__*` variables, plus `env`.
fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(BINARY);
    command.args(args).stdin(Stdio::null());
    for (key, _) in std::env::vars().filter(|(key, _)| key.starts_with("TRUSTMINT__")) {
        command.env_remove(key);
    }
    command.envs(env.iter().copied());
    command.output().expect("run the trustmint binary")
}

/// Writes `config` to a temporary file and runs `check-config` on it.
fn check_config(config: &str, env: &[(&str, &str)]) -> Output {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("trustmint.toml");
    std::fs::write(&path, config).expect("write config");
    run(&["check-config", "--config", path_str(&path)], env)
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("utf-8 temp path")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The report after its `configuration OK` line, parsed as TOML.
fn parse_report(output: &Output) -> toml::Table {
    let report = stdout(output);
    let body = report
        .strip_prefix("configuration OK\n")
        .unwrap_or_else(|| panic!("report starts with `configuration OK`: {report}"));
    toml::from_str(body).unwrap_or_else(|error| panic!("report is TOML ({error}): {report}"))
}

// === check-config ===

#[test]
fn check_config_prints_the_effective_settings_with_secrets_redacted() {
    let output = check_config(&valid_config(), &[]);
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{report}{}", stderr(&output));

    for secret_text in [
        secret(1),
        secret(2),
        GRPC_TOKEN.to_owned(),
        REDIS_PASSWORD.to_owned(),
    ] {
        assert!(!report.contains(&secret_text), "a secret leaked: {report}");
    }
    let toml = parse_report(&output);
    assert_eq!(toml["keys"]["current"].as_str(), Some("k2"));
    let secrets = toml["keys"]["secrets"].as_table().expect("keys.secrets");
    assert_eq!(secrets.keys().collect::<Vec<_>>(), ["k1", "k2"]);
    assert_eq!(secrets["k1"].as_str(), Some("<redacted>"));
    assert_eq!(toml["grpc"]["auth_token"].as_str(), Some("<redacted>"));
    assert_eq!(
        toml["store"]["redis_url"].as_str(),
        Some("redis://:<redacted>@10.0.0.1:6379")
    );
    // Defaults of sections the file does not mention are shown too.
    assert_eq!(toml["exchange"]["audience"].as_str(), Some("pypi"));
    assert_eq!(toml["exchange"]["token_ttl_secs"].as_integer(), Some(900));
    assert_eq!(
        toml["rate_limit"]["requests_per_second"].as_float(),
        Some(5.0)
    );
    assert_eq!(toml["telemetry"]["log_format"].as_str(), Some("text"));
    assert_eq!(toml["store"]["backend"].as_str(), Some("redis"));

    let issuers = toml["issuers"].as_array().expect("issuers");
    assert_eq!(issuers.len(), 2);
    assert_eq!(
        issuers[0]["url"].as_str(),
        Some("https://gitlab.example.com")
    );
    assert_eq!(
        issuers[0]["algorithms"].as_array().map(|a| a.len()),
        Some(2),
        "{report}"
    );
    assert_eq!(
        issuers[1]["url_pattern"].as_str(),
        Some("https://token.actions.githubusercontent.com/*")
    );
    assert_eq!(issuers[1]["kind"].as_str(), Some("github"));

    let publishers = toml["publishers"].as_array().expect("publishers");
    assert_eq!(publishers.len(), 2);
    // Project names are shown normalised; numeric ids as the strings they match.
    assert_eq!(
        publishers[0]["projects"].as_array().map(|p| p[0].as_str()),
        Some(Some("sample-project"))
    );
    assert_eq!(publishers[0]["project_id"].as_str(), Some("4242"));
    assert_eq!(publishers[1]["environment"].as_str(), Some("pypi"));
    assert_eq!(
        publishers[1]["issuer"].as_str(),
        Some("https://token.actions.githubusercontent.com/octo-enterprise")
    );
}

#[test]
fn check_config_without_a_file_shows_the_defaults() {
    let output = run(&["check-config"], &[]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let toml = parse_report(&output);
    let urls: Vec<&str> = toml["issuers"]
        .as_array()
        .expect("issuers")
        .iter()
        .filter_map(|issuer| issuer.get("url").and_then(|url| url.as_str()))
        .collect();
    assert_eq!(
        urls,
        [
            "https://token.actions.githubusercontent.com",
            "https://gitlab.com",
            "https://accounts.google.com",
            "https://platform.activestate.com/api/v1/oauth/oidc",
            "https://agent.buildkite.com",
        ]
    );
    let patterns: Vec<&str> = toml["issuers"]
        .as_array()
        .expect("issuers")
        .iter()
        .filter_map(|issuer| issuer.get("url_pattern").and_then(|url| url.as_str()))
        .collect();
    assert_eq!(
        patterns,
        [
            "https://oidc.circleci.com/org/*",
            "https://api.bitbucket.org/2.0/workspaces/*/pipelines-config/identity/oidc",
        ]
    );
    assert_eq!(toml["keys"]["current"].as_str(), Some(""));
    assert!(toml.get("publishers").is_none());
}

/// `valid_config()` with `from` replaced by `to` (which must occur exactly once).
fn edited(from: &str, to: &str) -> String {
    let config = valid_config();
    assert_eq!(config.matches(from).count(), 1, "edit anchor {from:?}");
    config.replace(from, to)
}

/// A config with one GitHub `[[publishers]]` entry (`entry` lines) and the enterprise
/// pattern issuer.
fn github_publisher_config(entry: &str) -> String {
    format!(
        r#"
[[issuers]]
url_pattern = "https://token.actions.githubusercontent.com/*"
kind = "github"

[[issuers]]
url = "https://token.actions.githubusercontent.com"
kind = "github"

[[publishers]]
kind = "github"
{entry}
"#
    )
}

const GITHUB_ENTRY: &str = r#"projects = ["sampleproject"]
repository_owner = "octo-org"
repository_name = "sampleproject"
workflow_filename = "release.yml""#;

/// `GITHUB_ENTRY` with the line starting `field =` replaced by `line` (or removed).
fn github_entry_with(field: &str, line: &str) -> String {
    let mut lines: Vec<String> = GITHUB_ENTRY
        .lines()
        .filter(|l| !l.starts_with(&format!("{field} =")))
        .map(str::to_owned)
        .collect();
    if !line.is_empty() {
        lines.push(line.to_owned());
    }
    github_publisher_config(&lines.join("\n"))
}

#[test]
fn invalid_configs_exit_64_naming_the_key() {
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "unknown key in a section",
            edited("location = ", "locaton = \"x\"\nlocation = "),
            "invalid configuration: server: unknown field `locaton`, expected one of `http_addr`, `grpc_addr`, `location`, `http_workers`",
        ),
        (
            "wrong type",
            edited("[store]\n", "[store]\ntimeout_ms = \"abc\"\n"),
            "invalid configuration: store.timeout_ms: invalid type: string \"abc\", expected an integer (in ",
        ),
        (
            "unknown issuer kind",
            edited(
                "kind = \"gitlab\"\nalgorithms",
                "kind = \"gitlb\"\nalgorithms",
            ),
            "invalid configuration: issuers[0].kind: unknown value \"gitlb\"; expected one of: github, gitlab, google, activestate, buildkite, circleci, bitbucket, forgejo, oidc",
        ),
        (
            "unsupported issuer algorithm",
            edited("[\"RS256\", \"ES256\"]", "[\"RS256\", \"HS256\"]"),
            "invalid configuration: issuers[0].algorithms: \"HS256\" is a symmetric (shared-secret) algorithm",
        ),
        (
            "bad log filter",
            edited(
                "[store]\n",
                "[telemetry]\nlog_level = \"info,[\"\n\n[store]\n",
            ),
            "invalid configuration: telemetry.log_level: 'info,[' is not a log filter",
        ),
        (
            "bad OTLP endpoint",
            edited(
                "[store]\n",
                "[telemetry]\notlp_endpoint = \"collector:4317\"\n\n[store]\n",
            ),
            "invalid configuration: telemetry.otlp_endpoint: 'collector:4317' is not an http(s) URL of an OTLP/gRPC collector, e.g. 'http://127.0.0.1:4317'",
        ),
        (
            "token ttl out of range",
            edited("[store]\n", "[exchange]\ntoken_ttl_secs = 10\n\n[store]\n"),
            "invalid configuration: exchange.token_ttl_secs: must be between 60 and 86400",
        ),
        (
            "bad url_pattern",
            edited(
                "\"https://token.actions.githubusercontent.com/*\"",
                "\"https://*.com/_services/token\"",
            ),
            "invalid configuration: issuers[1].url_pattern: the last two host labels must be literal (a `*` there would match any domain)",
        ),
        (
            "publisher: workflow suffix",
            github_entry_with("workflow_filename", "workflow_filename = \"release.json\""),
            "invalid configuration: publishers[0].workflow_filename: must end in '.yml' or '.yaml', e.g. 'release.yml'",
        ),
        (
            "publisher: owner name",
            github_entry_with("repository_owner", "repository_owner = \"octo_org\""),
            "invalid configuration: publishers[0].repository_owner: must start with an ASCII letter or digit and contain only ASCII letters, digits and '-', e.g. 'octo-org'",
        ),
        (
            "publisher: environment with a forbidden character",
            github_entry_with("environment", "environment = \"py;pi\""),
            "invalid configuration: publishers[0].environment: must not contain any of ' \" ` , ; \\",
        ),
        (
            "publisher: unknown field",
            github_entry_with("environment", "enviroment = \"pypi\""),
            "invalid configuration: publishers[0].enviroment: unknown field for a github publisher; expected one of: kind, projects, repository_owner, repository_owner_id, repository_name, workflow_filename, environment, issuer, workflow_repository, refs, require_protected_ref, allow_self_hosted_runners, require_protected_environment",
        ),
        (
            "publisher: projects missing",
            github_entry_with("projects", ""),
            "invalid configuration: publishers[0].projects: is required; list at least one project",
        ),
        (
            "publisher: bad project name",
            github_entry_with("projects", "projects = [\"ok\", \"-bad-\"]"),
            "invalid configuration: publishers[0].projects[1]: project name '-bad-' is not valid: use ASCII letters, digits, '.', '_' and '-', starting and ending with a letter or digit",
        ),
        (
            "publisher: issuer not configured",
            github_entry_with(
                "issuer",
                "issuer = \"https://ghe.example.com/_services/token\"",
            ),
            "invalid configuration: publishers[0].issuer: no [[issuers]] entry of kind github serves 'https://ghe.example.com/_services/token', so this publisher could never match",
        ),
        (
            "publisher: issuer of another kind",
            edited(
                "issuer = \"https://token.actions.githubusercontent.com/octo-enterprise\"",
                "issuer = \"https://gitlab.example.com\"",
            ),
            "invalid configuration: publishers[1].issuer: no [[issuers]] entry of kind github serves 'https://gitlab.example.com', so this publisher could never match",
        ),
        (
            "publisher: self-managed GitLab without issuer",
            edited(
                "issuer = \"https://gitlab.example.com\"\nproject_id",
                "project_id",
            ),
            "invalid configuration: publishers[0].issuer: not set, so the publisher trusts gitlab's public issuer, but no [[issuers]] entry of kind gitlab serves 'https://gitlab.com'; set issuer to the instance the CI runs on, or add an [[issuers]] entry for 'https://gitlab.com'",
        ),
        (
            "publisher: Google without Google's issuer",
            edited(
                "[[publishers]]\nkind = \"gitlab\"",
                "[[publishers]]\nkind = \"google\"\nprojects = [\"g\"]\nemail = \"ci@my-project.iam.gserviceaccount.com\"\n\n[[publishers]]\nkind = \"gitlab\"",
            ),
            "invalid configuration: publishers[0].kind: google publishers trust only 'https://accounts.google.com', but no [[issuers]] entry of kind google serves 'https://accounts.google.com'; add an [[issuers]] entry with url = 'https://accounts.google.com' and kind = 'google'",
        ),
        (
            "keys: short secret",
            edited(&format!("k1 = \"{}\"", secret(1)), "k1 = \"c2hvcnQ=\""),
            "invalid configuration: keys.secrets.k1: secret of key id \"k1\" is 5 bytes long; at least 32 are required",
        ),
        (
            "keys: current missing",
            edited("current = \"k2\"", "current = \"k9\""),
            "invalid configuration: keys.current: current key id \"k9\" has no secret",
        ),
        (
            "keys: secrets without current",
            edited("current = \"k2\"", ""),
            "invalid configuration: keys.current: name the key id new tokens are minted with",
        ),
    ];
    for (name, config, expected) in cases {
        let output = check_config(&config, &[]);
        let message = stderr(&output);
        assert_eq!(
            output.status.code(),
            Some(EXIT_CONFIG),
            "{name}: stdout {} stderr {message}",
            stdout(&output)
        );
        assert!(
            message.contains(expected),
            "{name}: want {expected:?} in {message:?}"
        );
        assert!(stdout(&output).is_empty(), "{name}: nothing on stdout");
        assert!(!message.contains(GRPC_TOKEN), "{name}: {message}");
    }
}

#[test]
fn environment_overrides_are_in_effect() {
    let output = check_config(
        &valid_config(),
        &[("TRUSTMINT__EXCHANGE__AUDIENCE", "testpypi")],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        parse_report(&output)["exchange"]["audience"].as_str(),
        Some("testpypi")
    );

    let output = check_config(&valid_config(), &[("TRUSTMINT__STORE__TIMEOUT_MS", "abc")]);
    assert_eq!(
        output.status.code(),
        Some(EXIT_CONFIG),
        "{}",
        stdout(&output)
    );
    assert_eq!(
        stderr(&output),
        "trustmint: invalid configuration: store.timeout_ms: invalid type: string \"abc\", expected an integer (in the environment)\n"
    );
}

#[test]
fn serve_with_a_missing_config_file_exits_64() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("nope.toml");
    let output = run(&["serve", "--config", path_str(&missing)], &[]);
    assert_eq!(output.status.code(), Some(EXIT_CONFIG));
    assert_eq!(
        stderr(&output),
        format!(
            "trustmint: invalid configuration: --config: file '{}' does not exist\n",
            missing.display()
        )
    );
}

// === a real serve process ===

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_exchanges_over_http_and_shuts_down_gracefully_on_sigterm() {
    let fast = TestIssuer::start().await;
    let slow = TestIssuer::start().await;
    let config = format!(
        r#"
[rate_limit]
enabled = false

[telemetry]
log_level = "warn"

[keys]
current = "k1"

[keys.secrets]
k1 = "{k1}"

[[issuers]]
url = "{fast}"
kind = "github"

[[issuers]]
url = "{slow}"
kind = "github"

[[publishers]]
kind = "github"
projects = ["fast-project"]
repository_owner = "octo-org"
repository_name = "sampleproject"
workflow_filename = "release.yml"
issuer = "{fast}"

[[publishers]]
kind = "github"
projects = ["slow-project"]
repository_owner = "octo-org"
repository_name = "sampleproject"
workflow_filename = "release.yml"
issuer = "{slow}"
"#,
        k1 = secret(9),
        fast = fast.url(),
        slow = slow.url(),
    );
    // log_level = "warn" above: RUST_LOG from the test environment is not passed on.
    let mut process = TrustmintProcess::start(&config).await;
    let base = process.http.clone();
    let client = reqwest::Client::new();

    let mint = |jwt: String| {
        let client = client.clone();
        let url = format!("{base}/_/oidc/mint-token");
        async move {
            let response = client
                .post(url)
                .header("content-type", "application/json")
                .body(json!({ "token": jwt }).to_string())
                .send()
                .await
                .expect("mint request");
            let status = response.status().as_u16();
            let text = response.text().await.expect("response body");
            let body: serde_json::Value = serde_json::from_str(&text).expect("JSON body");
            (status, body)
        }
    };
    let claims = |iss: &str| GitHubClaims::new().build(iss, "pypi", unix_now());

    let (status, body) = mint(fast.sign(&claims(&fast.url()))).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body["token"]
            .as_str()
            .is_some_and(|t| t.starts_with("pypi-")),
        "{body}"
    );

    // A request that is still fetching the slow issuer's keys when SIGTERM arrives.
    slow.set_response_delay(Duration::from_millis(1500));
    let in_flight = tokio::spawn(mint(slow.sign(&claims(&slow.url()))));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        !in_flight.is_finished(),
        "the slow request is still in flight"
    );
    process.send_sigterm();

    let (status, body) = in_flight.await.expect("in-flight request task");
    assert_eq!(status, 200, "the in-flight request completes: {body}");
    assert!(
        body["token"]
            .as_str()
            .is_some_and(|t| t.starts_with("pypi-")),
        "{body}"
    );
    match process.wait_exit().await {
        Some(status) => assert_eq!(
            status.code(),
            Some(0),
            "exit status; log: {}",
            process.log()
        ),
        None => panic!("serve did not exit after SIGTERM: {}", process.log()),
    }
    // Nothing listens any more.
    assert!(client.get(format!("{base}/healthz")).send().await.is_err());
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

#[test]
fn check_config_shows_the_gateway_with_its_password_redacted_and_refuses_a_bad_one() {
    let password = "index-password-never-shown";
    let config = format!(
        "[gateway]\nenabled = true\nupstream = \"http://127.0.0.1:8081/\"\nupstream_username = \"trustmint\"\nupstream_password = \"{password}\"\n"
    );
    let output = check_config(&config, &[]);
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{report}{}", stderr(&output));
    assert!(!report.contains(password), "the password leaked: {report}");
    let toml = parse_report(&output);
    assert_eq!(
        toml["gateway"]["upstream_password"].as_str(),
        Some("<redacted>")
    );
    assert_eq!(toml["gateway"]["path"].as_str(), Some("/legacy/"));
    assert_eq!(
        toml["gateway"]["max_upload_bytes"].as_integer(),
        Some(100 * 1024 * 1024)
    );
    assert_eq!(toml["server"]["tls_cert_file"].as_str(), Some(""));

    let output = check_config("[gateway]\nenabled = true\nupstream = \"ftp://x/\"\n", &[]);
    assert_eq!(output.status.code(), Some(64));
    assert!(
        stderr(&output).contains("gateway.upstream: must be an http:// or https:// URL"),
        "{}",
        stderr(&output)
    );
}
