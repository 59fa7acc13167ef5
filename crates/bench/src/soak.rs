//! `trustmint-bench --soak` (`just soak MINUTES`): does the service stay healthy for a
//! long run? It starts its own redis-server on a free port, an ES256 test issuer and the
//! service (config file + `[keys] secrets_dir`), probes the capacity of the mixed load
//! for a few seconds (closed loop), then offers half of it open-loop for the run, while
//!
//! - every period (a minute in runs of 5 minutes or more) it rotates the minting key —
//!   new key file, new `[keys] current`, SIGHUP — and, half a period later, changes the
//!   publishers (gRPC CreatePublisher of a new one, DeletePublisher of the previous);
//! - every sixth of a period (10 s) it samples the service's RSS, open fds and CPU, and
//!   Redis' memory and PING latency.
//!
//! It passes when no request failed, RSS and fds are flat after the warm-up (20 % of the
//! run) and each period's p99 stayed within 2× of the first period's
//! (`soak_verdict`). Report: `target/soak/report.json` and `target/soak/plot.png`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use trustmint_grpc::pb;
use trustmint_testkit::redis_processes::OwnedRedis;
use trustmint_testkit::{IssuerOptions, KeyAlgorithm, TestIssuer};

use crate::cli::{Cli, SoakEvent};
use crate::clients::{self, PublisherClient};
use crate::error::BenchError;
use crate::jwts::unix_now;
use crate::soak_load::{self, Rounds};
use crate::soak_report::{self, Event, SoakPlan, SoakReport, SoakVerdict, Traffic};
use crate::soak_sampler::{self, ResourceSample};
use crate::soak_service::{ServiceSetup, SoakService};
use crate::soak_verdict::{self, FD_GROWTH_TOLERANCE, RSS_GROWTH_TOLERANCE, Tolerance};

/// The offered load, as a fraction of the probed capacity.
const LOAD_FRACTION: f64 = 0.5;

/// HTTP clients (one connection pool each, as CI runners) and gRPC clients (sharing two
/// HTTP/2 connections, as an index does); also the closed loop's concurrency.
const CLIENTS: usize = 32;

/// Sampling windows per period.
const SAMPLES_PER_PERIOD: usize = 6;

/// The shortest soak (6 s): below it there are too few samples to judge a trend.
const MIN_MINUTES: f64 = 0.1;

/// The durations of a `minutes`-long soak: a period of a minute (a fifth of the run when
/// that is shorter), six samples per period, a warm-up of 20 % of the run, and a
/// capacity probe of a tenth of the run between 1 and 5 s.
pub(crate) fn plan_for(minutes: f64, skipped: &[SoakEvent]) -> Result<SoakPlan, BenchError> {
    if !(minutes.is_finite() && minutes >= MIN_MINUTES) {
        return Err(BenchError::Setup(format!(
            "--soak-minutes must be at least {MIN_MINUTES}"
        )));
    }
    let run_secs = minutes * 60.0;
    let period_secs = (run_secs / 5.0).min(60.0);
    Ok(SoakPlan {
        run_secs,
        period_secs,
        sample_secs: period_secs / SAMPLES_PER_PERIOD as f64,
        warm_up_secs: run_secs * 0.2,
        probe_secs: (run_secs / 10.0).clamp(1.0, 5.0),
        load_fraction: LOAD_FRACTION,
        skipped: skipped.to_vec(),
    })
}

/// What happens when, in seconds from the start of the steady load.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Step {
    /// A resource sample.
    Sample,
    /// Key rotation number `n` (1 = the first).
    Rotate(usize),
    /// Publisher change number `n` (0 = the first creation).
    ChangePublisher(usize),
}

