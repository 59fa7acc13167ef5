//! Issuer URL rules: exact issuer URLs and Fulcio-style `url_pattern`s.
//!
//! An exact URL must be `https` (plain `http` only on a loopback host, for development),
//! with no userinfo, query or fragment. A pattern follows sigstore/fulcio's
//! meta-issuers: every `*` matches exactly one host label or path segment
//! (`[-_a-zA-Z0-9]+`), everything else is literal, and the match is anchored at both
//! ends. Patterns where a `*` could reach across a `.` or `/` are refused when the
//! configuration loads, so a pattern can never widen to another host or path.

use std::net::IpAddr;

use url::{Host, Url};

/// Validates an exact issuer URL; returns it without a trailing `/` (which is not
/// significant when comparing with a token's `iss`).
pub(crate) fn normalize_issuer_url(raw: &str) -> Result<String, String> {
    let url = parse_remote_url(raw)?;
    if url.query().is_some() {
        return Err("an issuer URL must not have a query".to_owned());
    }
    Ok(trim_trailing_slash(raw).to_owned())
}

/// Validates a URL trustmint will fetch keys from (a configured `jwks_uri`, or the
/// `jwks_uri` of a discovery document): `https`, or `http` on a loopback host; no
/// userinfo, no fragment.
pub(crate) fn parse_remote_url(raw: &str) -> Result<Url, String> {
    if raw.trim() != raw || raw.is_empty() {
        return Err("must be a non-empty URL without surrounding whitespace".to_owned());
    }
    let url = Url::parse(raw).map_err(|error| format!("not a valid URL ({error})"))?;
    let host = url
        .host()
        .ok_or_else(|| "the URL must have a host".to_owned())?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&host) => {}
        "http" => {
            return Err(
                "must use https (plain http is only allowed on a loopback host such as \
                 127.0.0.1, ::1 or localhost)"
                    .to_owned(),
            );
        }
        other => return Err(format!("must use https, not {other:?}")),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not contain userinfo (user:password@)".to_owned());
    }
    if url.fragment().is_some() {
        return Err("must not have a fragment".to_owned());
    }
    Ok(url)
}

/// `s` without one trailing `/`.
pub(crate) fn trim_trailing_slash(s: &str) -> &str {
    s.strip_suffix('/').unwrap_or(s)
}

fn is_loopback(host: &Host<&str>) -> bool {
    match host {
        Host::Domain(domain) => domain.eq_ignore_ascii_case("localhost"),
        Host::Ipv4(ip) => IpAddr::V4(*ip).is_loopback(),
        Host::Ipv6(ip) => IpAddr::V6(*ip).is_loopback(),
    }
}

/// A compiled `url_pattern`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UrlPattern {
    pieces: Vec<Piece>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Literal(String),
    /// One host label or path segment: `[-_a-zA-Z0-9]+`.
    Wildcard,
}

// === impl UrlPattern ===

impl UrlPattern {
    /// Compiles a pattern, refusing any `*` that is not a whole host label or path
    /// segment, a host that is only `*`, a `*` in the last two host labels (it would
    /// match any registrable domain), `**`, and patterns without any `*`.
    pub(crate) fn parse(pattern: &str) -> Result<Self, String> {
        if pattern.trim() != pattern || pattern.is_empty() {
            return Err("must be a non-empty pattern without surrounding whitespace".to_owned());
        }
        if pattern.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err("must not contain whitespace or control characters".to_owned());
        }
        for (forbidden, what) in [('?', "a query"), ('#', "a fragment"), ('@', "userinfo")] {
            if pattern.contains(forbidden) {
                return Err(format!("must not contain {what} ({forbidden:?})"));
            }
        }
        if pattern.contains("**") {
            return Err(
                "`**` is not supported: each `*` matches exactly one host label or path segment"
                    .to_owned(),
            );
        }
        let pattern = trim_trailing_slash(pattern);
        let (scheme, rest) = pattern
            .split_once("://")
            .ok_or_else(|| "must start with https://".to_owned())?;
        let (authority, path) = match rest.find('/') {
            Some(index) => rest.split_at(index),
            None => (rest, ""),
        };
        check_authority(scheme, authority)?;
        check_whole_units(path.split('/'), "path segment")?;

        let pieces = compile(pattern);
        if !pieces.contains(&Piece::Wildcard) {
            return Err("has no `*`; use `url` for a single issuer".to_owned());
        }
        Ok(Self { pieces })
    }

    /// Whether `iss` (a trailing `/` is not significant) matches the whole pattern.
    pub(crate) fn matches(&self, iss: &str) -> bool {
        let mut rest = trim_trailing_slash(iss);
        for piece in &self.pieces {
            match piece {
                Piece::Literal(literal) => match rest.strip_prefix(literal.as_str()) {
                    Some(after) => rest = after,
                    None => return false,
                },
                Piece::Wildcard => {
                    // Greedy is exact: the wildcard is a whole label/segment, so the next
                    // literal starts with a delimiter that the class cannot contain.
                    let run = rest
                        .bytes()
                        .take_while(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_')
                        .count();
                    if run == 0 {
                        return false;
                    }
                    rest = &rest[run..];
                }
            }
        }
        rest.is_empty()
    }
}

