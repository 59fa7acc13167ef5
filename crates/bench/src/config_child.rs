//! The soak's default service: this binary re-executed as `serve-config --config FILE`,
//! doing what `trustmint serve --config FILE` does — the same library calls in the same
//! order (settings from the file and the environment, tracing, `Application::build`, the
//! SIGHUP reloader, drain on SIGTERM) — so a debug `cargo test` can soak the service
//! without a separately built `trustmint` binary. `just soak` runs the real release
//! binary instead (`--service-bin`).

use std::path::Path;

use tokio::io::AsyncReadExt as _;
use trustmint::{Application, Settings};

use crate::error::BenchError;

/// Serves until SIGTERM, SIGINT, or the parent closing stdin (so a dead parent never
/// leaves a service running).
pub(crate) async fn serve_config(config: &Path) -> Result<(), BenchError> {
    let settings = Settings::load(Some(config), std::env::vars())
        .map_err(|error| BenchError::Settings(error.to_string()))?;
    let _telemetry = trustmint_telemetry::init_tracing(&settings.telemetry)
        .map_err(|error| BenchError::Settings(error.to_string()))?;
    let application = Application::build(&settings)
        .await
        .map_err(|error| BenchError::Service(error.to_string()))?;
    let reloader = tokio::spawn(application.reloader(Some(config.to_owned())).watch());
    let result = application.run_until(terminated()).await;
    reloader.abort();
    result.map_err(|error| BenchError::Service(format!("serving: {error}")))
}

/// Completes on SIGTERM, Ctrl-C, or end-of-file on stdin.
async fn terminated() {
    let stdin_closed = async {
        let mut stdin = tokio::io::stdin();
        let mut buffer = [0_u8; 64];
        while let Ok(read) = stdin.read(&mut buffer).await {
            if read == 0 {
                break;
            }
        }
    };
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut terminate) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = terminate.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
                () = stdin_closed => {}
            }
            return;
        }
    }
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = stdin_closed => {}
    }
}