/// Samples every `sample_secs` from 0 to the end inclusive; rotations at each period
/// boundary inside the run; publisher changes half a period after each boundary. Samples
/// first when two coincide.
fn schedule(plan: &SoakPlan) -> Vec<(f64, Step)> {
    let mut steps = Vec::new();
    let samples = (plan.run_secs / plan.sample_secs).round() as usize;
    for n in 0..=samples {
        steps.push((n as f64 * plan.sample_secs, Step::Sample));
    }
    let periods = (plan.run_secs / plan.period_secs).round() as usize;
    if !plan.skipped.contains(&SoakEvent::Rotations) {
        for n in 1..periods {
            steps.push((n as f64 * plan.period_secs, Step::Rotate(n)));
        }
    }
    if !plan.skipped.contains(&SoakEvent::PublisherChanges) {
        for n in 0..periods {
            steps.push((
                (n as f64 + 0.5) * plan.period_secs,
                Step::ChangePublisher(n),
            ));
        }
    }
    steps.sort_by(|(a, step_a), (b, step_b)| {
        a.total_cmp(b)
            .then_with(|| (*step_a != Step::Sample).cmp(&(*step_b != Step::Sample)))
    });
    steps
}

/// Where the report goes: `--soak-dir`, else `<target dir>/soak`.
fn soak_dir(cli: &Cli) -> PathBuf {
    cli.soak_dir
        .clone()
        .unwrap_or_else(|| crate::report::target_dir().join("soak"))
}

