//! Google matching tables: reference §7.3 item 40, §7.4 items 60–61, issuer and
//! diagnostics.

use serde_json::{Map, Value, json};

use crate::test_support::{
    MatchRow, assert_match_table, assert_outcome, assert_token_selects, claim_map, google_claims,
    google_spec, matched, outcome, publisher, refused, run_match, stored_claims_of, with, without,
};
use crate::{
    GOOGLE_ISSUER_URL, GooglePublisher, Match, NoMatch, NoMatchKind, Provider, Publisher,
    PublisherSpec,
};

const NOT_FOUND: &str = "Publisher with matching claims was not found";

fn run(claims: &Map<String, Value>, candidates: &[Publisher]) -> Result<Match, NoMatch> {
    run_match(Provider::Google, claims, candidates)
}

fn google(id: &str, sub: &str) -> Publisher {
    publisher(
        id,
        PublisherSpec::Google(GooglePublisher {
            sub: sub.into(),
            ..google_spec()
        }),
    )
}

/// Reference §7.3 item 40: a `sub`-constrained publisher wins.
#[test]
fn sub_preference_table() {
    let candidates = [google("a", ""), google("b", "some-subject")];
    for (sub, expected) in [
        ("some-other-subject", "a"),
        ("some-subject", "b"),
        ("SOME-SUBJECT", "a"),
    ] {
        let claims = with(google_claims(), "sub", json!(sub));
        assert_outcome(
            sub,
            outcome(run(&claims, &candidates)),
            matched(&[expected]),
        );
    }
}

/// One row per case: (description, claims, candidates, outcome).
#[test]
fn matching_table() {
    let rows: Vec<MatchRow> = vec![
        (
            "full claims",
            google_claims(),
            vec![google("a", "")],
            matched(&["a"]),
        ),
        (
            "no sub in the token, unconstrained publisher",
            without(google_claims(), "sub"),
            vec![google("a", "")],
            matched(&["a"]),
        ),
        (
            "missing email",
            without(google_claims(), "email"),
            vec![google("a", "")],
            refused(NoMatchKind::MissingClaim, "Missing claim 'email'"),
        ),
        (
            "null email_verified",
            with(google_claims(), "email_verified", Value::Null),
            vec![google("a", "")],
            refused(NoMatchKind::MissingClaim, "Missing claim 'email_verified'"),
        ),
        (
            "email_verified false (§7.4 item 60)",
            with(google_claims(), "email_verified", json!(false)),
            vec![google("a", "")],
            refused(
                NoMatchKind::CheckFailed,
                "Check failed for required claim 'email_verified'; the publisher for email \
                 'publisher@my-project.iam.gserviceaccount.com' requires email_verified to be true, \
                 but the token's is false",
            ),
        ),
        (
            "email_verified a truthy string (§7.4 item 60)",
            with(
                google_claims(),
                "email_verified",
                json!("truthy-but-not-bool"),
            ),
            vec![google("a", "")],
            refused(
                NoMatchKind::CheckFailed,
                "Check failed for required claim 'email_verified'; the publisher for email \
                 'publisher@my-project.iam.gserviceaccount.com' requires email_verified to be true, \
                 but the token's is \"truthy-but-not-bool\"",
            ),
        ),
        (
            "sub differs (§7.4 item 61)",
            google_claims(),
            vec![google("a", "fakesubject")],
            refused(
                NoMatchKind::NotFound,
                &format!(
                    "{NOT_FOUND}; the publisher for email 'publisher@my-project.iam.gserviceaccount.com' \
                     expects sub 'fakesubject' but the token's sub is '112233445566778899000'"
                ),
            ),
        ),
        (
            "sub required, token has none (§7.4 item 61)",
            without(google_claims(), "sub"),
            vec![google("a", "fakesubject")],
            refused(
                NoMatchKind::NotFound,
                &format!(
                    "{NOT_FOUND}; the publisher for email 'publisher@my-project.iam.gserviceaccount.com' \
                     expects sub 'fakesubject' but the token has no sub"
                ),
            ),
        ),
        (
            "email of another case is another email",
            with(
                google_claims(),
                "email",
                json!("Publisher@my-project.iam.gserviceaccount.com"),
            ),
            vec![google("a", "")],
            refused(
                NoMatchKind::NotFound,
                &format!(
                    "{NOT_FOUND}; no publisher is registered for email \
                     'Publisher@my-project.iam.gserviceaccount.com' with issuer 'https://accounts.google.com'"
                ),
            ),
        ),
        (
            "foreign issuer",
            with(
                google_claims(),
                "iss",
                json!("https://accounts.example.com"),
            ),
            vec![google("a", "")],
            refused(
                NoMatchKind::IssuerMismatch,
                "JWT issuer 'https://accounts.example.com' does not match expected issuer 'https://accounts.google.com'",
            ),
        ),
    ];
    assert_match_table(Provider::Google, rows);
}

#[test]
fn lookup_key_and_stored_claims() {
    let claims = google_claims();
    let spec = PublisherSpec::Google(google_spec());
    assert_token_selects(Provider::Google, GOOGLE_ISSUER_URL, &claims, &spec);
    assert_token_selects(
        Provider::Google,
        "https://accounts.google.com/",
        &claims,
        &spec,
    );

    let stored = stored_claims_of(Provider::Google, &claims, &[google("a", "")]);
    let expected = claim_map(&[
        ("email", "publisher@my-project.iam.gserviceaccount.com"),
        ("issuer", GOOGLE_ISSUER_URL),
        ("sub", "112233445566778899000"),
        ("subject", "112233445566778899000"),
    ]);
    assert_eq!(stored, expected);
}
