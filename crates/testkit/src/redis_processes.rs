//! Redis for tests: the machine's Redis at 127.0.0.1:6379 (each test under its own key
//! prefix), and processes the tests start and stop themselves: single servers on free
//! ports (for the fault tests) and 3-master clusters. Every process is stopped by its
//! pid, in `Drop` and, should the test process die without unwinding, by a watchdog
//! shell that outlives it by at most a second. A missing Redis fails the test with
//! [`START_REDIS_HINT`], never skips it.

use std::collections::HashSet;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{LazyLock, Mutex};
use std::thread::sleep;
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// The Redis every machine of the project runs (nothing persisted).
pub const LOCAL_REDIS_URL: &str = "redis://127.0.0.1:6379";

/// How to get Redis on a machine that lacks it.
pub const START_REDIS_HINT: &str = "these tests need Redis: start one with \
`redis-server --daemonize yes --port 6379 --save \"\" --appendonly no` \
(Debian: `apt-get install -y redis-server`)";

/// Fails the test, saying how to start Redis, when 127.0.0.1:6379 does not answer PING.
pub fn require_local_redis() {
    let answered = (|| -> std::io::Result<bool> {
        let mut stream = TcpStream::connect_timeout(
            &"127.0.0.1:6379".parse().expect("addr"),
            Duration::from_secs(2),
        )?;
        stream.set_read_timeout(Some(Duration::from_secs(2)))?;
        stream.write_all(b"PING\r\n")?;
        let mut reply = [0u8; 7];
        stream.read_exact(&mut reply)?;
        Ok(&reply == b"+PONG\r\n")
    })();
    assert!(
        matches!(answered, Ok(true)),
        "Redis at 127.0.0.1:6379 did not answer PING ({answered:?}); {START_REDIS_HINT}"
    );
}

/// A key prefix no other test uses.
pub fn unique_prefix() -> String {
    format!("test:{}:", uuid::Uuid::new_v4())
}

/// Ports handed out in this process, so parallel tests never pick the same one.
static TAKEN_PORTS: LazyLock<Mutex<HashSet<u16>>> = LazyLock::new(Mutex::default);

/// A port that is free, and whose Cluster bus port (+10000) is free too.
pub fn free_port() -> u16 {
    let mut taken = TAKEN_PORTS.lock().unwrap_or_else(|e| e.into_inner());
    for _ in 0..1_000 {
        let candidate = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("an ephemeral port");
        // The OS's pick is only a source of randomness: map it below the ephemeral
        // range (32768+) so neither the port nor its bus port (+10000) can be taken by
        // an outgoing connection's local port between a stop and a restart.
        let port = 20_000 + candidate % 2_700;
        let bus_port = port + 10_000;
        if taken.contains(&port) {
            continue;
        }
        let both_free = TcpListener::bind(("127.0.0.1", port)).is_ok()
            && TcpListener::bind(("127.0.0.1", bus_port)).is_ok();
        if both_free {
            taken.insert(port);
            return port;
        }
    }
    panic!("no free port pair found");
}

fn require_binary(name: &str) {
    let found = Command::new(name)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(found, "`{name}` not found on PATH; {START_REDIS_HINT}");
}

fn redis_cli(port: u16, args: &[&str]) -> Option<String> {
    let output = Command::new("redis-cli")
        .arg("-p")
        .arg(port.to_string())
        .args(args)
        .stderr(Stdio::null())
        .output()
        .ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
}

fn wait_until(what: &str, deadline: Duration, mut ready: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ready() {
        assert!(start.elapsed() < deadline, "timed out waiting for {what}");
        sleep(Duration::from_millis(50));
    }
}

/// Kills every process whose pidfile is in `dir` once the test process has exited. The
/// shell backgrounds the watch loop and exits at once, so the loop is adopted by init
/// and outlives this process, while the shell itself is waited for (no zombie).
fn watchdog(dir: &Path) {
    let script = format!(
        "( while kill -0 {pid} 2>/dev/null; do sleep 0.5; done; \
           for f in '{dir}'/*.pid; do [ -f \"$f\" ] && kill \"$(cat \"$f\")\"; done; \
           sleep 1; rm -rf '{dir}' ) >/dev/null 2>&1 &",
        pid = std::process::id(),
        dir = dir.display()
    );
    let status = Command::new("sh")
        .arg("-c")
        .arg(script)
        .stdin(Stdio::null())
        .status()
        .expect("start the watchdog");
    assert!(status.success(), "watchdog did not start");
}

/// One `redis-server` on its own port, in its own directory.
#[derive(Debug)]
pub struct RedisServer {
    port: u16,
    cluster: bool,
    dir: PathBuf,
}

impl RedisServer {
    fn pidfile(&self) -> PathBuf {
        self.dir.join(format!("redis-{}.pid", self.port))
    }

    /// The server's `redis://` URL.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Starts (or restarts) the process and waits until it answers PING.
    pub fn start(&self) {
        self.start_with(&[]);
    }