/// A redis-server of the soak's own on a free port (a shared Redis would mix other
/// traffic into its memory and latency figures).
fn start_redis() -> Result<OwnedRedis, BenchError> {
    let found = std::process::Command::new("redis-server")
        .arg("--version")
        .stdout(std::process::Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !found {
        return Err(BenchError::Setup(format!(
            "the soak starts its own redis-server, and none is on PATH ({})",
            trustmint_testkit::redis_processes::START_REDIS_HINT
        )));
    }
    Ok(tokio::task::block_in_place(|| {
        let redis = OwnedRedis::on_free_port();
        redis.server.start();
        redis
    }))
}

/// Runs the soak and writes its report; `Err(Verdict)` when it failed.
pub(crate) async fn run(cli: &Cli) -> Result<(), BenchError> {
    let plan = plan_for(cli.soak_minutes, &cli.soak_skip)?;
    let dir = soak_dir(cli);
    let mut notes = Vec::new();
    if cfg!(debug_assertions) {
        notes.push("debug build of the load generator: only the verdict's mechanics mean anything, not its numbers".to_owned());
    }
    eprintln!(
        "soak: {:.1} min; period {:.1} s, sample every {:.1} s, warm-up {:.1} s",
        plan.run_secs / 60.0,
        plan.period_secs,
        plan.sample_secs,
        plan.warm_up_secs
    );
    let redis = start_redis()?;
    let redis_url = redis.server.url();
    let issuer = Arc::new(
        TestIssuer::start_with(IssuerOptions {
            algorithm: KeyAlgorithm::ES256,
            ..IssuerOptions::default()
        })
        .await,
    );
    let grpc_auth_token = format!("soak-{}", uuid::Uuid::new_v4().simple());
    let setup = ServiceSetup {
        service_bin: cli.service_bin.clone(),
        redis_url: redis_url.clone(),
        issuer_url: issuer.url(),
        grpc_auth_token: grpc_auth_token.clone(),
    };
    let service_name = match &cli.service_bin {
        Some(bin) => format!("{} serve --config FILE", bin.display()),
        None => "trustmint-bench serve-config --config FILE (trustmint serve's calls)".to_owned(),
    };
    let control = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|error| BenchError::Setup(format!("HTTP client: {error}")))?;
    let mut service = SoakService::start(setup, &control).await?;
    eprintln!(
        "service pid {} ({service_name}), redis {redis_url}",
        service.pid()
    );

    let outcome = soak(
        &plan,
        &mut service,
        &issuer,
        &redis_url,
        &grpc_auth_token,
        &control,
    )
    .await;
    let warnings = service.warnings();
    let stopped_gracefully = tokio::task::block_in_place(|| service.stop());
    tokio::task::block_in_place(|| drop(redis));
    let measured = outcome?;

    let samples = measured.samples;
    let mut traffic = measured.traffic;
    let periods = traffic.periods(SAMPLES_PER_PERIOD);
    let windows = traffic.windows();
    let slowest_seconds = traffic.slowest_seconds();
    let mut totals = traffic.totals();
    for (name, count) in &measured.capacity.failures {
        *totals
            .failures
            .entry(format!("capacity probe: {name}"))
            .or_insert(0) += count;
        totals.failed_requests += count;
    }
    let failed_events = measured
        .rotations
        .iter()
        .chain(&measured.publisher_changes)
        .filter(|event| event.error.is_some())
        .count() as u64;
    let points = |value: fn(&ResourceSample) -> f64| -> Vec<(f64, f64)> {
        samples.iter().map(|s| (s.at_secs, value(s))).collect()
    };
    let rss = soak_verdict::flatness(
        &points(|s| s.rss_bytes as f64),
        plan.warm_up_secs,
        Tolerance::Relative(RSS_GROWTH_TOLERANCE),
    );
    let open_fds = soak_verdict::flatness(
        &points(|s| s.open_fds as f64),
        plan.warm_up_secs,
        Tolerance::Absolute(FD_GROWTH_TOLERANCE),
    );
    let exchange_p99 = soak_verdict::stability(
        &periods
            .iter()
            .map(|p| p.exchange_p99_us)
            .collect::<Vec<_>>(),
    );
    let verify_p99 =
        soak_verdict::stability(&periods.iter().map(|p| p.verify_p99_us).collect::<Vec<_>>());
    let no_failed_requests = totals.failed_requests == 0 && failed_events == 0;
    let verdict = SoakVerdict {
        passed: no_failed_requests
            && rss.passed
            && open_fds.passed
            && exchange_p99.passed
            && verify_p99.passed,
        no_failed_requests,
        rss,
        open_fds,
        exchange_p99,
        verify_p99,
    };
    notes.push("Redis memory is sampled, not judged: tokens live 900 s and replay records about 335 s, so Redis grows until a run is longer than the token TTL".to_owned());
    let cores = std::thread::available_parallelism().map_or(1, usize::from) as f64;
    let busiest = samples
        .iter()
        .map(|s| s.load_average_1m)
        .fold(0.0_f64, f64::max);
    if busiest > cores * 1.5 {
        notes.push(format!(
            "the machine was busy: 1-minute load average up to {busiest:.1} on {cores} cores; latency spikes may be other processes'"
        ));
    }
    let plot_path = dir.join("plot.png");
    std::fs::create_dir_all(&dir).map_err(BenchError::io(format!("creating {}", dir.display())))?;
    let plot = match crate::soak_plot::draw(
        &plot_path,
        &samples,
        &windows,
        cli.soak_font.as_deref(),
    ) {
        Ok(Some(_font)) => Some(plot_path.display().to_string()),
        Ok(None) => {
            notes.push("no TrueType font found (--soak-font, or Debian's fonts-dejavu-core): plot.png has no text; top = RSS, bottom = p99 (red exchange, blue verify), x = time".to_owned());
            Some(plot_path.display().to_string())
        }
        Err(error) => {
            notes.push(format!("plot not drawn: {error}"));
            None
        }
    };
    let report = SoakReport {
        format: soak_report::SOAK_FORMAT,
        started_unix: measured.started_unix,
        service: service_name,
        build: if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
        plan,
        capacity: measured.capacity,
        offered_rounds_per_sec: measured.rate,
        totals,
        rotations: measured.rotations,
        publisher_changes: measured.publisher_changes,
        samples,
        windows,
        periods,
        slowest_seconds,
        verdict,
        service_warning_lines: warnings.count,
        service_warnings: warnings.first,
        stopped_gracefully,
        plot,
        notes,
    };
    let json_path = dir.join("report.json");
    soak_report::write_json(&report, &json_path)?;
    print!("{}", soak_report::render_summary(&report));
    println!("report written to {}", json_path.display());
    if report.verdict.passed {
        Ok(())
    } else {
        Err(BenchError::Verdict(
            "the soak failed its verdict (see above)".to_owned(),
        ))
    }
}

