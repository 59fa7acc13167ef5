//! Interop fixture for `tests/interop/test_macaroons.py`: mints and verifies tokens
//! with this crate so a Python test can check them against pymacaroons.
//!
//! ```text
//! macaroon_fixture mint   <base64 secret> <key id> <location> <publisher id> <project>...
//!     → {"token", "identifier", "root_key_hex", "not_before", "expires_at"}
//!     not_before = $MACAROON_FIXTURE_NOW (default: the system clock), expires_at = +900 s
//! macaroon_fixture verify <base64 secret> <key id> <publisher id> <project> <now>  < token
//!     → {"allowed": bool, "reason": str}
//! ```
//!
//! It prints the root key on purpose: the test needs it to verify with pymacaroons.
//! Test use only. Exit status 2 on bad arguments.

use std::collections::BTreeMap;
use std::error::Error;
use std::io::Read as _;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::json;
use trustmint_tokens::{
    DEFAULT_TOKEN_PREFIX, Keyring, MintRequest, VerifyContext, mint, parse_token, verify,
};

/// Token lifetime, as the service mints them (PyPI parity).
const TTL_SECS: i64 = 900;
const USAGE: &str = "usage:
  macaroon_fixture mint <base64 secret> <key id> <location> <publisher id> <project>...
  macaroon_fixture verify <base64 secret> <key id> <publisher id> <project> <now>  (token on stdin)";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let outcome = match args.first().map(String::as_str) {
        Some("mint") if args.len() >= 6 => run_mint(&args[1..]),
        Some("verify") if args.len() == 6 => run_verify(&args[1..]),
        _ => {
            eprintln!("{USAGE}");
            std::process::exit(2);
        }
    };
    match outcome {
        Ok(line) => println!("{line}"),
        Err(error) => {
            eprintln!("macaroon_fixture: {error}");
            std::process::exit(2);
        }
    }
}

/// `<secret> <key id> <location> <publisher id> <project>...`
fn run_mint(args: &[String]) -> Result<String, Box<dyn Error>> {
    let [secret, key_id, location, publisher_id, projects @ ..] = args else {
        return Err(USAGE.into());
    };
    let keyring = keyring(secret, key_id)?;
    let not_before = match std::env::var("MACAROON_FIXTURE_NOW") {
        Ok(now) => now.parse()?,
        Err(_) => i64::try_from(SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs())?,
    };
    let expires_at = not_before + TTL_SECS;
    let (token, identifier) = mint(
        &keyring,
        &MintRequest {
            location,
            prefix: DEFAULT_TOKEN_PREFIX,
            publisher_id,
            projects,
            not_before,
            expires_at,
        },
    );
    let root_key = keyring
        .root_key(&identifier)
        .ok_or("minting key has no root key")?;
    Ok(json!({
        "token": token.expose_secret(),
        "identifier": identifier.to_string(),
        "root_key_hex": hex::encode(root_key),
        "not_before": not_before,
        "expires_at": expires_at,
    })
    .to_string())
}

/// `<secret> <key id> <publisher id> <project> <now>`, token on stdin.
fn run_verify(args: &[String]) -> Result<String, Box<dyn Error>> {
    let [secret, key_id, publisher_id, project, now] = args else {
        return Err(USAGE.into());
    };
    let keyring = keyring(secret, key_id)?;
    let mut raw = String::new();
    std::io::stdin().read_to_string(&mut raw)?;
    let publisher_ids = vec![publisher_id.clone()];
    let context = VerifyContext {
        project,
        publisher_ids: &publisher_ids,
        now: now.parse()?,
        not_before_skew_secs: 0,
    };
    // The harness may pass a trailing newline; the library itself never trims.
    let outcome = parse_token(raw.trim_end(), DEFAULT_TOKEN_PREFIX)
        .and_then(|token| verify(&token, &keyring, &context));
    let (allowed, reason) = match outcome {
        // Warehouse's success message.
        Ok(_) => (true, "signature and caveats OK".to_owned()),
        Err(denial) => (false, denial.reason().to_owned()),
    };
    Ok(json!({ "allowed": allowed, "reason": reason }).to_string())
}

fn keyring(secret: &str, key_id: &str) -> Result<Keyring, Box<dyn Error>> {
    let secrets = BTreeMap::from([(key_id.to_owned(), secret.to_owned())]);
    Ok(Keyring::new(key_id, &secrets)?)
}
