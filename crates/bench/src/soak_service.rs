//! The service under soak, run the way an operator runs it: a config file, minting keys
//! as one file per key id in `[keys] secrets_dir`, and `kill -HUP` to rotate them. The
//! soak writes a new key file, switches `[keys] current` in the file, signals, and
//! waits until the service counts the reload (`trustmint_config_reloads_total`).
//!
//! The process is either the real `trustmint serve --config FILE` (`--service-bin`,
//! what `just soak` runs) or this binary's `serve-config`, which makes the same calls.
//! Its logs are drained by a thread that keeps the warning and error lines.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};

use crate::child::DECLARED_PROJECT;
use crate::error::BenchError;
use crate::service::{cpu_time_of, status_bytes_of};
use crate::service_metrics::MetricsSnapshot;

/// How long the service may take to answer `/readyz`.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a reload may take to be counted after SIGHUP.
const RELOAD_TIMEOUT: Duration = Duration::from_secs(10);

/// How long the drain after SIGTERM may take (the config's grace plus a margin).
const STOP_TIMEOUT: Duration = Duration::from_secs(20);

/// Warning and error lines kept from the service's log (the rest are counted).
const KEPT_WARNINGS: usize = 50;

/// A key id stays in the keyring this long after it stopped minting: the token TTL
/// (900 s) plus a margin, the operations guide's rule for removing an old key.
const KEY_RETENTION: Duration = Duration::from_secs(900 + 60);

/// What the service is configured with.
#[derive(Debug, Clone)]
pub(crate) struct ServiceSetup {
    /// `Some(trustmint)`: run `BIN serve --config FILE`; `None`: this binary's
    /// `serve-config`.
    pub(crate) service_bin: Option<PathBuf>,
    /// The soak's own redis-server.
    pub(crate) redis_url: String,
    /// The test issuer (GitHub kind, ES256).
    pub(crate) issuer_url: String,
    /// `[grpc] auth_token`.
    pub(crate) grpc_auth_token: String,
}

/// The warnings and errors the service logged.
#[derive(Debug, Default)]
pub(crate) struct LogWarnings {
    /// How many lines were at warning or error level.
    pub(crate) count: u64,
    /// The first [`KEPT_WARNINGS`] of them.
    pub(crate) first: Vec<String>,
}

/// A running service with its config directory.
#[derive(Debug)]
pub(crate) struct SoakService {
    child: Child,
    stdin: Option<ChildStdin>,
    setup: ServiceSetup,
    /// Holds `config.toml` and `keys/`; removed on drop.
    dir: tempfile::TempDir,
    http_port: u16,
    grpc_port: u16,
    /// Key ids in the keyring, oldest first, with when each stopped minting.
    keys: Vec<(String, Option<Instant>)>,
    reloads: u64,
    warnings: Arc<Mutex<LogWarnings>>,
    /// `http://127.0.0.1:PORT`.
    pub(crate) http_url: String,
    /// `http://127.0.0.1:PORT` of the gRPC listener.
    pub(crate) grpc_url: String,
}