/// What the steady phase measured.
struct Measured {
    started_unix: i64,
    capacity: soak_load::Capacity,
    rate: f64,
    traffic: Traffic,
    samples: Vec<ResourceSample>,
    rotations: Vec<Event>,
    publisher_changes: Vec<Event>,
}

/// Probe, then the steady load with its schedule of samples, rotations and publisher
/// changes.
async fn soak(
    plan: &SoakPlan,
    service: &mut SoakService,
    issuer: &Arc<TestIssuer>,
    redis_url: &str,
    grpc_auth_token: &str,
    control: &reqwest::Client,
) -> Result<Measured, BenchError> {
    let redis = redis::Client::open(redis_url)?
        .get_multiplexed_async_connection()
        .await?;
    let http_clients = clients::http_clients(CLIENTS)?;
    let token_clients =
        clients::token_clients(&service.grpc_url, grpc_auth_token, CLIENTS, 2).await?;
    let mut publishers = clients::publisher_client(&service.grpc_url, grpc_auth_token).await?;
    let rounds = Rounds::new(service.http_url.clone(), http_clients, token_clients);
    let mut jwts = soak_load::start_signer(issuer.clone());
    soak_load::wait_for_full_buffer(&jwts).await;

    eprintln!(
        "capacity probe: {:.1} s closed loop, {CLIENTS} clients…",
        plan.probe_secs
    );
    let capacity = soak_load::probe_capacity(
        &rounds,
        &mut jwts,
        CLIENTS,
        Duration::from_secs_f64(plan.probe_secs),
    )
    .await;
    let rate = (capacity.rounds_per_sec * plan.load_fraction).max(1.0);
    eprintln!(
        "  {:.0} rounds/s (exchange + verify + older-key verify); offering {rate:.0}/s for {:.1} min",
        capacity.rounds_per_sec,
        plan.run_secs / 60.0
    );
    soak_load::wait_for_full_buffer(&jwts).await;

    let started_unix = unix_now();
    let start = Instant::now();
    let mut observations = soak_load::run_at_rate(
        rounds.clone(),
        jwts,
        rate,
        start,
        Duration::from_secs_f64(plan.run_secs),
    );
    let sample_secs = plan.sample_secs;
    let collector = tokio::spawn(async move {
        let mut traffic = Traffic::new(sample_secs);
        while let Some(observation) = observations.recv().await {
            traffic.record(observation);
        }
        traffic
    });

    let mut samples = Vec::new();
    let mut rotations = Vec::new();
    let mut publisher_changes = Vec::new();
    let mut previous_publisher: Option<String> = None;
    for (at, step) in schedule(plan) {
        tokio::time::sleep_until((start + Duration::from_secs_f64(at)).into()).await;
        let at_secs = start.elapsed().as_secs_f64();
        match step {
            Step::Sample => {
                let sample = soak_sampler::sample(service, &redis, at_secs).await?;
                samples.push(sample);
            }
            Step::Rotate(n) => {
                let key_id = format!("k{}", n + 1);
                let outcome = service.rotate_key(&key_id, control).await;
                if outcome.is_ok() {
                    rounds.next_epoch();
                }
                rotations.push(event(at_secs, format!("minting key {key_id}"), outcome));
            }
            Step::ChangePublisher(n) => {
                let started = Instant::now();
                let outcome =
                    change_publisher(&mut publishers, &issuer.url(), n, previous_publisher.take())
                        .await;
                let what = match &outcome {
                    Ok(id) => {
                        previous_publisher = Some(id.clone());
                        format!("publisher change {n}: created {id}")
                    }
                    Err(_) => format!("publisher change {n}"),
                };
                publisher_changes.push(event(at_secs, what, outcome.map(|_| started.elapsed())));
            }
        }
        if let Some(last) = samples.last()
            && step == Step::Sample
        {
            eprintln!(
                "  {:>6.1} s: RSS {:.1} MiB, fds {}, Redis {:.1} MiB, PING {:.0} µs, load {:.1}",
                last.at_secs,
                last.rss_bytes as f64 / (1024.0 * 1024.0),
                last.open_fds,
                last.redis_used_memory_bytes as f64 / (1024.0 * 1024.0),
                last.redis_ping_us,
                last.load_average_1m
            );
        }
    }
    let traffic = collector
        .await
        .map_err(|error| BenchError::Setup(format!("the traffic collector failed: {error}")))?;
    Ok(Measured {
        started_unix,
        capacity,
        rate,
        traffic,
        samples,
        rotations,
        publisher_changes,
    })
}

