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
    /// Set: TLS only (`--port 0 --tls-port PORT`).
    tls: Option<RedisTlsFiles>,
}

/// The PEM files of a TLS `redis-server`: its certificate and key, and the CA file Redis
/// requires to be configured (clients are not asked for certificates).
#[derive(Clone, Debug)]
pub struct RedisTlsFiles {
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
    pub ca_file: PathBuf,
}

impl RedisServer {
    fn pidfile(&self) -> PathBuf {
        self.dir.join(format!("redis-{}.pid", self.port))
    }

    /// The server's `redis://` URL (`rediss://` for a TLS server).
    pub fn url(&self) -> String {
        let scheme = if self.tls.is_some() {
            "rediss"
        } else {
            "redis"
        };
        format!("{scheme}://127.0.0.1:{}", self.port)
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
        match &self.tls {
            None => cmd.args(["--port", &port]),
            Some(tls) => cmd
                .args(["--port", "0", "--tls-port", &port])
                .arg("--tls-cert-file")
                .arg(&tls.cert_file)
                .arg("--tls-key-file")
                .arg(&tls.key_file)
                .arg("--tls-ca-cert-file")
                .arg(&tls.ca_file)
                .args(["--tls-auth-clients", "no"]),
        };
        cmd.args(["--bind", "127.0.0.1", "--daemonize", "yes"])
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
            || self.cli(&["ping"]).is_some_and(|r| r.trim() == "PONG"),
        );
    }

    /// Sends `signal` (e.g. `STOP`, `CONT`, `KILL`) to the process.
    pub fn signal(&self, signal: &str) {
        let pid = self.pid().expect("a started server");
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(pid.to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{signal} {pid} failed");
    }

    /// Stops the process by its pid and waits until it is gone.
    pub fn stop(&self) {
        if let Some(pid) = self.pid()
            && self.is_running()
        {
            // A stopped (SIGSTOP) process would hold SIGTERM until continued. Best
            // effort: this runs in `Drop`, where the process may have died meanwhile.
            for signal in ["-CONT", "-TERM"] {
                let _ = Command::new("kill")
                    .args([signal, &pid.to_string()])
                    .status();
            }
        }
        self.wait_dead();
    }

    /// Waits until the process is dead, then forgets its pid.
    fn wait_dead(&self) {
        let pid = self.pid().unwrap_or_default();
        wait_until(
            &format!("redis pid {pid} to exit"),
            Duration::from_secs(10),
            || !self.is_running(),
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
            tls: None,
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
        Self::unstarted_nodes(3)
    }

    /// `count` cluster-enabled nodes on reserved free ports, not running yet.
    fn unstarted_nodes(count: usize) -> Self {
        require_binary("redis-server");
        require_binary("redis-cli");
        let dir = TempDir::new().expect("tempdir");
        watchdog(dir.path());
        let nodes: Vec<RedisServer> = (0..count)
            .map(|_| RedisServer {
                port: free_port(),
                cluster: true,
                dir: dir.path().to_owned(),
                tls: None,
            })
            .collect();
        Self { nodes, _dir: dir }
    }

    /// Starts the nodes, joins them into one cluster (slots split three ways) and waits
    /// for `cluster_state:ok`.
    pub fn create(&self) {
        self.create_with_replicas(0);
    }

    /// Starts the nodes and joins them into one cluster with `replicas_per_master`
    /// replicas per master (`redis-cli --cluster create --cluster-replicas`), then waits
    /// for `cluster_state:ok`.
    fn create_with_replicas(&self, replicas_per_master: usize) {
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
            .args(["--cluster-replicas", &replicas_per_master.to_string()])
            .arg("--cluster-yes")
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
                        && info.contains(&format!("cluster_known_nodes:{}", self.nodes.len()))
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

// === Cluster with replicas: topology, failover, killed masters ===

/// How long a failover (manual or after a killed master) may take to settle.
const FAILOVER_DEADLINE: Duration = Duration::from_secs(30);

impl RedisServer {
    /// The server's port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The pid of the running process (from its pidfile), if it was started.
    pub fn pid(&self) -> Option<u32> {
        std::fs::read_to_string(self.pidfile())
            .ok()
            .and_then(|pid| pid.trim().parse().ok())
    }

    /// Whether the process is alive. A zombie (dead, not yet reaped by whoever adopted
    /// the daemon) is not: it holds no sockets and answers nothing.
    pub fn is_running(&self) -> bool {
        self.pid().is_some_and(|pid| {
            if let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) {
                // `pid (comm) state …`: the state follows the last ')'
                return stat
                    .rsplit_once(')')
                    .is_some_and(|(_, rest)| !rest.trim_start().starts_with(['Z', 'X']));
            }
            if Path::new("/proc/self").exists() {
                return false;
            }
            Command::new("kill")
                .args(["-0", &pid.to_string()])
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        })
    }

    /// Kills the process by its pid with SIGKILL (no shutdown, no last write reaches
    /// anyone) and waits until it is dead.
    pub fn kill(&self) {
        self.signal("KILL");
        self.wait_dead();
    }

    /// `redis-cli -p PORT args…` against this server (over TLS, trusting its CA, for a
    /// TLS server); `None` if it did not answer.
    pub fn cli(&self, args: &[&str]) -> Option<String> {
        match &self.tls {
            None => redis_cli(self.port, args),
            Some(tls) => {
                let ca = tls.ca_file.display().to_string();
                let mut tls_args = vec!["--tls", "--cacert", ca.as_str()];
                tls_args.extend_from_slice(args);
                redis_cli(self.port, &tls_args)
            }
        }
    }

    /// `master` or `slave`, as `ROLE` answers (`None` if the server does not answer).
    pub fn role(&self) -> Option<String> {
        self.cli(&["role"])
            .and_then(|reply| reply.lines().next().map(|line| line.trim().to_owned()))
    }
}

/// One node as a node's `CLUSTER NODES` describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterNodeInfo {
    /// The node id.
    pub id: String,
    /// Its client port.
    pub port: u16,
    /// Flagged `master` (otherwise `slave`).
    pub master: bool,
    /// Flagged `fail` or `fail?` (unreachable).
    pub failing: bool,
    /// The id of its master, for a replica.
    pub master_id: Option<String>,
    /// Slot ranges it serves (inclusive), for a master.
    pub slots: Vec<(u16, u16)>,
}

impl ClusterNodeInfo {
    /// Whether the node serves `slot`.
    pub fn serves(&self, slot: u16) -> bool {
        self.slots
            .iter()
            .any(|(from, to)| (*from..=*to).contains(&slot))
    }
}

/// Parses `CLUSTER NODES` output (`<id> <ip:port@cport> <flags> <master> <ping> <pong>
/// <epoch> <link> <slot>…`). Slots being migrated (`[…]`) are ignored.
pub fn parse_cluster_nodes(text: &str) -> Vec<ClusterNodeInfo> {
    text.lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.len() < 8 {
                return None;
            }
            let address = fields[1].split(['@', ',']).next()?;
            let port = address.rsplit(':').next()?.parse().ok()?;
            let flags: Vec<&str> = fields[2].split(',').collect();
            let slots = fields[8..]
                .iter()
                .filter(|slot| !slot.starts_with('['))
                .filter_map(|slot| match slot.split_once('-') {
                    Some((from, to)) => Some((from.parse().ok()?, to.parse().ok()?)),
                    None => slot.parse().ok().map(|one| (one, one)),
                })
                .collect();
            Some(ClusterNodeInfo {
                id: fields[0].to_owned(),
                port,
                master: flags.contains(&"master"),
                failing: flags.contains(&"fail") || flags.contains(&"fail?"),
                master_id: (fields[3] != "-").then(|| fields[3].to_owned()),
                slots,
            })
        })
        .collect()
}