/// Checks scheme, host and port of a pattern.
fn check_authority(scheme: &str, authority: &str) -> Result<(), String> {
    let (host, port) = if authority.starts_with('[') {
        // An IPv6 literal: never a wildcard, and only meaningful on loopback.
        let end = authority
            .find(']')
            .ok_or_else(|| "has an unterminated IPv6 host".to_owned())?;
        let (host, after) = authority.split_at(end + 1);
        (host, after.strip_prefix(':'))
    } else {
        match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err("must have a host".to_owned());
    }
    if let Some(port) = port
        && (port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(format!(
            "has an invalid port {port:?} (`*` is not allowed in ports)"
        ));
    }
    let labels: Vec<&str> = host.split('.').collect();
    check_whole_units(labels.iter().copied(), "host label")?;
    if labels.iter().any(|label| label.is_empty()) {
        return Err("has an empty host label".to_owned());
    }
    if host == "*" {
        return Err("the host must not be only `*`".to_owned());
    }
    if host.contains('*') && (labels.len() < 3 || labels[labels.len() - 2..].contains(&"*")) {
        return Err(
            "the last two host labels must be literal (a `*` there would match any domain)"
                .to_owned(),
        );
    }
    match scheme {
        "https" => {}
        "http" if !host.contains('*') && is_loopback_host_text(host) => {}
        "http" => {
            return Err(
                "must use https (plain http is only allowed on a literal loopback host)".to_owned(),
            );
        }
        other => return Err(format!("must use https, not {other:?}")),
    }
    Ok(())
}

fn is_loopback_host_text(host: &str) -> bool {
    matches!(Url::parse(&format!("http://{host}/")), Ok(url) if url.host().is_some_and(|h| is_loopback(&h)))
}

/// Every unit (label or segment) containing `*` must be exactly `*`.
fn check_whole_units<'a>(units: impl Iterator<Item = &'a str>, what: &str) -> Result<(), String> {
    for unit in units {
        if unit.contains('*') && unit != "*" {
            return Err(format!(
                "`*` must be a whole {what} (found {unit:?}); a partial `*` is not supported"
            ));
        }
    }
    Ok(())
}