fn event(at_secs: f64, what: String, outcome: Result<Duration, String>) -> Event {
    let (millis, error) = match outcome {
        Ok(took) => (took.as_secs_f64() * 1000.0, None),
        Err(error) => (0.0, Some(error)),
    };
    Event {
        at_secs,
        what,
        millis,
        error,
    }
}

/// Creates publisher `n` (its own repository and project) and deletes `previous`, as an
/// index does when a project owner edits their trusted publishers. Returns the new id.
async fn change_publisher(
    client: &mut PublisherClient,
    issuer: &str,
    n: usize,
    previous: Option<String>,
) -> Result<String, String> {
    let publisher = pb::Publisher {
        projects: vec![format!("soak-project-{n}")],
        kind: Some(pb::publisher::Kind::Github(pb::GitHubPublisher {
            repository_owner: "octo-org".to_owned(),
            repository_owner_id: "92345678".to_owned(),
            repository_name: format!("soak-{n}"),
            workflow_filename: "release.yml".to_owned(),
            issuer: issuer.to_owned(),
            ..Default::default()
        })),
        ..Default::default()
    };
    let created = client
        .create_publisher(pb::CreatePublisherRequest {
            publisher: Some(publisher),
        })
        .await
        .map_err(|status| format!("CreatePublisher: {:?} {}", status.code(), status.message()))?
        .into_inner();
    if let Some(id) = previous {
        let deleted = client
            .delete_publisher(pb::DeletePublisherRequest { id: id.clone() })
            .await
            .map_err(|status| format!("DeletePublisher: {:?} {}", status.code(), status.message()))?
            .into_inner();
        if !deleted.deleted {
            return Err(format!("DeletePublisher {id}: not found"));
        }
    }
    Ok(created.id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ten_minute_soak_rotates_every_minute_and_samples_every_ten_seconds() {
        let plan = plan_for(10.0, &[]).expect("valid");
        assert_eq!(
            (
                plan.run_secs,
                plan.period_secs,
                plan.sample_secs,
                plan.warm_up_secs,
                plan.probe_secs
            ),
            (600.0, 60.0, 10.0, 120.0, 5.0)
        );
        let steps = schedule(&plan);
        let count = |wanted: fn(&Step) -> bool| steps.iter().filter(|(_, s)| wanted(s)).count();
        assert_eq!(count(|s| *s == Step::Sample), 61);
        assert_eq!(count(|s| matches!(s, Step::Rotate(_))), 9);
        assert_eq!(count(|s| matches!(s, Step::ChangePublisher(_))), 10);
        assert_eq!(steps[0], (0.0, Step::Sample));
        let at_one_minute: Vec<Step> = steps
            .iter()
            .filter(|(at, _)| *at == 60.0)
            .map(|(_, s)| *s)
            .collect();
        assert_eq!(at_one_minute, [Step::Sample, Step::Rotate(1)]);
        assert_eq!(steps.last(), Some(&(600.0, Step::Sample)));
    }

    #[test]
    fn a_short_soak_shrinks_its_periods() {
        let plan = plan_for(0.3, &[]).expect("valid");
        assert!((plan.period_secs - 3.6).abs() < 1e-9, "{plan:?}");
        assert!((plan.sample_secs - 0.6).abs() < 1e-9, "{plan:?}");
        assert!((plan.probe_secs - 1.8).abs() < 1e-9, "{plan:?}");
        let rotations = schedule(&plan)
            .iter()
            .filter(|(_, s)| matches!(s, Step::Rotate(_)))
            .count();
        assert_eq!(rotations, 4);
        for bad in [0.05, -1.0, f64::NAN] {
            assert!(plan_for(bad, &[]).is_err(), "{bad}");
        }
    }
}
