//! A real `trustmint serve` process (the binary cargo built for this package) on free
//! ports with a temporary config file, and a gRPC client for any running instance.
//!
//! The process is killed by its pid in `Drop`; should the test process die without
//! unwinding, a watchdog shell kills it within a second.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;
use trustmint_grpc::pb;
use trustmint_grpc::pb::token_service_client::TokenServiceClient;

use super::redis_setup::free_port;

/// How long a process may take to answer `/healthz` after it was started.
const STARTUP_DEADLINE: Duration = Duration::from_secs(30);

/// A running `trustmint serve`.
pub struct TrustmintProcess {
    child: Child,
    /// `http://127.0.0.1:PORT`
    pub http: String,
    /// The gRPC listener.
    pub grpc_addr: SocketAddr,
    dir: TempDir,
}

impl std::fmt::Debug for TrustmintProcess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrustmintProcess")
            .field("pid", &self.child.id())
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
    /// adds one with free ports) and waits until `/healthz` answers. `TRUSTMINT__*`
    /// variables of the test environment are not passed on.
    pub async fn start(config: &str) -> Self {
        let dir = TempDir::new().expect("tempdir");
        let http_port = free_port();
        let grpc_port = free_port();
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
            .stderr(log);
        for (name, _) in std::env::vars().filter(|(name, _)| name.starts_with("TRUSTMINT__")) {
            command.env_remove(name);
        }
        let child = command.spawn().expect("start trustmint");
        let pidfile = dir.path().join("trustmint.pid");
        std::fs::write(&pidfile, child.id().to_string()).expect("pidfile");
        watchdog(child.id(), &pidfile);
        let mut process = Self {
            child,
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
            if let Ok(Some(status)) = self.child.try_wait() {
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
                started.elapsed() < STARTUP_DEADLINE,
                "trustmint did not answer /healthz within {STARTUP_DEADLINE:?}:\n{}",
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
}

impl Drop for TrustmintProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
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
            token: token.to_owned(),
            project: project.to_owned(),
        })
        .await
        .map(tonic::Response::into_inner)
}