fn compile(pattern: &str) -> Vec<Piece> {
    let mut pieces = Vec::new();
    for (index, literal) in pattern.split('*').enumerate() {
        if index > 0 {
            pieces.push(Piece::Wildcard);
        }
        if !literal.is_empty() {
            pieces.push(Piece::Literal(literal.to_owned()));
        }
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_rule_table() {
        let rows: &[(&str, Result<&str, &str>)] = &[
            (
                "https://token.actions.githubusercontent.com",
                Ok("https://token.actions.githubusercontent.com"),
            ),
            ("https://gitlab.com/", Ok("https://gitlab.com")),
            (
                "https://platform.activestate.com/api/v1/oauth/oidc",
                Ok("https://platform.activestate.com/api/v1/oauth/oidc"),
            ),
            ("http://127.0.0.1:9000", Ok("http://127.0.0.1:9000")),
            (
                "http://localhost:9000/issuer",
                Ok("http://localhost:9000/issuer"),
            ),
            ("http://[::1]:9000", Ok("http://[::1]:9000")),
            (
                "http://gitlab.example.com",
                Err("must use https (plain http is only allowed on a loopback host"),
            ),
            (
                "ftp://gitlab.example.com",
                Err("must use https, not \"ftp\""),
            ),
            (
                "https://user:pw@gitlab.example.com",
                Err("must not contain userinfo"),
            ),
            (
                "https://gitlab.example.com?x=1",
                Err("an issuer URL must not have a query"),
            ),
            (
                "https://gitlab.example.com?",
                Err("an issuer URL must not have a query"),
            ),
            (
                "https://gitlab.example.com#frag",
                Err("must not have a fragment"),
            ),
            (
                "https://gitlab.example.com#",
                Err("must not have a fragment"),
            ),
            ("gitlab.example.com", Err("not a valid URL")),
            (" https://gitlab.com", Err("must be a non-empty URL")),
            ("", Err("must be a non-empty URL")),
        ];
        for (raw, expected) in rows {
            match (normalize_issuer_url(raw), expected) {
                (Ok(got), Ok(want)) => assert_eq!(&got, want, "{raw}"),
                (Err(got), Err(want)) => assert!(got.starts_with(want), "{raw}: {got}"),
                (got, want) => panic!("{raw}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn jwks_uri_may_have_a_query() {
        assert!(parse_remote_url("https://example.com/jwks?v=2").is_ok());
    }

    /// (pattern, iss, matches)
    const MATCH_ROWS: &[(&str, &str, bool)] = &[
        // GitHub enterprise slugs
        (
            "https://token.actions.githubusercontent.com/*",
            "https://token.actions.githubusercontent.com/octo-enterprise",
            true,
        ),
        (
            "https://token.actions.githubusercontent.com/*",
            "https://token.actions.githubusercontent.com/my_ent-2",
            true,
        ),
        (
            "https://token.actions.githubusercontent.com/*",
            "https://token.actions.githubusercontent.com/octo/",
            true,
        ),
        (
            "https://token.actions.githubusercontent.com/*",
            "https://token.actions.githubusercontent.com",
            false,
        ),
        (
            "https://token.actions.githubusercontent.com/*",
            "https://token.actions.githubusercontent.com/",
            false,
        ),
        (
            "https://token.actions.githubusercontent.com/*",
            "https://token.actions.githubusercontent.com/a/b",
            false,
        ),
        (
            "https://token.actions.githubusercontent.com/*",
            "https://token.actions.githubusercontent.com/a.b",
            false,
        ),
        (
            "https://token.actions.githubusercontent.com/*",
            "https://token.actions.githubusercontent.com/a%2Fb",
            false,
        ),
        (
            "https://token.actions.githubusercontent.com/*",
            "https://token.actions.githubusercontent.com.evil.com/x",
            false,
        ),
        (
            "https://token.actions.githubusercontent.com/*",
            "http://token.actions.githubusercontent.com/x",
            false,
        ),
        (
            "https://token.actions.githubusercontent.com/*",
            "https://token.actions.githubusercontent.com/x?y",
            false,
        ),
        (
            "https://token.actions.githubusercontent.com/*",
            "https://TOKEN.actions.githubusercontent.com/x",
            false,
        ),
        // GHES hosts
        (
            "https://*.ghe.example.com/_services/token",
            "https://acme.ghe.example.com/_services/token",
            true,
        ),
        (
            "https://*.ghe.example.com/_services/token",
            "https://a.b.ghe.example.com/_services/token",
            false,
        ),
        (
            "https://*.ghe.example.com/_services/token",
            "https://ghe.example.com/_services/token",
            false,
        ),
        (
            "https://*.ghe.example.com/_services/token",
            "https://acme.ghe.example.com/_services/token/x",
            false,
        ),
        (
            "https://*.ghe.example.com/_services/token",
            "https://acme.ghe.example.com/_services/tokens",
            false,
        ),
        (
            "https://*.ghe.example.com/_services/token",
            "https://evil.com/.ghe.example.com/_services/token",
            false,
        ),
        (
            "https://*.ghe.example.com/_services/token",
            "https://acme.ghe.example.com:8443/_services/token",
            false,
        ),
        ("https://*.ghe.example.com/_services/token", "", false),
        // several wildcards, as Fulcio's EKS pattern
        (
            "https://oidc.eks.*.amazonaws.com/id/*",
            "https://oidc.eks.eu-west-1.amazonaws.com/id/ABC123",
            true,
        ),
        (
            "https://oidc.eks.*.amazonaws.com/id/*",
            "https://oidc.eks.eu-west-1.amazonaws.com/id/",
            false,
        ),
        (
            "http://127.0.0.1:9000/*",
            "http://127.0.0.1:9000/slug",
            true,
        ),
    ];

    #[test]
    fn pattern_match_table() {
        for (pattern, iss, expected) in MATCH_ROWS {
            let compiled = UrlPattern::parse(pattern).expect(pattern);
            assert_eq!(compiled.matches(iss), *expected, "{pattern} vs {iss:?}");
        }
    }

    #[test]
    fn pattern_load_refusals() {
        let rows: &[(&str, &str)] = &[
            ("https://x*.com", "`*` must be a whole host label"),
            ("https://*x.example.com", "`*` must be a whole host label"),
            (
                "https://host.example.com/*foo",
                "`*` must be a whole path segment",
            ),
            (
                "https://host.example.com/a/b*",
                "`*` must be a whole path segment",
            ),
            ("https://*", "the host must not be only `*`"),
            ("https://*/path", "the host must not be only `*`"),
            ("https://*.com", "the last two host labels must be literal"),
            (
                "https://example.*",
                "the last two host labels must be literal",
            ),
            (
                "https://a.*.com",
                "the last two host labels must be literal",
            ),
            ("https://host.example.com/**", "`**` is not supported"),
            ("https://**.example.com", "`**` is not supported"),
            ("https://host.example.com:*/x", "has an invalid port"),
            ("https://host.example.com/x", "has no `*`"),
            ("http://*.example.com/x", "must use https"),
            ("http://token.example.com/*", "must use https"),
            ("ftp://a.example.com/*", "must use https, not \"ftp\""),
            ("token.example.com/*", "must start with https://"),
            ("https://host.example.com/*?x", "must not contain a query"),
            (
                "https://host.example.com/*#x",
                "must not contain a fragment",
            ),
            ("https://u@host.example.com/*", "must not contain userinfo"),
            ("https://host.example.com/ *", "must not contain whitespace"),
            ("https://a..example.com/*", "has an empty host label"),
            ("", "must be a non-empty pattern"),
        ];
        for (pattern, expected) in rows {
            let error = UrlPattern::parse(pattern).expect_err(pattern);
            assert!(error.starts_with(expected), "{pattern}: {error}");
        }
    }
}
