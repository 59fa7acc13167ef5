//! `trustmint-bench` (`just bench`): throughput, latency and memory of the real service.
//!
//! Topology: this process runs the test OIDC issuers (testkit) and the load generator;
//! the service is a child process — this same binary re-executed as `serve-child` —
//! running a real `trustmint::Application` on loopback ports, so its RSS and CPU time
//! can be read from `/proc/<pid>` without the load generator's share. Both share the
//! machine's cores, as a sidecar shares them with the index.
//!
//! Scenarios, in order: cold first mint + warm-up; HTTP mint; gRPC VerifyToken; mint and
//! verify with a 250-project publisher (PyPI #18514); forged JWTs; memory per token.
//! Results: a table on stdout and JSON at `target/bench/results.json`.

mod child;
mod cli;
mod clients;
mod error;
mod jwts;
mod load;
mod memory;
mod redis_probe;
mod report;
mod run;
mod scenarios;
mod service;
mod service_metrics;
mod stats;

use std::process::ExitCode;

use clap::Parser as _;

use crate::cli::{ChildCommand, Cli, Scenario};
use crate::error::BenchError;
use crate::report::{Results, RunInfo};
use crate::run::Bench;

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

/// The store the run uses, as the report names it.
fn store_name(cli: &Cli) -> &'static str {
    match (cli.redis, cli.cluster.is_empty()) {
        (_, false) => "redis-cluster",
        (true, true) => "redis",
        (false, true) => "memory",
    }
}

async fn benchmark(cli: &Cli) -> Result<(), BenchError> {
    if cfg!(debug_assertions) {
        eprintln!(
            "warning: this is a debug build; run `cargo run --release -p trustmint-bench` (`just bench`) for real numbers"
        );
    }
    let store = store_name(cli);
    let mut results = Results {
        format: report::RESULTS_FORMAT,
        run: RunInfo::new(cli, store, jwts::unix_now()),
        warm_up: None,
        scenarios: Vec::new(),
        memory: None,
        notes: Vec::new(),
    };
    eprintln!("starting the test issuers and the service ({store} store)…");
    let bench = Bench::start(cli).await?;
    let measured = run_scenarios(&bench, cli, &mut results).await;
    results.notes.extend(bench.finish().await);
    if let Err(error) = &measured {
        results
            .notes
            .push(format!("the run stopped early: {error}"));
    }

    print!("{}", report::render_table(&results));
    let path = report::output_path(cli);
    report::write_json(&results, &path)?;
    println!("results written to {}", path.display());
    measured
}

async fn run_scenarios(bench: &Bench, cli: &Cli, results: &mut Results) -> Result<(), BenchError> {
    let requests = cli.requests.max(1);
    eprintln!("warm-up…");
    results.warm_up = Some(scenarios::warm_up(bench).await?);
    if cli.runs(Scenario::Mint) {
        eprintln!("1/5 HTTP mint (signing {requests} RS256 JWTs first)…");
        results
            .scenarios
            .extend(scenarios::mint_declared(bench, requests).await?);
    }
    if cli.runs(Scenario::Verify) {
        eprintln!("2/5 gRPC verify…");
        results
            .scenarios
            .extend(scenarios::verify_declared(bench, requests).await?);
    }
    if cli.runs(Scenario::ManyProjects) {
        eprintln!(
            "3/5 {} projects on one publisher…",
            scenarios::MANY_PROJECTS
        );
        results
            .scenarios
            .extend(scenarios::many_projects(bench, requests).await?);
    }
    if cli.runs(Scenario::Forged) {
        eprintln!("4/5 forged JWTs…");
        results
            .scenarios
            .push(scenarios::forged_signatures(bench, requests).await?);
    }
    if cli.runs(Scenario::Memory) && cli.memory_tokens > 0 {
        eprintln!("5/5 memory per token ({} tokens)…", cli.memory_tokens);
        results.memory =
            Some(memory::memory_per_token(bench, cli.memory_tokens, store_name(cli)).await?);
    } else {
        results.notes.push("memory scenario not run".to_owned());
    }
    Ok(())
}