    /// Starts (or restarts) the process with `extra` arguments after the defaults (a
    /// later `--option` wins, e.g. `["--appendonly", "yes"]` for a server whose data
    /// survives a SIGKILL), and waits until it answers PING.
    pub fn start_with(&self, extra: &[&str]) {
        let port = self.port.to_string();
        let mut cmd = Command::new("redis-server");
        cmd.args(["--port", &port, "--bind", "127.0.0.1", "--daemonize", "yes"])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--pidfile")
            .arg(self.pidfile())
            .arg("--dir")
            .arg(&self.dir)
            .arg("--logfile")
            .arg(self.dir.join(format!("redis-{port}.log")));
        if self.cluster {
            cmd.args(["--cluster-enabled", "yes", "--cluster-node-timeout", "2000"])
                .arg("--cluster-config-file")
                .arg(self.dir.join(format!("nodes-{port}.conf")));
        }
        cmd.args(extra);
        let status = cmd.status().expect("run redis-server");
        assert!(
            status.success(),
            "redis-server on port {port} did not start"
        );
        wait_until(
            &format!("redis on port {port}"),
            Duration::from_secs(10),
            || redis_cli(self.port, &["ping"]).is_some_and(|r| r.trim() == "PONG"),
        );
    }

    /// Runs `redis-cli` against this server; its output, or `None` when it failed.
    pub fn cli(&self, args: &[&str]) -> Option<String> {
        redis_cli(self.port, args)
    }

    /// Sends `signal` (e.g. `STOP`, `CONT`, `KILL`) to the process.
    pub fn signal(&self, signal: &str) {
        let pid = std::fs::read_to_string(self.pidfile()).expect("running server");
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(pid.trim())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{signal} failed");
    }

    /// Stops the process by its pid and waits until it is gone.
    pub fn stop(&self) {
        let Ok(pid) = std::fs::read_to_string(self.pidfile()) else {
            return;
        };
        let pid = pid.trim().to_owned();
        // a stopped (SIGSTOP) process would hold SIGTERM until continued
        let _ = Command::new("kill").args(["-CONT", &pid]).status();
        let _ = Command::new("kill").arg(&pid).status();
        wait_until(
            &format!("redis pid {pid} to exit"),
            Duration::from_secs(10),
            || {
                !Command::new("kill")
                    .args(["-0", &pid])
                    .stderr(Stdio::null())
                    .status()
                    .is_ok_and(|s| s.success())
            },
        );
        let _ = std::fs::remove_file(self.pidfile());
    }
}

/// A standalone server owned by one test.
#[derive(Debug)]
pub struct OwnedRedis {
    pub server: RedisServer,
    _dir: TempDir,
}

impl OwnedRedis {
    /// A server on a free port, not started yet.
    pub fn on_free_port() -> Self {
        require_binary("redis-server");
        require_binary("redis-cli");
        let dir = TempDir::new().expect("tempdir");
        watchdog(dir.path());
        let server = RedisServer {
            port: free_port(),
            cluster: false,
            dir: dir.path().to_owned(),
        };
        Self { server, _dir: dir }
    }
}

impl Drop for OwnedRedis {
    fn drop(&mut self) {
        self.server.stop();
    }
}

/// A Redis Cluster of three masters (no replicas) on free ports.
#[derive(Debug)]
pub struct TestCluster {
    pub nodes: Vec<RedisServer>,
    _dir: TempDir,
}

impl TestCluster {
    /// Starts three cluster-enabled servers, joins them and waits for `cluster_state:ok`.
    pub fn start() -> Self {
        let cluster = Self::unstarted();
        cluster.create();
        cluster
    }

    /// Three nodes on reserved free ports, not running yet.
    pub fn unstarted() -> Self {
        require_binary("redis-server");
        require_binary("redis-cli");
        let dir = TempDir::new().expect("tempdir");
        watchdog(dir.path());
        let nodes: Vec<RedisServer> = (0..3)
            .map(|_| RedisServer {
                port: free_port(),
                cluster: true,
                dir: dir.path().to_owned(),
            })
            .collect();
        Self { nodes, _dir: dir }
    }

    /// Starts the nodes, joins them into one cluster (slots split three ways) and waits
    /// for `cluster_state:ok`.
    pub fn create(&self) {
        for node in &self.nodes {
            node.start();
        }
        let addresses: Vec<String> = self
            .nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.port))
            .collect();
        let created = Command::new("redis-cli")
            .arg("--cluster")
            .arg("create")
            .args(&addresses)
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("run redis-cli --cluster create");
        assert!(created.success(), "redis-cli --cluster create failed");
        self.wait_ok();
    }

    /// Seed URLs for `cluster_urls`.
    pub fn urls(&self) -> Vec<String> {
        self.nodes.iter().map(RedisServer::url).collect()
    }

    /// Waits until every node reports a healthy cluster with all slots and nodes known.
    pub fn wait_ok(&self) {
        for node in &self.nodes {
            wait_until("cluster_state:ok", Duration::from_secs(20), || {
                redis_cli(node.port, &["cluster", "info"]).is_some_and(|info| {
                    info.contains("cluster_state:ok")
                        && info.contains("cluster_slots_assigned:16384")
                        && info.contains("cluster_known_nodes:3")
                })
            });
        }
    }

    /// Stops every node.
    pub fn stop_all(&self) {
        for node in &self.nodes {
            node.stop();
        }
    }

    /// Restarts every node (same ports and cluster config) and waits for the cluster.
    pub fn start_all(&self) {
        for node in &self.nodes {
            node.start();
        }
        self.wait_ok();
    }
}

impl Drop for TestCluster {
    fn drop(&mut self) {
        self.stop_all();
    }
}

/// The cluster the conformance tests share. Statics are never dropped, so the watchdog
/// stops its nodes when the test process exits.
pub static SHARED_CLUSTER: LazyLock<TestCluster> = LazyLock::new(TestCluster::start);
