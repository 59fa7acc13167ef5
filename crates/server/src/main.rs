//! `trustmint`: serve, check-config, and (feature `dev-issuer`, on by default)
//! dev-issuer.

#[cfg(feature = "dev-issuer")]
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use trustmint::{Application, Settings, StartupError};

/// mimalloc instead of glibc's malloc: allocation was ~19% of the service's CPU in the
/// benchmark's profiles; with mimalloc an exchange costs ~18% less CPU and throughput
/// rises 8–15%, for ~16 MiB more idle RSS (docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// sysexits.h EX_USAGE: the configuration is invalid.
const EXIT_CONFIG: u8 = 64;

#[derive(Debug, Parser)]
#[command(
    name = "trustmint",
    version,
    about = "Trusted Publishing token exchange for package indexes"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the service (no config file: in-memory store, the public issuers).
    Serve {
        /// TOML config file.
        #[arg(long, short)]
        config: Option<PathBuf>,
    },
    /// Validate the configuration and print the effective settings (secrets redacted).
    CheckConfig {
        /// TOML config file.
        #[arg(long, short)]
        config: Option<PathBuf>,
    },
    /// Run a local OIDC issuer that signs GitHub-Actions-shaped tokens (development only).
    #[cfg(feature = "dev-issuer")]
    DevIssuer {
        /// Listen address.
        #[arg(long, default_value = "127.0.0.1:9000")]
        addr: SocketAddr,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("trustmint: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        match cli.command {
            Command::Serve { config } => serve(config).await,
            Command::CheckConfig { config } => check_config(config).await,
            #[cfg(feature = "dev-issuer")]
            Command::DevIssuer { addr } => dev_issuer(addr).await,
        }
    })
}

fn load(config: Option<PathBuf>) -> Result<Settings, ExitCode> {
    Settings::load(config.as_deref(), std::env::vars()).map_err(|error| {
        eprintln!("trustmint: {error}");
        ExitCode::from(EXIT_CONFIG)
    })
}

async fn serve(config: Option<PathBuf>) -> ExitCode {
    let settings = match load(config.clone()) {
        Ok(settings) => settings,
        Err(code) => return code,
    };
    let mut telemetry = match trustmint_telemetry::init_tracing(&settings.telemetry) {
        Ok(guard) => guard,
        Err(error) => {
            eprintln!("trustmint: invalid configuration: {error}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let application = match Application::build(&settings).await {
        Ok(application) => application,
        Err(StartupError::Config(error)) => {
            eprintln!("trustmint: {error}");
            return ExitCode::from(EXIT_CONFIG);
        }
        Err(error) => {
            eprintln!("trustmint: {error}");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(
        http = %application.http_addr(),
        store = ?settings.store.backend,
        audience = %settings.exchange.audience,
        "trustmint serving"
    );
    let reloader = tokio::spawn(application.reloader(config.clone()).watch());
    let result = application.run_until(shutdown_signal()).await;
    reloader.abort();
    tokio::task::spawn_blocking(move || telemetry.shutdown())
        .await
        .ok();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("trustmint: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn check_config(config: Option<PathBuf>) -> ExitCode {
    let settings = match load(config) {
        Ok(settings) => settings,
        Err(code) => return code,
    };
    match trustmint::check(&settings) {
        Ok(report) => {
            // Not println!: a closed pipe (`check-config | head`) must not panic.
            use std::io::Write as _;
            let _ = writeln!(std::io::stdout(), "{report}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("trustmint: {error}");
            ExitCode::from(EXIT_CONFIG)
        }
    }
}

#[cfg(feature = "dev-issuer")]
async fn dev_issuer(addr: SocketAddr) -> ExitCode {
    match trustmint_testkit::run_dev_issuer(addr, shutdown_signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("trustmint dev-issuer: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Completes on SIGTERM or SIGINT (Ctrl-C).
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = terminate.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
