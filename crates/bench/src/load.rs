//! The load generators. Closed loop ([`run`]): `concurrency` tasks, each with its own
//! client, take request numbers from one shared counter until the plan is done, and
//! time every request. Open loop ([`run_at_rate`]): requests start on a fixed schedule
//! whatever the service's speed, and each is timed from when it *should* have started,
//! so a stall shows up in every request it delayed (no coordinated omission).
//! Only successes contribute latencies; failures are counted by kind.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// How much load to offer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LoadPlan {
    /// Requests to send at most (request numbers `0..requests`).
    pub(crate) requests: usize,
    /// Requests in flight at once.
    pub(crate) concurrency: usize,
    /// Stop starting requests after this long, even if `requests` are not all sent.
    pub(crate) duration: Option<Duration>,
}

/// What one request concluded; the error names the failure kind (e.g. `http 422
/// invalid-reuse-token`) and becomes a counter key, so keep it low-cardinality.
pub(crate) type Outcome = Result<(), String>;

/// What a load run measured.
#[derive(Debug, Default)]
pub(crate) struct LoadResult {
    /// Latency of every successful request, in nanoseconds.
    pub(crate) latencies_ns: Vec<u64>,
    /// Failed requests by kind.
    pub(crate) failures: BTreeMap<String, u64>,
    /// From the first request's start to the last one's end.
    pub(crate) elapsed: Duration,
}

impl LoadResult {
    /// Successful requests.
    pub(crate) fn successes(&self) -> u64 {
        self.latencies_ns.len() as u64
    }

    /// Failed requests.
    pub(crate) fn failure_count(&self) -> u64 {
        self.failures.values().sum()
    }

    /// Counts one request: its latency if it succeeded, its failure kind if not.
    fn record(&mut self, outcome: Outcome, latency: Duration) {
        match outcome {
            Ok(()) => self
                .latencies_ns
                .push(u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX)),
            Err(kind) => *self.failures.entry(kind).or_default() += 1,
        }
    }

    /// Adds `other`'s requests to these.
    fn merge(&mut self, other: LoadResult) {
        self.latencies_ns.extend(other.latencies_ns);
        for (kind, count) in other.failures {
            *self.failures.entry(kind).or_default() += count;
        }
    }
}

/// Runs `plan`: worker `w` calls `call(clients[w % clients.len()].clone(), n)` for each
/// request number `n` it takes. `clients` must not be empty.
pub(crate) async fn run<C, F, Fut>(plan: LoadPlan, clients: &[C], call: F) -> LoadResult
where
    C: Clone + Send + 'static,
    F: Fn(C, usize) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = Outcome> + Send,
{
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let deadline = plan.duration.map(|duration| started + duration);
    let mut workers = Vec::with_capacity(plan.concurrency);
    for worker in 0..plan.concurrency.max(1) {
        let Some(client) = clients.get(worker % clients.len().max(1)).cloned() else {
            break;
        };
        let next = next.clone();
        let call = call.clone();
        let requests = plan.requests;
        workers.push(tokio::spawn(async move {
            let mut mine = LoadResult::default();
            loop {
                if deadline.is_some_and(|deadline| Instant::now() >= deadline) {
                    break;
                }
                let number = next.fetch_add(1, Ordering::Relaxed);
                if number >= requests {
                    break;
                }
                let sent = Instant::now();
                let outcome = call(client.clone(), number).await;
                mine.record(outcome, sent.elapsed());
            }
            mine
        }));
    }
    let mut total = LoadResult::default();
    for worker in workers {
        match worker.await {
            Ok(mine) => total.merge(mine),
            Err(error) => total.record(
                Err(format!("load worker panicked: {error}")),
                Duration::ZERO,
            ),
        }
    }
    total.elapsed = started.elapsed();
    total
}

/// An open-loop schedule: `requests` requests, one every `1 / rate` seconds.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RatePlan {
    /// Requests to send.
    pub(crate) requests: usize,
    /// Requests started per second.
    pub(crate) rate: f64,
    /// Requests in flight at most; later ones wait (and their wait counts as latency).
    pub(crate) max_in_flight: usize,
}

