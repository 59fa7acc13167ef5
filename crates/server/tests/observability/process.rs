//! A real `trustmint serve` process (the binary cargo built for this package) with a
//! config file and environment the test chooses, its stdout and stderr captured in a
//! file. Stopped by its pid: SIGTERM for a graceful stop, SIGKILL in `Drop`; should the
//! test process die without unwinding, a watchdog shell kills it within a second.

use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// How long a process may take to answer `/healthz`, and to exit after SIGTERM.
const DEADLINE: Duration = Duration::from_secs(30);

/// Environment variables of the test process that would change what the service does;
/// they are not passed on (the test sets what it wants explicitly).
const CLEARED_PREFIXES: [&str; 3] = ["TRUSTMINT__", "OTEL_", "RUST_LOG"];

/// A free TCP port on 127.0.0.1 (bound, then released for the child to bind).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free port")
}

/// A running `trustmint serve`.
pub struct ServeProcess {
    child: Option<Child>,
    /// `http://127.0.0.1:PORT`
    pub http: String,
    /// The gRPC listener.
    pub grpc_addr: SocketAddr,
    dir: TempDir,
}

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

impl ServeProcess {
    /// Starts `trustmint serve` with `config` (TOML without a `[server]` section: one
    /// with free ports is prepended) and exactly the `TRUSTMINT__`/`OTEL_`/`RUST_LOG`
    /// variables in `env`; waits until `/healthz` answers.
    pub async fn start(config: &str, env: &[(&str, &str)]) -> ServeProcess {
        let dir = TempDir::new().expect("tempdir");
        let (http_port, grpc_port) = (free_port(), free_port());
        let config_path = dir.path().join("trustmint.toml");
        std::fs::write(
            &config_path,
            format!(
                "[server]\nhttp_addr = \"127.0.0.1:{http_port}\"\ngrpc_addr = \"127.0.0.1:{grpc_port}\"\n\
                 location = \"https://upload.example.org\"\nhttp_workers = 1\n\n{config}"
            ),
        )
        .expect("write the config");
        let log = std::fs::File::create(dir.path().join("output.log")).expect("log file");
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
        let mut process = ServeProcess {
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
                panic!("trustmint exited with {status}:\n{}", self.output());
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
                self.output()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// What the process wrote to stdout and stderr so far.
    pub fn output(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("output.log")).unwrap_or_default()
    }

    /// Stops the process with SIGTERM (a graceful shutdown: in-flight requests finish,
    /// spans are flushed), waits for it to exit successfully and returns its output.
    pub async fn stop(mut self) -> String {
        let mut child = self.child.take().expect("running");
        let status = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -TERM {} failed", child.id());
        let started = Instant::now();
        let exit = loop {
            if let Some(exit) = child.try_wait().expect("wait") {
                break exit;
            }
            if started.elapsed() > DEADLINE {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "trustmint did not stop within {DEADLINE:?}:\n{}",
                    self.output()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let _ = std::fs::remove_file(self.dir.path().join("trustmint.pid"));
        let output = self.output();
        assert!(exit.success(), "trustmint exited with {exit}:\n{output}");
        output
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The TOML of one `[[issuers]]` entry for `issuer_url` (GitHub kind) and the
/// `[[publishers]]` entry the testkit's default GitHub claims match
/// (`octo-org/sampleproject`, `release.yml`, project `sampleproject`), with rate
/// limiting off.
pub fn github_issuer_config(issuer_url: &str) -> String {
    format!(
        r#"[rate_limit]
enabled = false

[[issuers]]
url = "{issuer_url}"
kind = "github"

[[publishers]]
kind = "github"
issuer = "{issuer_url}"
projects = ["sampleproject"]
repository_owner = "octo-org"
repository_owner_id = "92345678"
repository_name = "sampleproject"
workflow_filename = "release.yml"
"#
    )
}