impl TestCluster {
    /// Starts `masters` masters with `replicas_per_master` replicas each (`redis-cli
    /// --cluster create --cluster-replicas`), and waits until the cluster is ok and every
    /// replica is in sync with its master.
    pub fn start_with_replicas(masters: usize, replicas_per_master: usize) -> Self {
        assert!(masters >= 3, "redis-cli --cluster create needs 3 masters");
        let cluster = Self::unstarted_nodes(masters * (1 + replicas_per_master));
        cluster.create_with_replicas(replicas_per_master);
        cluster.wait_replicas_in_sync();
        cluster
    }

    /// Sets `cluster-node-timeout` on every running node (how long a node may be
    /// unreachable before it is flagged failing and a replica takes over).
    pub fn set_node_timeout(&self, timeout: Duration) {
        let millis = timeout.as_millis().to_string();
        for node in self.running() {
            let reply = node.cli(&["config", "set", "cluster-node-timeout", &millis]);
            assert_eq!(
                reply.as_deref().map(str::trim),
                Some("OK"),
                "CONFIG SET cluster-node-timeout on port {}",
                node.port
            );
        }
    }

    /// The nodes whose process is alive.
    pub fn running(&self) -> impl Iterator<Item = &RedisServer> {
        self.nodes.iter().filter(|node| node.is_running())
    }

    /// The node listening on `port`.
    pub fn node_on(&self, port: u16) -> &RedisServer {
        self.nodes
            .iter()
            .find(|node| node.port == port)
            .unwrap_or_else(|| panic!("no node of this cluster on port {port}"))
    }

    /// The cluster as `seen_by` describes it (`CLUSTER NODES`).
    pub fn topology_seen_by(&self, seen_by: &RedisServer) -> Vec<ClusterNodeInfo> {
        let text = seen_by
            .cli(&["cluster", "nodes"])
            .unwrap_or_else(|| panic!("CLUSTER NODES on port {}", seen_by.port));
        parse_cluster_nodes(&text)
    }

    /// The cluster as the first running node describes it.
    pub fn topology(&self) -> Vec<ClusterNodeInfo> {
        let node = self.running().next().expect("a running node");
        self.topology_seen_by(node)
    }

