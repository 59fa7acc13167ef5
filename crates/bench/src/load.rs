//! The load generator: `concurrency` tasks, each with its own client, take request
//! numbers from one shared counter until the plan is done, and time every request.
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
                match call(client.clone(), number).await {
                    Ok(()) => mine
                        .latencies_ns
                        .push(u64::try_from(sent.elapsed().as_nanos()).unwrap_or(u64::MAX)),
                    Err(kind) => *mine.failures.entry(kind).or_default() += 1,
                }
            }
            mine
        }));
    }
    let mut total = LoadResult::default();
    for worker in workers {
        match worker.await {
            Ok(mine) => {
                total.latencies_ns.extend(mine.latencies_ns);
                for (kind, count) in mine.failures {
                    *total.failures.entry(kind).or_default() += count;
                }
            }
            Err(error) => {
                *total
                    .failures
                    .entry(format!("load worker panicked: {error}"))
                    .or_default() += 1;
            }
        }
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
}
