//! Runs the development OIDC issuer (what `trustmint dev-issuer` serves) without the
//! trustmint binary. Used by tests/interop/test_id_client.py.
//!
//! ```text
//! cargo run -p trustmint-testkit --example dev_issuer -- [--addr 127.0.0.1:9000]
//! ```
//! Stops on Ctrl-C (SIGINT) or when stdin reaches end of file.

use std::net::SocketAddr;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let mut addr: SocketAddr = ([127, 0, 0, 1], 9000).into();
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--addr", Some(value)) => {
                addr = value.parse().map_err(|error| {
                    std::io::Error::new(
                        std::io::ErrorKind::InvalidInput,
                        format!("--addr {value:?}: {error}"),
                    )
                })?;
            }
            _ => {
                eprintln!("usage: dev_issuer [--addr HOST:PORT]");
                std::process::exit(64);
            }
        }
    }
    trustmint_testkit::run_dev_issuer(addr, async {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = stdin_closed() => {}
        }
    })
    .await
}

/// Resolves when stdin hits end of file, so a parent process that dies (or closes our
/// stdin) stops the issuer too. Never resolves if stdin is a terminal left open.
async fn stdin_closed() {
    use tokio::io::AsyncReadExt;
    let mut stdin = tokio::io::stdin();
    let mut buffer = [0u8; 64];
    loop {
        match stdin.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
    }
}
