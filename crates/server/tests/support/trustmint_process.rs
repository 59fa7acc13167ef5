//! A real `trustmint serve` process (the binary cargo built for this package) on free
//! ports with a temporary config file, its stdout and stderr captured in a file, and a
//! gRPC client for any running instance. The one process spawner of the end-to-end
//! tests (replicas, CLI, observability).
//!
//! Stopped by its pid: SIGTERM for a graceful stop ([`TrustmintProcess::stop`]),
//! SIGKILL in `Drop`; should the test process die without unwinding, a watchdog shell
//! kills it within a second.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;
use trustmint_grpc::pb;
use trustmint_grpc::pb::token_service_client::TokenServiceClient;

use super::redis_setup::free_port;

/// How long a process may take to answer `/healthz`, and to exit after SIGTERM.
const DEADLINE: Duration = Duration::from_secs(30);

/// Environment variables of the test process that would change what the service does;
/// they are not passed on (a test sets what it wants explicitly).
const CLEARED_PREFIXES: [&str; 3] = ["TRUSTMINT__", "OTEL_", "RUST_LOG"];

/// A running `trustmint serve`.
pub struct TrustmintProcess {
    child: Option<Child>,
    /// `http://127.0.0.1:PORT`
    pub http: String,
    /// The gRPC listener.
    pub grpc_addr: SocketAddr,
    dir: TempDir,
}

impl std::fmt::Debug for TrustmintProcess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrustmintProcess")
            .field("pid", &self.child.as_ref().map(Child::id))
            .field("http", &self.http)
            .field("grpc_addr", &self.grpc_addr)
            .finish()
    }
}

/// Kills `pid` once the test process has exited, if `pidfile` still exists then (`Drop`
/// deletes it with the temporary directory after killing the process itself).
fn watchdog(pid: u32, pidfile: &Path) {
    let script = format!(
        "( while kill -0 {test} 2>/dev/null; do sleep 0.5; done; \
           [ -f '{file}' ] && kill -9 {pid} ) >/dev/null 2>&1 &",
        test = std::process::id(),
        file = pidfile.display(),
    );
    let status = Command::new("sh")
        .arg("-c")
        .arg(script)
        .stdin(Stdio::null())
        .status()
        .expect("start the watchdog");
    assert!(status.success(), "watchdog did not start");
}

impl TrustmintProcess {
    /// Starts `trustmint serve` with `config` (TOML without a `[server]` section: this
    /// adds one with free ports) and waits until `/healthz` answers.
    pub async fn start(config: &str) -> Self {
        Self::start_with_env(config, &[]).await
    }

    /// Like [`TrustmintProcess::start`], with exactly the `TRUSTMINT__`/`OTEL_`/`RUST_LOG`
    /// variables in `env` (those of the test process are not passed on).
    pub async fn start_with_env(config: &str, env: &[(&str, &str)]) -> Self {
        let dir = TempDir::new().expect("tempdir");
        let (http_port, grpc_port) = (free_port(), free_port());
        let config_path = dir.path().join("trustmint.toml");
        let full_config = format!(
            "[server]\nhttp_addr = \"127.0.0.1:{http_port}\"\ngrpc_addr = \"127.0.0.1:{grpc_port}\"\n\
             location = \"https://upload.example.org\"\nhttp_workers = 1\n\n{config}"
        );
        std::fs::write(&config_path, full_config).expect("write the config");
        let log = std::fs::File::create(dir.path().join("trustmint.log")).expect("log file");
        let mut command = Command::new(env!("CARGO_BIN_EXE_trustmint"));
        command
            .arg("serve")
            .arg("--config")
            .arg(&config_path)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .env("RUST_LIB_BACKTRACE", "0");
        for (name, _) in std::env::vars() {
            if CLEARED_PREFIXES
                .iter()
                .any(|prefix| name.starts_with(prefix))
            {
                command.env_remove(name);
            }
        }
        command.envs(env.iter().copied());
        let child = command.spawn().expect("start trustmint");
        let pidfile = dir.path().join("trustmint.pid");
        std::fs::write(&pidfile, child.id().to_string()).expect("pidfile");
        watchdog(child.id(), &pidfile);
        let mut process = Self {
            child: Some(child),
            http: format!("http://127.0.0.1:{http_port}"),
            grpc_addr: SocketAddr::from(([127, 0, 0, 1], grpc_port)),
            dir,
        };
        process.wait_healthy().await;
        process
    }

    async fn wait_healthy(&mut self) {
        let client = reqwest::Client::new();
        let started = Instant::now();
        loop {
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                panic!("trustmint exited with {status}:\n{}", self.log());
            }
            let healthy = client
                .get(format!("{}/healthz", self.http))
                .timeout(Duration::from_secs(1))
                .send()
                .await
                .is_ok_and(|response| response.status() == 200);
            if healthy {
                return;
            }
            assert!(
                started.elapsed() < DEADLINE,
                "trustmint did not answer /healthz within {DEADLINE:?}:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// What the process wrote to stdout and stderr so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("trustmint.log")).unwrap_or_default()
    }

    /// The config file the process runs with.
    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("trustmint.toml")
    }

    /// Sends `signal` (`HUP`, `TERM`, …) to the process without waiting.
    pub fn send_signal(&self, signal: &str) {
        let pid = self.child.as_ref().expect("running").id();
        let status = Command::new("kill")
            .args([format!("-{signal}"), pid.to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{signal} {pid} failed");
    }

    /// Sends SIGTERM, as an init system would, without waiting.
    pub fn send_sigterm(&self) {
        let pid = self.child.as_ref().expect("running").id();
        let status = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -TERM {pid} failed");
    }

    /// Waits (without blocking the runtime) until the process exits; `None` after
    /// [`DEADLINE`].
    pub async fn wait_exit(&mut self) -> Option<ExitStatus> {
        let child = self.child.as_mut().expect("running");
        let started = Instant::now();
        while started.elapsed() < DEADLINE {
            if let Some(exit) = child.try_wait().expect("wait") {
                let _ = std::fs::remove_file(self.dir.path().join("trustmint.pid"));
                return Some(exit);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        None
    }

    /// Stops the process with SIGTERM (a graceful shutdown: in-flight requests finish,
    /// spans are flushed), asserts it exits successfully and returns its output.
    pub async fn stop(mut self) -> String {
        self.send_sigterm();
        let exit = self.wait_exit().await;
        let output = self.log();
        match exit {
            Some(exit) => assert!(exit.success(), "trustmint exited with {exit}:\n{output}"),
            None => panic!("trustmint did not stop within {DEADLINE:?}:\n{output}"),
        }
        self.child = None;
        output
    }
}

impl Drop for TrustmintProcess {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A TokenService client for the gRPC listener at `addr` (no auth token configured).
pub async fn token_client(addr: SocketAddr) -> TokenServiceClient<tonic::transport::Channel> {
    TokenServiceClient::connect(format!("http://{addr}"))
        .await
        .expect("connect to the gRPC listener")
}

/// `TokenService.VerifyToken(token, project)` at `addr`.
pub async fn grpc_verify(
    addr: SocketAddr,
    token: &str,
    project: &str,
) -> Result<pb::VerifyTokenResponse, tonic::Status> {
    token_client(addr)
        .await
        .verify_token(pb::VerifyTokenRequest {
            ecosystem: String::new(),
            token: token.to_owned(),
            project: project.to_owned(),
        })
        .await
        .map(tonic::Response::into_inner)
}
