//! `trustmint-bench` (`just bench`): how fast trustmint is, and how close that is to
//! what the hardware allows.
//!
//! Topology: this process runs the test OIDC issuers (testkit) and the load generator;
//! the service is a child process — this same binary re-executed as `serve-child` —
//! running a real `trustmint::Application` on loopback ports (Redis store by default,
//! `--memory` for the embedded one), so its RSS and CPU time can be read from
//! `/proc/<pid>` without the load generator's share. Both share the machine's cores, as
//! a sidecar shares them with the index.
//!
//! Scenarios, in order: floor (single-thread RS256 verification, Redis round trips);
//! RSS idle and after `--rss-exchanges`; exchange (HTTP mint-token) and verify (gRPC
//! VerifyToken) at increasing concurrency; fixed-rate runs (1,000 exchanges/s, 5,000
//! verifies/s, coordinated-omission-aware); the key-rotation storm (JWKS fetches); and,
//! when asked for, a 250-project publisher and forged JWTs. Results: a table with the
//! targets' verdicts on stdout and JSON at `target/bench/report.json`.
//!
//! `--soak` runs the soak instead (`soak.rs`, `just soak`): minutes of mixed load at
//! half of the measured capacity with key rotations and publisher changes, judged on
//! failed requests, flat RSS and fds, and a stable p99; report under `target/soak/`.

mod child;
mod cli;
mod clients;
mod config_child;
mod error;
mod fixed_rate;
mod floor;
mod jwts;
mod load;
mod redis_probe;
mod report;
mod rotation;
mod rss;
mod run;
mod scenarios;
mod service;
mod service_metrics;
mod soak;
mod soak_load;
mod soak_plot;
mod soak_report;
mod soak_sampler;
mod soak_service;
mod soak_verdict;
mod stats;
mod targets;

use std::process::ExitCode;

/// The allocator of the `trustmint` binary, so the service child measures what
/// production runs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::Parser as _;

