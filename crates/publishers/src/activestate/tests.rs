//! ActiveState matching tables: reference §7.3 item 41, §7.4 items 62–63.

use serde_json::{Map, Value, json};

use crate::test_support::{
    MatchRow, activestate_claims, activestate_spec, assert_match_table, assert_outcome,
    assert_token_selects, claim_map, matched, outcome, publisher, refused, run_match,
    stored_claims_of, with, without,
};
use crate::{
    ACTIVESTATE_ISSUER_URL, ActiveStatePublisher, Match, NoMatch, NoMatchKind, Provider, Publisher,
    PublisherSpec,
};

const NOT_FOUND: &str = "Publisher with matching claims was not found";

fn run(claims: &Map<String, Value>, candidates: &[Publisher]) -> Result<Match, NoMatch> {
    run_match(Provider::ActiveState, claims, candidates)
}

fn activestate(id: &str, organization: &str, project: &str, actor_id: &str) -> Publisher {
    publisher(
        id,
        PublisherSpec::ActiveState(ActiveStatePublisher {
            organization: organization.into(),
            project: project.into(),
            actor_id: actor_id.into(),
            ..activestate_spec()
        }),
    )
}

fn claims_for(organization: &str, project: &str, actor_id: &str) -> Map<String, Value> {
    let claims = with(activestate_claims(), "organization", json!(organization));
    let claims = with(claims, "project", json!(project));
    let claims = with(claims, "actor_id", json!(actor_id));
    with(
        claims,
        "sub",
        json!(format!("org:{organization}:project:{project}")),
    )
}

/// Reference §7.3 item 41: each exact (organization, project, actor_id) selects its own.
#[test]
fn triples_select_their_publisher() {
    let candidates = [
        activestate("a", "fakeorg", "fakeproject", "actor-1"),
        activestate("b", "fakeorg", "fakeproject", "actor-2"),
        activestate("c", "fakeorg2", "fakeproject2", "actor-3"),
    ];
    for (organization, project, actor_id, expected) in [
        ("fakeorg", "fakeproject", "actor-1", "a"),
        ("fakeorg", "fakeproject", "actor-2", "b"),
        ("fakeorg2", "fakeproject2", "actor-3", "c"),
    ] {
        let claims = claims_for(organization, project, actor_id);
        assert_outcome(
            actor_id,
            outcome(run(&claims, &candidates)),
            matched(&[expected]),
        );
    }
}

/// One row per case: (description, claims, candidates, outcome).
#[test]
fn matching_table() {
    let default = || activestate("a", "fakeorg", "fakeproject", &activestate_spec().actor_id);
    let rows: Vec<MatchRow> = vec![
        (
            "full claims",
            activestate_claims(),
            vec![default()],
            matched(&["a"]),
        ),
        (
            "sub with extra parts",
            with(
                activestate_claims(),
                "sub",
                json!("org:fakeorg:project:fakeproject:extra"),
            ),
            vec![default()],
            matched(&["a"]),
        ),
        (
            "missing builder",
            without(activestate_claims(), "builder"),
            vec![default()],
            refused(NoMatchKind::MissingClaim, "Missing claim 'builder'"),
        ),
        (
            "empty sub (§7.4 item 62)",
            with(activestate_claims(), "sub", json!("")),
            vec![default()],
            refused(NoMatchKind::CheckFailed, "Missing 'subject' claim"),
        ),
        (
            "nonsense sub (§7.4 item 62)",
            with(activestate_claims(), "sub", json!("Nonsense")),
            vec![default()],
            refused(
                NoMatchKind::CheckFailed,
                "Invalid 'subject' claim. Wrong format",
            ),
        ),
        (
            "sub of another project (§7.4 item 62)",
            with(
                activestate_claims(),
                "sub",
                json!("org:fakeorg:project:otherproject"),
            ),
            vec![default()],
            refused(NoMatchKind::CheckFailed, "Invalid 'subject' claim"),
        ),
        (
            "another builder (§7.4 item 63)",
            with(activestate_claims(), "builder", json!("other-builder")),
            vec![default()],
            refused(
                NoMatchKind::CheckFailed,
                "Check failed for required claim 'builder'; the publisher for project \
                 'fakeorg/fakeproject' expects builder 'pypi-publisher' but the token's builder is \
                 'other-builder'",
            ),
        ),
        (
            "actor_id differs (§7.4 item 63)",
            with(activestate_claims(), "actor_id", json!("someone-else")),
            vec![default()],
            refused(
                NoMatchKind::NotFound,
                &format!(
                    "{NOT_FOUND}; the publisher for project 'fakeorg/fakeproject' expects actor_id \
                     '6f4b6f6e-0000-4000-8000-000000000001' but the token's actor_id is 'someone-else'"
                ),
            ),
        ),
        (
            "organization of another case is another organization (§7.4 item 63)",
            claims_for("FakeOrg", "fakeproject", &activestate_spec().actor_id),
            vec![default()],
            refused(
                NoMatchKind::NotFound,
                &format!(
                    "{NOT_FOUND}; no publisher is registered for project 'FakeOrg/fakeproject' with \
                     issuer 'https://platform.activestate.com/api/v1/oauth/oidc'"
                ),
            ),
        ),
        (
            "foreign issuer",
            with(
                activestate_claims(),
                "iss",
                json!("https://evil.example.com"),
            ),
            vec![default()],
            refused(
                NoMatchKind::IssuerMismatch,
                "JWT issuer 'https://evil.example.com' does not match expected issuer \
                 'https://platform.activestate.com/api/v1/oauth/oidc'",
            ),
        ),
    ];
    assert_match_table(Provider::ActiveState, rows);
}

#[test]
fn lookup_key_and_stored_claims() {
    let claims = activestate_claims();
    assert_token_selects(
        Provider::ActiveState,
        ACTIVESTATE_ISSUER_URL,
        &claims,
        &PublisherSpec::ActiveState(activestate_spec()),
    );

    let stored = stored_claims_of(
        Provider::ActiveState,
        &claims,
        &[publisher(
            "a",
            PublisherSpec::ActiveState(activestate_spec()),
        )],
    );
    let expected = claim_map(&[
        ("actor", "fakeactor"),
        ("actor_id", "6f4b6f6e-0000-4000-8000-000000000001"),
        ("issuer", ACTIVESTATE_ISSUER_URL),
        ("organization", "fakeorg"),
        ("project", "fakeproject"),
        (
            "publisher_url",
            "https://platform.activestate.com/fakeorg/fakeproject",
        ),
        ("subject", "org:fakeorg:project:fakeproject"),
    ]);
    assert_eq!(stored, expected);
}