impl SoakService {
    /// Writes the config and the first key, starts the service and waits until ready.
    pub(crate) async fn start(
        setup: ServiceSetup,
        http: &reqwest::Client,
    ) -> Result<Self, BenchError> {
        let dir = tempfile::tempdir().map_err(BenchError::io("creating the config dir"))?;
        std::fs::create_dir(dir.path().join("keys"))
            .map_err(BenchError::io("creating the keys dir"))?;
        let (http_port, grpc_port) = (
            trustmint_testkit::redis_processes::free_port(),
            trustmint_testkit::redis_processes::free_port(),
        );
        let service_dir = ServiceDir {
            dir: dir.path(),
            setup: &setup,
            http_port,
            grpc_port,
        };
        service_dir.write_key("k1")?;
        service_dir.write_config("k1")?;
        let config = dir.path().join("config.toml");
        let mut command = match &setup.service_bin {
            Some(bin) => {
                let mut command = Command::new(bin);
                command.arg("serve").arg("--config").arg(&config);
                command
            }
            None => {
                let exe =
                    std::env::current_exe().map_err(BenchError::io("locating the bench binary"))?;
                let mut command = Command::new(exe);
                command.arg("serve-config").arg("--config").arg(&config);
                command
            }
        };
        let mut child = command
            .env("RUST_LIB_BACKTRACE", "0")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(BenchError::io("starting the service"))?;
        let warnings = Arc::new(Mutex::new(LogWarnings::default()));
        if let Some(stdout) = child.stdout.take() {
            drain_logs(stdout, warnings.clone());
        }
        if let Some(stderr) = child.stderr.take() {
            drain_logs(stderr, warnings.clone());
        }
        let stdin = child.stdin.take();
        let mut service = Self {
            child,
            stdin,
            setup,
            dir,
            http_port,
            grpc_port,
            keys: vec![("k1".to_owned(), None)],
            reloads: 0,
            warnings,
            http_url: format!("http://127.0.0.1:{http_port}"),
            grpc_url: format!("http://127.0.0.1:{grpc_port}"),
        };
        service.wait_ready(http).await?;
        Ok(service)
    }

