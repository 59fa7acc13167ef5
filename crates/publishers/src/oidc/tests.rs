//! Rule tables for custom-issuer publishers: each safety rail refuses with its reason,
//! and matching accepts and refuses with the claim, the expected and the token's value.

use serde_json::{Map, Value, json};

use super::*;
use crate::test_support::{NOW, publisher};
use crate::{NoMatchKind, Publisher, PublisherSpec, find_match, lookup_key_for_claims};

const ISSUER: &str = "https://ci.example.com";

fn rules() -> OidcIssuerRules {
    OidcIssuerRules {
        required_claims: vec!["tenant_id".into()],
        pattern_claims: vec!["ref".into(), "sub".into()],
        replay_by_hash: false,
    }
}

fn spec(claims: &[(&str, &str)]) -> OidcPublisher {
    OidcPublisher {
        issuer: ISSUER.into(),
        claims: claims
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        lookup_claim: String::new(),
    }
}

fn acme() -> OidcPublisher {
    spec(&[
        ("tenant_id", "acme"),
        ("repository_id", "42"),
        ("ref", "refs/tags/v*"),
    ])
}

fn token(extra: Value) -> Map<String, Value> {
    let mut claims = match json!({
        "iss": ISSUER, "aud": "pypi", "jti": "j-1", "sub": "repo:acme/app:ref:refs/tags/v1",
        "tenant_id": "acme", "repository_id": 42, "ref": "refs/tags/v1.0",
    }) {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    if let Value::Object(extra) = extra {
        for (name, value) in extra {
            if value == json!("<absent>") {
                claims.remove(&name);
            } else {
                claims.insert(name, value);
            }
        }
    }
    claims
}

#[test]
fn rails_without_the_issuer() {
    for (description, p, expected) in [
        ("the worked example", acme(), None),
        (
            "one claim",
            spec(&[("tenant_id", "acme")]),
            Some((
                "claims",
                "must bind at least two claims (e.g. the tenant and the repository): a single claim is too easily satisfied by another job of the same issuer",
            )),
        ),
        (
            "only globs",
            spec(&[("ref", "refs/*"), ("sub", "repo:*")]),
            Some((
                "claims",
                "must bind at least one claim exactly (without '*'): globs alone can match jobs of other repositories",
            )),
        ),
        (
            "sub glob without a fixed prefix",
            spec(&[("tenant_id", "acme"), ("sub", "*:ref:refs/heads/main")]),
            Some((
                "claims.sub",
                "a sub glob must start with a fixed prefix ('repo:acme/app:*'): a leading '*' matches subjects of any repository",
            )),
        ),
        (
            "sub glob with a fixed prefix",
            spec(&[("tenant_id", "acme"), ("sub", "repo:acme/app:*")]),
            None,
        ),
        (
            "binding aud",
            spec(&[("tenant_id", "acme"), ("aud", "pypi")]),
            Some((
                "claims.aud",
                "is checked by the verifier (iss, aud, exp, iat, nbf) or unique to each run (jti); bind claims that name the tenant, repository and workflow",
            )),
        ),
        (
            "an empty value",
            spec(&[("tenant_id", "acme"), ("repository_id", "")]),
            Some(("claims.repository_id", "is required")),
        ),
        (
            "no issuer",
            OidcPublisher {
                issuer: String::new(),
                ..acme()
            },
            Some(("issuer", "is required")),
        ),
    ] {
        let actual = PublisherSpec::Oidc(p)
            .validate()
            .err()
            .map(|e| (e.field, e.message));
        let expected = expected.map(|(f, m)| (f.to_owned(), m.to_owned()));
        assert_eq!(actual, expected, "{description}");
    }
}

#[test]
fn rails_with_the_issuer() {
    for (description, p, expected) in [
        ("the worked example", acme(), None),
        (
            "the tenant not bound",
            spec(&[("repository_id", "42"), ("ref", "refs/tags/v*")]),
            Some((
                "claims",
                "must bind the issuer's required claim tenant_id: it keeps the issuer's tenants apart (required_claims = tenant_id)",
            )),
        ),
        (
            "the tenant by a glob",
            spec(&[("tenant_id", "ac*"), ("repository_id", "42")]),
            Some((
                "claims.tenant_id",
                "is a required claim of the issuer and must be bound exactly (without '*'): it keeps the issuer's tenants apart",
            )),
        ),
        (
            "a glob in a claim the issuer does not list",
            spec(&[("tenant_id", "acme"), ("repository_id", "4*")]),
            Some((
                "claims.repository_id",
                "'*' is allowed only in claims the issuer lists in pattern_claims (ref, sub); bind this claim exactly",
            )),
        ),
    ] {
        let actual = PublisherSpec::Oidc(p)
            .validate_for_issuer(&rules())
            .err()
            .map(|e| (e.field, e.message));
        let expected = expected.map(|(f, m)| (f.to_owned(), m.to_owned()));
        assert_eq!(actual, expected, "{description}");
    }
}

fn run(
    claims: &Map<String, Value>,
    rules: &OidcIssuerRules,
    candidates: &[Publisher],
) -> Result<Vec<String>, (NoMatchKind, String)> {
    let token = TokenClaims::new(ISSUER, claims).with_oidc_rules(Some(rules));
    find_match(Provider::Oidc, &token, candidates, NOW)
        .map(|m| m.publishers.iter().map(|p| p.id.to_string()).collect())
        .map_err(|e| (e.kind(), e.reason().to_owned()))
}

fn registered(id: &str, p: OidcPublisher) -> Publisher {
    publisher(id, PublisherSpec::Oidc(p).bound_to_issuer(&rules()))
}

/// The publisher's stored key is the key its tokens select: the store finds it.
#[test]
fn publisher_and_token_select_the_same_key() {
    let p = registered("a", acme());
    let claims = token(json!({}));
    let rules = rules();
    let token_claims = TokenClaims::new(ISSUER, &claims).with_oidc_rules(Some(&rules));
    assert_eq!(
        lookup_key_for_claims(Provider::Oidc, &token_claims),
        Ok(p.spec.lookup_key())
    );
    assert_eq!(
        p.spec.lookup_key().as_str(),
        r#"["oidc","https://ci.example.com","tenant_id","acme"]"#
    );
}

#[test]
fn matching_table() {
    let a = registered("a", acme());
    let no_jti_rules = OidcIssuerRules {
        replay_by_hash: true,
        ..rules()
    };
    let check = |reason: &str| Err((NoMatchKind::CheckFailed, reason.to_owned()));
    for (description, claims, rules, expected) in [
        (
            "everything matches (a numeric claim compares as text)",
            token(json!({})),
            rules(),
            Ok(vec!["a".to_owned()]),
        ),
        (
            "another repository of the tenant",
            token(json!({"repository_id": 43})),
            rules(),
            check("claim repository_id: expected '42', token has '43'"),
        ),
        (
            "a branch, where the glob wants tags",
            token(json!({"ref": "refs/heads/main"})),
            rules(),
            check("claim ref: expected a match of 'refs/tags/v*', token has 'refs/heads/main'"),
        ),
        (
            "an absent claim never matches",
            token(json!({"ref": "<absent>"})),
            rules(),
            check("claim ref: expected a match of 'refs/tags/v*', the token has none"),
        ),
        (
            "a boolean never matches",
            token(json!({"repository_id": true})),
            rules(),
            check(
                "claim repository_id: expected '42', the token has a boolean (only strings and numbers compare)",
            ),
        ),
        (
            "jti is required",
            token(json!({"jti": "<absent>"})),
            rules(),
            Err((NoMatchKind::MissingClaim, "Missing claim 'jti'".to_owned())),
        ),
        (
            "unless replay_key = sha256",
            token(json!({"jti": "<absent>"})),
            no_jti_rules,
            Ok(vec!["a".to_owned()]),
        ),
        (
            "the tenant claim is required",
            token(json!({"tenant_id": "<absent>"})),
            rules(),
            Err((
                NoMatchKind::MissingClaim,
                "Missing claim 'tenant_id'".to_owned(),
            )),
        ),
    ] {
        assert_eq!(
            run(&claims, &rules, std::slice::from_ref(&a)),
            expected,
            "{description}"
        );
    }
}

/// Another tenant's token never sees this tenant's publishers: its key selects other
/// candidates, and a stray candidate of another key is ignored.
#[test]
fn tenants_are_apart() {
    let a = registered("a", acme());
    let evil = token(json!({"tenant_id": "evil"}));
    assert_eq!(
        run(&evil, &rules(), std::slice::from_ref(&a)),
        Err((
            NoMatchKind::NotFound,
            "Publisher with matching claims was not found; no publisher is registered for tenant_id 'evil' with issuer 'https://ci.example.com'".to_owned()
        ))
    );
    // Two required claims: the second is checked like any bound claim.
    let two = OidcIssuerRules {
        required_claims: vec!["org".into(), "tenant_id".into()],
        ..rules()
    };
    let p = publisher(
        "b",
        PublisherSpec::Oidc(spec(&[
            ("org", "o1"),
            ("tenant_id", "acme"),
            ("repository_id", "42"),
        ]))
        .bound_to_issuer(&two),
    );
    let claims = token(json!({"org": "o1", "tenant_id": "evil"}));
    assert_eq!(
        run(&claims, &two, &[p]),
        Err((
            NoMatchKind::CheckFailed,
            "claim tenant_id: expected 'acme', token has 'evil'".to_owned()
        ))
    );
}

#[test]
fn config_values_may_be_numbers() {
    let parsed = crate::parse_declaration(&json!({
        "kind": "oidc", "projects": ["p"], "issuer": ISSUER,
        "claims": {"tenant_id": "acme", "repository_id": 42},
    }))
    .unwrap_or_else(|e| panic!("{e}"));
    let PublisherSpec::Oidc(p) = parsed.spec else {
        panic!("not oidc")
    };
    assert_eq!(
        p.claims.get("repository_id").map(String::as_str),
        Some("42")
    );
    let refused = crate::parse_declaration(&json!({
        "kind": "oidc", "projects": ["p"], "issuer": ISSUER,
        "claims": {"tenant_id": "acme", "repository_id": true},
    }))
    .err()
    .map(|e| e.to_string());
    assert_eq!(
        refused.as_deref(),
        Some("claims: claim repository_id must be a string or a whole number")
    );
}
