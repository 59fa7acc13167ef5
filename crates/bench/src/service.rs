//! The parent's handle on the service child: start it, learn its ports, read its RSS
//! and CPU time from `/proc`, stop it.

use std::io::{BufRead as _, BufReader};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::child::{ChildSpec, READY_MARKER, ReadyLine};
use crate::error::BenchError;

/// How long the child may take to bind its listeners.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a graceful stop may take before the child is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(15);

/// `/proc/<pid>/stat` counts CPU time in USER_HZ ticks, which Linux fixes at 100 for
/// user space on every architecture it runs on.
const USER_HZ: f64 = 100.0;

/// A running service child process.
#[derive(Debug)]
pub(crate) struct ServiceProcess {
    child: Child,
    stdin: Option<ChildStdin>,
    /// `http://127.0.0.1:PORT`.
    pub(crate) http_url: String,
    /// `http://127.0.0.1:PORT` of the gRPC listener.
    pub(crate) grpc_url: String,
}

impl ServiceProcess {
    /// Starts `trustmint-bench serve-child` with `spec` and waits until it listens.
    /// `backtraces` runs it with `RUST_LIB_BACKTRACE=1` instead of `0`.
    pub(crate) fn start(spec: &ChildSpec, backtraces: bool) -> Result<Self, BenchError> {
        let exe = std::env::current_exe().map_err(BenchError::io("locating the bench binary"))?;
        let mut child = Command::new(exe)
            .arg("serve-child")
            .arg("--spec")
            .arg(serde_json::to_string(spec)?)
            .env("RUST_LIB_BACKTRACE", if backtraces { "1" } else { "0" })
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(BenchError::io("starting the service process"))?;
        let stdin = child.stdin.take();
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| BenchError::Service("no stdout pipe".to_owned()))?;
        let (ready_tx, ready_rx) = mpsc::channel::<ReadyLine>();
        // Reads the ready line, then drains the service's logs for the rest of its life
        // (a full pipe would block the service's log writes and skew the numbers).
        std::thread::spawn(move || {
            let mut ready_tx = Some(ready_tx);
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(rest) = line.strip_prefix(READY_MARKER)
                    && let Some(tx) = ready_tx.take()
                    && let Ok(ready) = serde_json::from_str::<ReadyLine>(rest)
                {
                    let _ = tx.send(ready);
                }
            }
        });
        let ready = match ready_rx.recv_timeout(STARTUP_TIMEOUT) {
            Ok(ready) => ready,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(BenchError::Service(
                    "the service did not report its listeners (see its stderr above)".to_owned(),
                ));
            }
        };
        Ok(Self {
            child,
            stdin,
            http_url: format!("http://{}", ready.http),
            grpc_url: format!("http://{}", ready.grpc),
        })
    }

    /// The child's pid.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resident set size of the service process, in bytes (`VmRSS`).
    pub(crate) fn rss_bytes(&self) -> Result<u64, BenchError> {
        status_bytes_of(&format!("/proc/{}/status", self.pid()), "VmRSS:")
    }

    /// Peak resident set size of the service process so far, in bytes (`VmHWM`).
    pub(crate) fn peak_rss_bytes(&self) -> Result<u64, BenchError> {
        status_bytes_of(&format!("/proc/{}/status", self.pid()), "VmHWM:")
    }

    /// User + system CPU time the service process has used so far.
    pub(crate) fn cpu_time(&self) -> Result<Duration, BenchError> {
        cpu_time_of(&format!("/proc/{}/stat", self.pid()))
    }

    /// Closes the child's stdin (its shutdown signal), waits for a graceful stop, and
    /// kills it if that takes too long. Returns whether it stopped gracefully.
    pub(crate) fn stop(mut self) -> bool {
        drop(self.stdin.take());
        let deadline = Instant::now() + STOP_TIMEOUT;
        while Instant::now() < deadline {
            match self.child.try_wait() {
                Ok(Some(status)) => return status.success(),
                Ok(None) => std::thread::sleep(Duration::from_millis(50)),
                Err(_) => break,
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        false
    }
}

impl Drop for ServiceProcess {
    fn drop(&mut self) {
        // `stop` consumed the stdin; anything else (an error path) must not leave the
        // child running.
        if self.stdin.is_some() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// This process's own CPU time (the load generator and the test issuer).
pub(crate) fn own_cpu_time() -> Result<Duration, BenchError> {
    cpu_time_of("/proc/self/stat")
}

pub(crate) fn status_bytes_of(path: &str, field: &str) -> Result<u64, BenchError> {
    let status =
        std::fs::read_to_string(path).map_err(BenchError::io(format!("reading {path}")))?;
    parse_status_kib(&status, field)
        .ok_or_else(|| BenchError::Service(format!("no {field} line in {path}")))
}

pub(crate) fn cpu_time_of(path: &str) -> Result<Duration, BenchError> {
    let stat = std::fs::read_to_string(path).map_err(BenchError::io(format!("reading {path}")))?;
    let ticks = parse_cpu_ticks(&stat)
        .ok_or_else(|| BenchError::Service(format!("no utime/stime in {path}")))?;
    Ok(Duration::from_secs_f64(ticks as f64 / USER_HZ))
}

/// A `kB` field (`VmRSS:`, `VmHWM:`) of a `/proc/<pid>/status` text, in bytes.
fn parse_status_kib(status: &str, field: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.trim().strip_suffix("kB"))
        .and_then(|kib| kib.trim().parse::<u64>().ok())
        .map(|kib| kib * 1024)
}

/// utime + stime (in ticks) of a `/proc/<pid>/stat` line.
fn parse_cpu_ticks(stat: &str) -> Option<u64> {
    // The command name (field 2, in parentheses) may contain spaces and parentheses;
    // everything after its last ')' is plain. Field 3 is the first after it, so utime
    // (field 14) and stime (field 15) sit at indexes 11 and 12.
    let (_, after_name) = stat.rsplit_once(')')?;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let user = fields.get(11)?.parse::<u64>().ok()?;
    let system = fields.get(12)?.parse::<u64>().ok()?;
    Some(user + system)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_proc_files() {
        let status = "Name:\ttrustmint-bench\nVmPeak:\t  9000 kB\nVmHWM:\t   30720 kB\nVmRSS:\t   20480 kB\nThreads:\t5\n";
        assert_eq!(parse_status_kib(status, "VmRSS:"), Some(20_971_520));
        assert_eq!(parse_status_kib(status, "VmHWM:"), Some(31_457_280));
        assert_eq!(parse_status_kib("Name:\tx\n", "VmRSS:"), None);
        let stat =
            "4242 (trust mint) (x)) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 50 0 0 20 0 7 0";
        assert_eq!(parse_cpu_ticks(stat), Some(300));
        assert_eq!(parse_cpu_ticks("4242 (x) S 1"), None);
    }

    #[test]
    fn reads_this_process() {
        let rss = status_bytes_of("/proc/self/status", "VmRSS:").expect("VmRSS of this process");
        assert!(
            (1 << 20..1 << 36).contains(&rss),
            "a test binary's RSS: {rss}"
        );
        let cpu = own_cpu_time().expect("CPU time of this process");
        assert!(cpu < Duration::from_secs(3600), "CPU time so far: {cpu:?}");
    }
}