    async fn wait_ready(&mut self, http: &reqwest::Client) -> Result<(), BenchError> {
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(BenchError::Service(format!(
                    "the service exited during startup ({status}); its log: {:?}",
                    self.warnings().first
                )));
            }
            let ready = http
                .get(format!("{}/readyz", self.http_url))
                .timeout(Duration::from_secs(2))
                .send()
                .await
                .is_ok_and(|response| response.status().is_success());
            if ready {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(BenchError::Service(
                    "the service did not become ready within 30 s".to_owned(),
                ));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The service's pid.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `VmRSS`, bytes.
    pub(crate) fn rss_bytes(&self) -> Result<u64, BenchError> {
        status_bytes_of(&format!("/proc/{}/status", self.pid()), "VmRSS:")
    }

    /// Open file descriptors (entries of `/proc/<pid>/fd`).
    pub(crate) fn open_fds(&self) -> Result<u64, BenchError> {
        let path = format!("/proc/{}/fd", self.pid());
        let entries =
            std::fs::read_dir(&path).map_err(BenchError::io(format!("reading {path}")))?;
        Ok(entries.count() as u64)
    }

    /// User + system CPU time so far.
    pub(crate) fn cpu_time(&self) -> Result<Duration, BenchError> {
        cpu_time_of(&format!("/proc/{}/stat", self.pid()))
    }

    /// The warning and error lines logged so far.
    pub(crate) fn warnings(&self) -> LogWarnings {
        let warnings = self
            .warnings
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        LogWarnings {
            count: warnings.count,
            first: warnings.first.clone(),
        }
    }

    /// Rotates the minting key: writes key file `new_id`, makes it `[keys] current`,
    /// drops key ids retired longer than [`KEY_RETENTION`] ago, sends SIGHUP and waits
    /// until the service counts one more successful reload. Returns how long that took.
    pub(crate) async fn rotate_key(
        &mut self,
        new_id: &str,
        http: &reqwest::Client,
    ) -> Result<Duration, String> {
        let started = Instant::now();
        let service_dir = ServiceDir {
            dir: self.dir.path(),
            setup: &self.setup,
            http_port: self.http_port,
            grpc_port: self.grpc_port,
        };
        service_dir
            .write_key(new_id)
            .map_err(|error| error.to_string())?;
        service_dir
            .write_config(new_id)
            .map_err(|error| error.to_string())?;
        let now = Instant::now();
        for (_, retired) in &mut self.keys {
            retired.get_or_insert(now);
        }
        let (expired, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut self.keys)
            .into_iter()
            .partition(|(_, retired)| retired.is_some_and(|at| at.elapsed() > KEY_RETENTION));
        for (id, _) in expired {
            std::fs::remove_file(self.dir.path().join("keys").join(&id))
                .map_err(|error| format!("removing key {id}: {error}"))?;
        }
        self.keys = kept;
        self.keys.push((new_id.to_owned(), None));
        self.signal("HUP")?;
        self.reloads += 1;
        let deadline = Instant::now() + RELOAD_TIMEOUT;
        loop {
            let snapshot = MetricsSnapshot::fetch(http, &self.http_url)
                .await
                .map_err(|error| error.to_string())?;
            let counted = |result: &str| {
                snapshot.delta_since(
                    &MetricsSnapshot::default(),
                    "trustmint_config_reloads_total",
                    Some(("result", result)),
                )
            };
            if counted("error") > 0.0 {
                return Err("the service refused the reloaded configuration".to_owned());
            }
            if counted("ok") >= self.reloads as f64 {
                return Ok(started.elapsed());
            }
            if Instant::now() > deadline {
                return Err("SIGHUP reload not counted within 10 s".to_owned());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn signal(&self, signal: &str) -> Result<(), String> {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.pid().to_string())
            .status()
            .map_err(|error| format!("running kill: {error}"))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("kill -{signal} {} failed", self.pid()))
        }
    }

    /// SIGTERM, then waits for the drain; kills the process if it takes too long.
    /// Returns whether it exited 0 by itself.
    pub(crate) fn stop(mut self) -> bool {
        let _ = self.signal("TERM");
        let deadline = Instant::now() + STOP_TIMEOUT;
        while Instant::now() < deadline {
            match self.child.try_wait() {
                Ok(Some(status)) => {
                    self.stdin.take();
                    return status.success();
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(50)),
                Err(_) => break,
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.stdin.take();
        false
    }
}

impl Drop for SoakService {
    fn drop(&mut self) {
        // `stop` takes the stdin; any other path (an error) must not leave it running.
        if self.stdin.is_some() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The files the service reads.
struct ServiceDir<'a> {
    dir: &'a Path,
    setup: &'a ServiceSetup,
    http_port: u16,
    grpc_port: u16,
}

impl ServiceDir<'_> {
    /// A fresh 48-byte secret (three random UUIDs: 366 random bits) as `keys/<id>`.
    fn write_key(&self, id: &str) -> Result<(), BenchError> {
        let secret: Vec<u8> = (0..3)
            .flat_map(|_| uuid::Uuid::new_v4().into_bytes())
            .collect();
        let encoded = base64::engine::general_purpose::STANDARD.encode(secret);
        replace_file(&self.dir.join("keys").join(id), &encoded)
    }

    /// `config.toml` minting with `current`.
    fn write_config(&self, current: &str) -> Result<(), BenchError> {
        let config = service_config(
            self.setup,
            self.http_port,
            self.grpc_port,
            current,
            &self.dir.join("keys"),
        );
        let text = toml::to_string(&config)
            .map_err(|error| BenchError::Settings(format!("config TOML: {error}")))?;
        replace_file(&self.dir.join("config.toml"), &text)
    }
}

/// The service's configuration: the soak's Redis, the test issuer and its declared
/// publisher, rate limiting off (one client address sending thousands of requests a
/// second), no drain delay (no load balancer to wait for), production defaults otherwise
/// (info-level JSON logs included).
fn service_config(
    setup: &ServiceSetup,
    http_port: u16,
    grpc_port: u16,
    current: &str,
    keys_dir: &Path,
) -> Value {
    json!({
        "server": {
            "http_addr": format!("127.0.0.1:{http_port}"),
            "grpc_addr": format!("127.0.0.1:{grpc_port}"),
            "location": "https://upload.example.org",
            "shutdown_drain_delay_ms": 0,
            "shutdown_grace_secs": 10,
        },
        "store": {
            "backend": "redis",
            "redis_url": setup.redis_url,
            "key_prefix": "trustmint-soak:",
        },
        "keys": {
            "current": current,
            "secrets_dir": keys_dir.display().to_string(),
        },
        "grpc": { "auth_token": setup.grpc_auth_token },
        "rate_limit": { "enabled": false },
        "telemetry": { "log_format": "json" },
        "issuers": [{
            "url": setup.issuer_url,
            "kind": "github",
            "algorithms": ["ES256"],
        }],
        "publishers": [{
            "kind": "github",
            "issuer": setup.issuer_url,
            "projects": [DECLARED_PROJECT],
            "repository_owner": "octo-org",
            "repository_owner_id": "92345678",
            "repository_name": "sampleproject",
            "workflow_filename": "release.yml",
            "environment": "",
        }],
    })
}

/// Writes `path` through a temporary file and a rename, so the service never reads a
/// half-written file.
fn replace_file(path: &Path, contents: &str) -> Result<(), BenchError> {
    let partial = path.with_extension("partial");
    std::fs::write(&partial, contents)
        .map_err(BenchError::io(format!("writing {}", partial.display())))?;
    std::fs::rename(&partial, path)
        .map_err(BenchError::io(format!("renaming to {}", path.display())))
}

/// Reads the service's log lines for the rest of its life (a full pipe would block its
/// writes), keeping those at warning or error level.
fn drain_logs(pipe: impl std::io::Read + Send + 'static, warnings: Arc<Mutex<LogWarnings>>) {
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            if is_warning(&line) {
                let mut warnings = warnings
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                warnings.count += 1;
                if warnings.first.len() < KEPT_WARNINGS {
                    warnings.first.push(line);
                }
            }
        }
    });
}

