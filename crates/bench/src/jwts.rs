//! Pre-signed OIDC JWTs. Every mint request needs a fresh one (a JWT is exchanged at
//! most once: its `jti` is burnt, so the replay guard does real work), and signing is
//! the expensive side of RSA (≈ 1 ms per RS256 signature on this machine), so each
//! scenario signs its JWTs, on every core, before its clock starts.
//!
//! The testkit's GitHub claims live 300 s (`exp = iat + 300`, plus the service's 30 s
//! leeway), so JWTs are signed per scenario, right before they are used.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use trustmint_testkit::TestIssuer;
use trustmint_testkit::claims::GitHubClaims;

/// JWTs and what signing them cost.
#[derive(Debug)]
pub(crate) struct SignedBatch {
    /// The JWTs, each with a fresh `jti`.
    pub(crate) jwts: Vec<String>,
    /// Wall time spent signing.
    pub(crate) signing_time: Duration,
}

/// Unix seconds now.
pub(crate) fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// `count` JWTs for `claims` (each built with a fresh `jti`), audience `pypi`, signed by
/// `issuer`'s current key on every core (RSA signing is the slow side: ≈ 1 ms each).
/// Blocks the calling worker thread while signing.
pub(crate) fn sign_batch(issuer: &TestIssuer, claims: &GitHubClaims, count: usize) -> SignedBatch {
    let started = Instant::now();
    let iss = issuer.url();
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .clamp(1, count.max(1));
    let share = count.div_ceil(threads);
    let jwts = tokio::task::block_in_place(|| {
        std::thread::scope(|scope| {
            let workers: Vec<_> = (0..threads)
                .map(|thread| {
                    let mine = share.min(count.saturating_sub(thread * share));
                    let iss = iss.as_str();
                    scope.spawn(move || {
                        (0..mine)
                            .map(|_| issuer.sign(&claims.build(iss, "pypi", unix_now())))
                            .collect::<Vec<String>>()
                    })
                })
                .collect();
            workers
                .into_iter()
                .flat_map(|worker| worker.join().unwrap_or_default())
                .collect()
        })
    });
    SignedBatch {
        jwts,
        signing_time: started.elapsed(),
    }
}

/// `jwt` with one character of its signature changed: still well-formed, right issuer
/// and kid, so the service runs the full signature check before refusing it.
pub(crate) fn with_broken_signature(jwt: &str) -> String {
    let Some(signature_start) = jwt.rfind('.').map(|dot| dot + 1) else {
        return jwt.to_owned();
    };
    let signature_len = jwt.len() - signature_start;
    if signature_len == 0 {
        return jwt.to_owned();
    }
    // The middle of the signature: every bit there is significant (the last base64url
    // character may carry padding bits that decoders ignore).
    let at = signature_start + signature_len / 2;
    let replacement = if jwt.as_bytes()[at] == b'A' { "B" } else { "A" };
    let mut broken = String::with_capacity(jwt.len());
    broken.push_str(&jwt[..at]);
    broken.push_str(replacement);
    broken.push_str(&jwt[at + 1..]);
    broken
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn breaks_exactly_one_signature_character() {
        let cases = [
            ("h.p.QUJDRA", "h.p.QUJARA"),
            ("h.p.AAAA", "h.p.AABA"),
            ("no-dots", "no-dots"),
            ("h.p.", "h.p."),
        ];
        for (jwt, expected) in cases {
            assert_eq!(with_broken_signature(jwt), expected, "{jwt}");
        }
    }
}
