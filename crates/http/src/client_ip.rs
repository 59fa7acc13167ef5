//! The client address a request is counted against.
//!
//! `X-Forwarded-For` is only believed when the socket peer is a trusted proxy; then the
//! client is the rightmost address in the header that is not itself a trusted proxy.
//! Anything else would let any client pick its own rate-limit bucket.

use std::net::IpAddr;

use actix_web::HttpRequest;
use ipnet::IpNet;

/// Resolves the client IP of `request` given the trusted proxy networks.
pub(crate) fn client_ip(request: &HttpRequest, trusted_proxies: &[IpNet]) -> Option<IpAddr> {
    let peer = request.peer_addr().map(|addr| addr.ip())?;
    let forwarded = request
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|value| value.to_str().ok())
        .collect::<Vec<_>>()
        .join(",");
    Some(resolve(peer, &forwarded, trusted_proxies))
}

fn is_trusted(ip: IpAddr, trusted_proxies: &[IpNet]) -> bool {
    trusted_proxies.iter().any(|net| net.contains(&ip))
}

/// The pure rule, separated for tests.
fn resolve(peer: IpAddr, forwarded_for: &str, trusted_proxies: &[IpNet]) -> IpAddr {
    if !is_trusted(peer, trusted_proxies) || forwarded_for.trim().is_empty() {
        return peer;
    }
    let mut client = peer;
    for hop in forwarded_for.rsplit(',') {
        let Ok(ip) = hop.trim().parse::<IpAddr>() else {
            // An unparsable hop ends the chain we can trust.
            break;
        };
        client = ip;
        if !is_trusted(ip, trusted_proxies) {
            break;
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forwarded_for_only_from_trusted_proxies() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let cases = [
            // (peer, X-Forwarded-For, expected client)
            ("203.0.113.9", "", "203.0.113.9"),
            ("203.0.113.9", "198.51.100.1", "203.0.113.9"), // untrusted peer: header ignored
            ("10.1.2.3", "198.51.100.1", "198.51.100.1"),
            (
                "10.1.2.3",
                "198.51.100.7, 198.51.100.1, 10.9.9.9",
                "198.51.100.1",
            ),
            ("10.1.2.3", "spoofed, 198.51.100.1", "198.51.100.1"),
            ("10.1.2.3", "198.51.100.1, garbage", "10.1.2.3"),
            ("10.1.2.3", "10.4.4.4", "10.4.4.4"),
        ];
        for (peer, header, expected) in cases {
            assert_eq!(
                resolve(ip(peer), header, &trusted),
                ip(expected),
                "{peer} {header}"
            );
        }
        assert_eq!(
            resolve(ip("10.1.2.3"), "198.51.100.1", &[]),
            ip("10.1.2.3"),
            "no trusted proxies: header ignored"
        );
    }
}