/// A JSON log line at WARN or ERROR, or a plain line that is not JSON (a panic message,
/// a startup error on stderr).
///
/// Looks for the `"level":"…"` key instead of parsing the line: the service writes
/// several MB of audit lines a second, and the 64 KiB pipe between it and this reader
/// holds only milliseconds of them, so a reader that falls behind stalls the service's
/// log writer and shows up as latency in the soak. Inside a line's string values quotes
/// are escaped, so the unescaped key can only be tracing's own.
fn is_warning(line: &str) -> bool {
    let line = line.trim();
    if !line.starts_with('{') {
        return !line.is_empty();
    }
    match line.split_once(r#""level":""#) {
        Some((_, rest)) => rest.starts_with("WARN\"") || rest.starts_with("ERROR\""),
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_warning_and_error_lines_and_anything_not_json() {
        let cases = [
            (r#"{"level":"INFO","fields":{"message":"audit"}}"#, false),
            (r#"{"level":"WARN","fields":{"message":"slow"}}"#, true),
            (
                r#"{"level":"ERROR","fields":{"message":"reload refused"}}"#,
                true,
            ),
            ("thread 'main' panicked at src/main.rs", true),
            (r#"{"level":"INFO","event":"{\"level\":\"WARN\"}"}"#, false),
            (r#"{"message":"no level"}"#, true),
            ("   ", false),
        ];
        for (line, expected) in cases {
            assert_eq!(is_warning(line), expected, "{line}");
        }
    }

    #[test]
    fn the_config_names_the_current_key_and_its_directory() {
        let setup = ServiceSetup {
            service_bin: None,
            redis_url: "redis://127.0.0.1:20001".to_owned(),
            issuer_url: "http://127.0.0.1:20002".to_owned(),
            grpc_auth_token: "t".to_owned(),
        };
        let config = service_config(&setup, 1, 2, "k7", Path::new("/tmp/keys"));
        let text = toml::to_string(&config).expect("TOML");
        let parsed: toml::Table = text.parse().expect("parses back");
        assert_eq!(parsed["keys"]["current"].as_str(), Some("k7"));
        assert_eq!(parsed["keys"]["secrets_dir"].as_str(), Some("/tmp/keys"));
        assert_eq!(
            parsed["store"]["redis_url"].as_str(),
            Some("redis://127.0.0.1:20001")
        );
        assert_eq!(
            parsed["publishers"][0]["projects"][0].as_str(),
            Some(DECLARED_PROJECT)
        );
    }
}