use crate::cli::{ChildCommand, Cli, Profile, Scenario};
use crate::error::BenchError;
use crate::report::{Results, RunInfo};
use crate::run::Bench;
use crate::targets::Verdict;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("trustmint-bench: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(async {
        match &cli.child {
            Some(ChildCommand::ServeChild { spec }) => child::serve_child(spec).await,
            Some(ChildCommand::ServeConfig { config }) => config_child::serve_config(config).await,
            None if cli.soak => soak::run(&cli).await,
            None => benchmark(&cli).await,
        }
    });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("trustmint-bench: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Seconds each floor figure is measured for.
fn floor_secs(profile: &Profile) -> f64 {
    if profile.smoke { 0.2 } else { 1.0 }
}

async fn benchmark(cli: &Cli) -> Result<(), BenchError> {
    if cfg!(debug_assertions) && !cli.smoke {
        eprintln!(
            "warning: this is a debug build; run `cargo run --release -p trustmint-bench` (`just bench`) for real numbers"
        );
    }
    let profile = cli.profile();
    let mut results = Results {
        format: report::RESULTS_FORMAT,
        run: RunInfo::new(&profile, jwts::unix_now()),
        warm_up: None,
        floor: None,
        scenarios: Vec::new(),
        rotation: None,
        rss: None,
        service_peak_rss_bytes: None,
        targets: Vec::new(),
        notes: Vec::new(),
    };
    eprintln!(
        "starting the test issuers and the service ({} store)…",
        profile.store
    );
    let bench = Bench::start(cli, &profile).await?;
    let measured = run_scenarios(&bench, &profile, &mut results).await;
    results.notes.extend(bench.finish().await);
    if let Err(error) = &measured {
        results
            .notes
            .push(format!("the run stopped early: {error}"));
    }
    results.targets = targets::judge(&results);

    print!("{}", report::render_table(&results));
    let path = report::output_path(cli);
    report::write_json(&results, &path)?;
    println!("report written to {}", path.display());
    measured?;
    verdict(cli, &profile, &results)
}

/// The exit status: a smoke run fails on any failed request or a storm that did not
/// fetch exactly once; `--check-targets` also fails on a missed target.
fn verdict(cli: &Cli, profile: &Profile, results: &Results) -> Result<(), BenchError> {
    let failed = targets::failed_requests(results);
    let storm_missed = results
        .targets
        .iter()
        .any(|check| check.target == targets::STORM_TARGET && check.verdict == Verdict::Missed);
    let missed: Vec<&str> = results
        .targets
        .iter()
        .filter(|check| check.verdict == Verdict::Missed)
        .map(|check| check.target)
        .collect();
    if (profile.smoke || cli.check_targets) && (failed > 0 || storm_missed) {
        return Err(BenchError::Verdict(format!(
            "{failed} request(s) failed; rotation storm {}",
            if storm_missed {
                "missed its one fetch"
            } else {
                "ok"
            }
        )));
    }
    if cli.check_targets && !missed.is_empty() {
        return Err(BenchError::Verdict(format!(
            "targets missed: {}",
            missed.join("; ")
        )));
    }
    Ok(())
}

async fn run_scenarios(
    bench: &Bench,
    profile: &Profile,
    results: &mut Results,
) -> Result<(), BenchError> {
    let idle_rss_bytes = bench.service.rss_bytes()?;
    if profile.runs(Scenario::Floor) {
        eprintln!("floor: RS256 verification and Redis round trips…");
        results.floor = Some(floor::measure(bench, floor_secs(profile)).await?);
    }
    eprintln!("warm-up…");
    results.warm_up = Some(scenarios::warm_up(bench).await?);
    // Before the scenarios that open hundreds of connections at once (the storm, the
    // open-loop runs): their buffers stay in the allocator afterwards, and this run is
    // about what exchanges leave behind.
    if profile.runs(Scenario::Rss) && profile.rss_exchanges > 0 {
        eprintln!("RSS: idle, then after {} exchanges…", profile.rss_exchanges);
        results.rss = Some(
            rss::rss_after_exchanges(bench, profile.rss_exchanges, idle_rss_bytes, profile.store)
                .await?,
        );
    }
    if profile.runs(Scenario::Exchange) {
        eprintln!(
            "exchange at concurrency {:?} ({} each; signing RS256 JWTs first)…",
            profile.levels, profile.exchanges
        );
        results
            .scenarios
            .extend(scenarios::exchange_levels(bench, &profile.levels, profile.exchanges).await?);
    }
    let needs_tokens = profile.runs(Scenario::Verify) || profile.runs(Scenario::FixedRate);
    let tokens = if needs_tokens {
        Some(scenarios::verify_pool(bench).await?)
    } else {
        None
    };
    if let (true, Some(tokens)) = (profile.runs(Scenario::Verify), &tokens) {
        eprintln!(
            "verify at concurrency {:?} ({} each)…",
            profile.levels, profile.verifies
        );
        results.scenarios.extend(
            scenarios::verify_levels(bench, tokens, &profile.levels, profile.verifies).await?,
        );
    }
    if let (true, Some(tokens)) = (profile.runs(Scenario::FixedRate), &tokens) {
        eprintln!(
            "fixed rate: {:.0} exchanges/s and {:.0} verifies/s for {} s each…",
            profile.exchange_rate, profile.verify_rate, profile.fixed_rate_secs
        );
        results.scenarios.push(
            fixed_rate::exchange_at_rate(bench, profile.exchange_rate, profile.fixed_rate_secs)
                .await?,
        );
        results.scenarios.push(
            fixed_rate::verify_at_rate(bench, tokens, profile.verify_rate, profile.fixed_rate_secs)
                .await?,
        );
    }
    if profile.runs(Scenario::Rotation) {
        eprintln!(
            "rotation storm: {} exchanges with a new kid…",
            profile.storm
        );
        results.rotation = Some(rotation::rotation_storm(bench, profile.storm).await?);
    }
    if profile.runs(Scenario::ManyProjects) {
        eprintln!("{} projects on one publisher…", scenarios::MANY_PROJECTS);
        results
            .scenarios
            .extend(scenarios::many_projects(bench, profile.requests).await?);
    }
    if profile.runs(Scenario::Forged) {
        eprintln!("forged JWTs…");
        results
            .scenarios
            .push(scenarios::forged_signatures(bench, profile.requests).await?);
    }
    results.service_peak_rss_bytes = Some(bench.service.peak_rss_bytes()?);
    Ok(())
}