/// Runs `plan`: request `n` is due at `start + n / rate`; it calls
/// `call(clients[n % clients.len()].clone(), n)`, and its latency runs from the due
/// time to the answer. The schedule is kept by a dedicated thread with `nanosleep`
/// precision (tokio's timer has 1 ms granularity, too coarse for 5,000/s).
/// `clients` must not be empty.
pub(crate) async fn run_at_rate<C, F, Fut>(plan: RatePlan, clients: &[C], call: F) -> LoadResult
where
    C: Clone + Send + 'static,
    F: Fn(C, usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Outcome> + Send + 'static,
{
    let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel::<(Outcome, Duration)>();
    let runtime = tokio::runtime::Handle::current();
    let in_flight = Arc::new(tokio::sync::Semaphore::new(plan.max_in_flight.max(1)));
    let clients: Vec<C> = clients.to_vec();
    let interval = Duration::from_secs_f64(1.0 / plan.rate.max(f64::MIN_POSITIVE));
    let started = Instant::now();
    let dispatcher = std::thread::spawn(move || {
        for number in 0..plan.requests {
            let due = started + interval.mul_f64(number as f64);
            let now = Instant::now();
            if due > now {
                std::thread::sleep(due - now);
            }
            let Some(client) = clients.get(number % clients.len().max(1)).cloned() else {
                break;
            };
            let request = call(client, number);
            let (in_flight, done_tx) = (in_flight.clone(), done_tx.clone());
            runtime.spawn(async move {
                let _permit = in_flight.acquire_owned().await;
                let outcome = request.await;
                let _ = done_tx.send((outcome, due.elapsed()));
            });
        }
    });
    let mut total = LoadResult::default();
    while let Some((outcome, latency)) = done_rx.recv().await {
        total.record(outcome, latency);
    }
    if dispatcher.join().is_err() {
        total.record(
            Err("the dispatcher thread panicked".to_owned()),
            Duration::ZERO,
        );
    }
    total.elapsed = started.elapsed();
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sends_each_request_number_once_and_counts_failures() {
        let plan = LoadPlan {
            requests: 100,
            concurrency: 7,
            duration: None,
        };
        let result = run(plan, &[(), ()], |(), number| async move {
            if number % 10 == 0 {
                Err("tenth".to_owned())
            } else {
                Ok(())
            }
        })
        .await;
        assert_eq!(result.successes(), 90);
        assert_eq!(result.failures, BTreeMap::from([("tenth".to_owned(), 10)]));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn stops_at_the_duration() {
        let plan = LoadPlan {
            requests: usize::MAX,
            concurrency: 2,
            duration: Some(Duration::from_millis(50)),
        };
        let result = run(plan, &[()], |(), _| async {
            tokio::time::sleep(Duration::from_millis(5)).await;
            Ok(())
        })
        .await;
        assert!(
            result.elapsed < Duration::from_millis(500),
            "{:?}",
            result.elapsed
        );
        assert!(
            (2..=40).contains(&result.successes()),
            "{}",
            result.successes()
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn open_loop_keeps_the_schedule_and_times_from_the_due_time() {
        let plan = RatePlan {
            requests: 50,
            rate: 1_000.0,
            max_in_flight: 1,
        };
        // One request at a time, each 5 ms: the schedule (1 per ms) outruns the service,
        // so later requests wait and their latency grows with their number.
        let result = run_at_rate(plan, &[()], |(), number| async move {
            tokio::time::sleep(Duration::from_millis(5)).await;
            if number == 7 {
                Err("seventh".to_owned())
            } else {
                Ok(())
            }
        })
        .await;
        assert_eq!(result.successes(), 49);
        assert_eq!(result.failures, BTreeMap::from([("seventh".to_owned(), 1)]));
        let slowest = result.latencies_ns.iter().copied().max().unwrap_or(0);
        // The last request is due at 49 ms but cannot start before 50 × 5 ms = 250 ms.
        assert!(slowest >= 150_000_000, "slowest {slowest} ns");
    }
}