    /// The hash slot of `key` (`CLUSTER KEYSLOT`).
    pub fn slot_of(&self, key: &str) -> u16 {
        let node = self.running().next().expect("a running node");
        node.cli(&["cluster", "keyslot", key])
            .and_then(|reply| reply.trim().parse().ok())
            .expect("CLUSTER KEYSLOT")
    }

    /// The master (not failing) that serves `slot`.
    pub fn master_of_slot(&self, slot: u16) -> &RedisServer {
        let topology = self.topology();
        let master = topology
            .iter()
            .find(|node| node.master && !node.failing && node.serves(slot))
            .unwrap_or_else(|| panic!("no master serves slot {slot}: {topology:?}"));
        self.node_on(master.port)
    }

    /// The master that serves `key`.
    pub fn master_of_key(&self, key: &str) -> &RedisServer {
        self.master_of_slot(self.slot_of(key))
    }

    /// A healthy replica of `master`.
    pub fn replica_of(&self, master: &RedisServer) -> &RedisServer {
        let topology = self.topology();
        let master_id = &topology
            .iter()
            .find(|node| node.port == master.port)
            .expect("the master in the topology")
            .id;
        let replica = topology
            .iter()
            .find(|node| !node.failing && node.master_id.as_ref() == Some(master_id))
            .unwrap_or_else(|| panic!("port {} has no replica: {topology:?}", master.port));
        self.node_on(replica.port)
    }

    /// The slot ranges `master` serves now.
    pub fn slots_of(&self, master: &RedisServer) -> Vec<(u16, u16)> {
        self.topology_seen_by(master)
            .into_iter()
            .find(|node| node.port == master.port)
            .map(|node| node.slots)
            .unwrap_or_default()
    }

    /// `CLUSTER FAILOVER` on `replica` (coordinated with its master: no acknowledged
    /// write is lost), then waits until it is promoted and the cluster is ok again.
    /// Returns how long the promotion took.
    pub fn manual_failover(&self, replica: &RedisServer) -> Duration {
        let started = Instant::now();
        let reply = replica.cli(&["cluster", "failover"]);
        assert_eq!(
            reply.as_deref().map(str::trim),
            Some("OK"),
            "CLUSTER FAILOVER on port {}",
            replica.port
        );
        self.wait_promoted(replica);
        started.elapsed()
    }

    /// Waits until `replica` is a master serving slots, seen so by every running node, and
    /// every running node reports `cluster_state:ok`.
    pub fn wait_promoted(&self, replica: &RedisServer) {
        wait_until(
            &format!("port {} to be promoted", replica.port),
            FAILOVER_DEADLINE,
            || {
                replica.role().as_deref() == Some("master")
                    && self.running().all(|node| {
                        let promoted = self.topology_seen_by(node).iter().any(|seen| {
                            seen.port == replica.port && seen.master && !seen.slots.is_empty()
                        });
                        promoted
                            && node
                                .cli(&["cluster", "info"])
                                .is_some_and(|info| info.contains("cluster_state:ok"))
                    })
            },
        );
    }

    /// Waits until every running replica reports its link to the master up.
    pub fn wait_replicas_in_sync(&self) {
        for node in self.running() {
            wait_until(
                &format!("replica on port {} in sync", node.port),
                FAILOVER_DEADLINE,
                || {
                    node.role().as_deref() == Some("master")
                        || node
                            .cli(&["info", "replication"])
                            .is_some_and(|info| info.contains("master_link_status:up"))
                },
            );
        }
    }
}

impl OwnedRedis {
    /// A TLS-only server (`--port 0 --tls-port`) on a free port, not started yet, with
    /// the certificate and key of `files`; its URL is `rediss://127.0.0.1:PORT`.
    pub fn tls_on_free_port(files: RedisTlsFiles) -> Self {
        let mut owned = Self::on_free_port();
        owned.server.tls = Some(files);
        owned
    }
}

#[cfg(test)]
mod cluster_nodes_tests {
    use super::*;

    #[test]
    fn parses_masters_replicas_slots_and_failures() {
        let text = "\
07c3 127.0.0.1:30004@40004 slave e7d1 0 1426238317239 4 connected
67ed 127.0.0.1:30002@40002,host master - 0 1426238316232 2 connected 5461-10922
e7d1 127.0.0.1:30001@40001 myself,master - 0 0 1 connected 0-5460 12000 [5461->-67ed]
6ec2 127.0.0.1:30005@40005 master,fail 67ed 1426238316232 1426238316232 5 disconnected
";
        let nodes = parse_cluster_nodes(text);
        assert_eq!(nodes.len(), 4);
        assert_eq!(nodes[0].port, 30004);
        assert!(!nodes[0].master);
        assert_eq!(nodes[0].master_id.as_deref(), Some("e7d1"));
        assert_eq!(nodes[1].slots, vec![(5461, 10922)]);
        assert!(nodes[1].serves(10922) && !nodes[1].serves(10923));
        assert_eq!(nodes[2].slots, vec![(0, 5460), (12000, 12000)]);
        assert!(nodes[2].master && !nodes[2].failing);
        assert!(nodes[3].failing && nodes[3].slots.is_empty());
    }
}
