//! Rule table for [`super::verify`]: one test per rule, each asserting the exact
//! outcome (reason text and kind, or the verified fields).

use std::collections::BTreeMap;

use super::*;
use crate::macaroon::{Macaroon, RawCaveat};
use crate::mint::{MintRequest, mint};
use crate::token::{TokenIdentifier, parse_token};

const NOT_BEFORE: i64 = 1_700_000_000;
const EXPIRES_AT: i64 = 1_700_000_900;
const PUBLISHER: &str = "8c1b1bd3-5dc4-4a5e-9d0b-2f1d38e8d5a1";
const SECRET_K1: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
const SECRET_K2: &str = "//////////////////////////////////////////8";

fn keyring(current: &str, entries: &[(&str, &str)]) -> Keyring {
    let secrets: BTreeMap<String, String> = entries
        .iter()
        .map(|(id, secret)| (id.to_string(), secret.to_string()))
        .collect();
    Keyring::new(current, &secrets).expect("valid keyring")
}

fn default_keyring() -> Keyring {
    keyring("k1", &[("k1", SECRET_K1)])
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// A freshly minted token for `projects`, parsed.
fn minted(keyring: &Keyring, projects: &[&str]) -> ParsedToken {
    let projects = strings(projects);
    let (token, _) = mint(
        keyring,
        &MintRequest {
            location: "https://upload.example.org",
            prefix: "pypi-",
            publisher_id: PUBLISHER,
            projects: &projects,
            not_before: NOT_BEFORE,
            expires_at: EXPIRES_AT,
        },
    );
    parse_token(token.expose_secret(), "pypi-").expect("minted token parses")
}

/// A token signed by `keyring` with exactly these predicates (not via `mint`).
fn signed(keyring: &Keyring, predicates: &[&str]) -> ParsedToken {
    let identifier = TokenIdentifier::generate(keyring.current_key_id());
    let root_key = keyring.root_key(&identifier).expect("current key");
    let caveats: Vec<RawCaveat> = predicates
        .iter()
        .map(|p| RawCaveat::first_party(p.as_bytes()))
        .collect();
    let identifier_bytes = identifier.to_string().into_bytes();
    ParsedToken {
        macaroon: Macaroon {
            location: b"https://upload.example.org".to_vec(),
            signature: chain::chain_signature(&root_key, &identifier_bytes, &caveats),
            identifier: identifier_bytes,
            caveats,
        },
        identifier,
    }
}

fn attenuated(mut token: ParsedToken, predicate: &str) -> ParsedToken {
    token.macaroon.add_first_party_caveat(predicate.as_bytes());
    token
}

fn verify_at(
    token: &ParsedToken,
    keyring: &Keyring,
    project: &str,
    now: i64,
    skew: i64,
) -> Result<VerifiedToken, Denial> {
    let publishers = strings(&[PUBLISHER]);
    verify(
        token,
        keyring,
        &VerifyContext {
            project,
            publisher_ids: &publishers,
            now,
            not_before_skew_secs: skew,
        },
    )
}

fn denial_at(token: &ParsedToken, project: &str, now: i64) -> (DenialKind, String) {
    let denial =
        verify_at(token, &default_keyring(), project, now, 0).expect_err("token must be denied");
    (denial.kind(), denial.reason().to_owned())
}

fn caveat_failure(reason: &str) -> (DenialKind, String) {
    (DenialKind::CaveatFailed, reason.to_owned())
}

// --- success ---

#[test]
fn minted_token_verifies_with_its_summary() {
    let keyring = default_keyring();
    let token = minted(&keyring, &["sampleproject", "other"]);
    let verified =
        verify_at(&token, &keyring, "sampleproject", NOT_BEFORE + 1, 0).expect("allowed");
    assert_eq!(
        verified,
        VerifiedToken {
            caveats: vec![
                Caveat::Expiration {
                    expires_at: EXPIRES_AT,
                    not_before: NOT_BEFORE
                },
                Caveat::ProjectName(strings(&["sampleproject", "other"])),
                Caveat::OidcPublisher {
                    publisher_id: PUBLISHER.into()
                },
            ],
            expires_at: EXPIRES_AT,
            not_before: NOT_BEFORE,
            projects: strings(&["sampleproject", "other"]),
            publisher_id: PUBLISHER.into(),
            attenuated: false,
        }
    );
}

// --- Expiration (reference §7.5 item 70), with skew ---

#[test]
fn expiration_not_before_in_the_future_is_expired() {
    let token = minted(&default_keyring(), &["p"]);
    assert_eq!(
        denial_at(&token, "p", NOT_BEFORE - 1),
        caveat_failure("token is expired")
    );
}

#[test]
fn expiration_expires_at_in_the_past_is_expired() {
    let token = minted(&default_keyring(), &["p"]);
    assert_eq!(
        denial_at(&token, "p", EXPIRES_AT + 1),
        caveat_failure("token is expired")
    );
    // expires_at itself is already expired
    assert_eq!(
        denial_at(&token, "p", EXPIRES_AT),
        caveat_failure("token is expired")
    );
}

#[test]
fn expiration_inside_the_window_holds() {
    let keyring = default_keyring();
    let token = minted(&keyring, &["p"]);
    for now in [NOT_BEFORE, NOT_BEFORE + 450, EXPIRES_AT - 1] {
        let verified = verify_at(&token, &keyring, "p", now, 0).expect("inside the window");
        assert_eq!(verified.expires_at, EXPIRES_AT, "now = {now}");
    }
}

#[test]
fn expiration_skew_tolerates_a_verifier_clock_behind_the_minter() {
    let keyring = default_keyring();
    let token = minted(&keyring, &["p"]);
    let verified = verify_at(&token, &keyring, "p", NOT_BEFORE - 10, 10).expect("within skew");
    assert_eq!(verified.not_before, NOT_BEFORE);
    let denial = verify_at(&token, &keyring, "p", NOT_BEFORE - 11, 10).expect_err("beyond skew");
    assert_eq!(denial.reason(), "token is expired");
    // skew never extends the end of the window
    let denial = verify_at(&token, &keyring, "p", EXPIRES_AT, 10).expect_err("expired");
    assert_eq!(denial.reason(), "token is expired");
}

// --- key and signature ---

#[test]
fn wrong_secret_for_the_key_id_is_a_signature_mismatch() {
    let token = minted(&keyring("k1", &[("k1", SECRET_K1)]), &["p"]);
    let other = keyring("k1", &[("k1", SECRET_K2)]);
    let denial = verify_at(&token, &other, "p", NOT_BEFORE, 0).expect_err("wrong key");
    assert_eq!(denial.kind(), DenialKind::BadSignature);
    assert_eq!(denial.reason(), "signatures do not match");
}

#[test]
fn retired_key_id_is_denied() {
    let old = keyring("k1", &[("k1", SECRET_K1)]);
    let token = minted(&old, &["p"]);
    // rotated: k2 is current and k1 has been removed
    let rotated = keyring("k2", &[("k2", SECRET_K2)]);
    let denial = verify_at(&token, &rotated, "p", NOT_BEFORE, 0).expect_err("retired key");
    assert_eq!(denial.kind(), DenialKind::UnknownKey);
    assert_eq!(
        denial.reason(),
        "token signing key 'k1' is unknown or retired"
    );
}

#[test]
fn older_key_id_keeps_verifying_until_removed() {
    let old = keyring("k1", &[("k1", SECRET_K1)]);
    let token = minted(&old, &["p"]);
    let rotating = keyring("k2", &[("k1", SECRET_K1), ("k2", SECRET_K2)]);
    let verified = verify_at(&token, &rotating, "p", NOT_BEFORE, 0).expect("k1 still listed");
    assert_eq!(verified.projects, strings(&["p"]));
}

#[test]
fn identifier_not_matching_the_macaroon_is_malformed() {
    let keyring = default_keyring();
    let mut token = minted(&keyring, &["p"]);
    token.identifier = TokenIdentifier::generate("k1");
    let denial = verify_at(&token, &keyring, "p", NOT_BEFORE, 0).expect_err("mismatch");
    assert_eq!(denial.kind(), DenialKind::Malformed);
    assert_eq!(
        denial.reason(),
        "malformed token: identifier does not match the macaroon"
    );
}

// --- each caveat's failure message ---

#[test]
fn project_outside_the_token_is_denied() {
    let token = minted(&default_keyring(), &["sampleproject"]);
    assert_eq!(
        denial_at(&token, "otherproject", NOT_BEFORE),
        caveat_failure("project-scoped token is not valid for project: 'otherproject'")
    );
}

#[test]
fn publisher_not_in_the_record_is_denied() {
    let keyring = default_keyring();
    let token = minted(&keyring, &["p"]);
    let publishers = strings(&["another-publisher"]);
    let denial = verify(
        &token,
        &keyring,
        &VerifyContext {
            project: "p",
            publisher_ids: &publishers,
            now: NOT_BEFORE,
            not_before_skew_secs: 0,
        },
    )
    .expect_err("publisher mismatch");
    assert_eq!(
        denial.reason(),
        "current OIDC publisher does not match publisher restriction in token"
    );
}

#[test]
fn all_failures_are_joined_in_caveat_order() {
    let token = minted(&default_keyring(), &["p"]);
    assert_eq!(
        denial_at(&token, "q", EXPIRES_AT),
        caveat_failure("token is expired, project-scoped token is not valid for project: 'q'")
    );
}

#[test]
fn empty_array_caveat_is_denied_with_its_error() {
    let token = attenuated(minted(&default_keyring(), &["p"]), "[]");
    assert_eq!(
        denial_at(&token, "p", NOT_BEFORE),
        caveat_failure("caveat array cannot be empty")
    );
}

#[test]
fn unknown_tag_and_non_json_caveats_are_denied() {
    let token = attenuated(minted(&default_keyring(), &["p"]), "[9,1]");
    assert_eq!(
        denial_at(&token, "p", NOT_BEFORE),
        caveat_failure("caveat has unknown tag: 9")
    );
    let token = attenuated(minted(&default_keyring(), &["p"]), "account = 3735928559");
    assert_eq!(
        denial_at(&token, "p", NOT_BEFORE),
        caveat_failure("caveat is not valid JSON")
    );
}

#[test]
fn project_id_caveat_cannot_be_evaluated() {
    let token = attenuated(minted(&default_keyring(), &["p"]), r#"[2,["id"]]"#);
    assert_eq!(
        denial_at(&token, "p", NOT_BEFORE),
        caveat_failure("token with project ID restriction cannot be verified by this service")
    );
}

#[test]
fn request_user_caveat_cannot_be_evaluated() {
    let token = attenuated(minted(&default_keyring(), &["p"]), r#"[3,"user"]"#);
    assert_eq!(
        denial_at(&token, "p", NOT_BEFORE),
        caveat_failure("token with user restriction without a user")
    );
}

#[test]
fn third_party_caveat_is_denied_after_the_signature_check() {
    let keyring = default_keyring();
    let mut token = minted(&keyring, &["p"]);
    let caveat = RawCaveat {
        location: Some(b"https://auth.example".to_vec()),
        identifier: b"cid".to_vec(),
        verification_id: Some(vec![3; 72]),
    };
    // extend the chain correctly (hash2), so only the third-party rule can deny
    let root_key = keyring.root_key(&token.identifier).expect("key");
    token.macaroon.caveats.push(caveat);
    token.macaroon.signature = chain::chain_signature(
        &root_key,
        &token.macaroon.identifier,
        &token.macaroon.caveats,
    );
    let denial = verify_at(&token, &keyring, "p", NOT_BEFORE, 0).expect_err("third party");
    assert_eq!(denial.kind(), DenialKind::CaveatFailed);
    assert_eq!(denial.reason(), "third-party caveats are not supported");
}

// --- required caveats ---

#[test]
fn token_without_expiration_is_denied() {
    let keyring = default_keyring();
    let token = signed(
        &keyring,
        &[r#"[1,["p"]]"#, &format!(r#"[4,"{PUBLISHER}",null]"#)],
    );
    let denial = verify_at(&token, &keyring, "p", NOT_BEFORE, 0).expect_err("no expiry");
    assert_eq!(denial.reason(), "token has no expiration caveat");
}

#[test]
fn token_without_publisher_is_denied() {
    let keyring = default_keyring();
    let token = signed(&keyring, &["[0,1700000900,1700000000]", r#"[1,["p"]]"#]);
    let denial = verify_at(&token, &keyring, "p", NOT_BEFORE, 0).expect_err("no publisher");
    assert_eq!(denial.reason(), "token has no OIDC publisher caveat");
}

#[test]
fn token_without_any_caveat_names_every_missing_one() {
    let keyring = default_keyring();
    let token = signed(&keyring, &[]);
    let denial = verify_at(&token, &keyring, "p", NOT_BEFORE, 0).expect_err("no caveats");
    assert_eq!(
        denial.reason(),
        "token has no expiration caveat, token has no project caveat, \
         token has no OIDC publisher caveat"
    );
}

// --- attenuation ---

#[test]
fn narrower_project_list_narrows() {
    let keyring = default_keyring();
    let token = attenuated(
        minted(&keyring, &["sampleproject", "other"]),
        r#"[1,["other"]]"#,
    );
    assert_eq!(
        denial_at(&token, "sampleproject", NOT_BEFORE),
        caveat_failure("project-scoped token is not valid for project: 'sampleproject'")
    );
    let verified = verify_at(&token, &keyring, "other", NOT_BEFORE, 0).expect("still allowed");
    assert_eq!(verified.projects, strings(&["other"]));
    assert!(verified.attenuated);
}

#[test]
fn appended_project_outside_the_original_cannot_widen() {
    let token = attenuated(minted(&default_keyring(), &["p"]), r#"[1,["q"]]"#);
    assert_eq!(
        denial_at(&token, "q", NOT_BEFORE),
        caveat_failure("project-scoped token is not valid for project: 'q'")
    );
}

#[test]
fn earlier_expiry_narrows() {
    let keyring = default_keyring();
    let earlier = NOT_BEFORE + 60;
    let token = attenuated(
        minted(&keyring, &["p"]),
        &format!("[0,{earlier},{NOT_BEFORE}]"),
    );
    let verified = verify_at(&token, &keyring, "p", earlier - 1, 0).expect("before new expiry");
    assert_eq!(verified.expires_at, earlier);
    assert!(verified.attenuated);
    assert_eq!(
        denial_at(&token, "p", earlier),
        caveat_failure("token is expired")
    );
}

#[test]
fn later_expiry_cannot_extend() {
    let token = attenuated(
        minted(&default_keyring(), &["p"]),
        &format!("[0,{},{NOT_BEFORE}]", EXPIRES_AT + 3600),
    );
    assert_eq!(
        denial_at(&token, "p", EXPIRES_AT),
        caveat_failure("token is expired")
    );
}

#[test]
fn removing_a_caveat_breaks_the_signature() {
    for index in 0..MINTED_CAVEAT_COUNT {
        let mut token = minted(&default_keyring(), &["p"]);
        token.macaroon.caveats.remove(index);
        assert_eq!(
            denial_at(&token, "p", NOT_BEFORE),
            (
                DenialKind::BadSignature,
                "signatures do not match".to_owned()
            ),
            "removed caveat {index}"
        );
    }
}

#[test]
fn removing_an_attenuation_breaks_the_signature() {
    let mut token = attenuated(minted(&default_keyring(), &["p", "q"]), r#"[1,["q"]]"#);
    token.macaroon.caveats.pop();
    assert_eq!(
        denial_at(&token, "p", NOT_BEFORE),
        (
            DenialKind::BadSignature,
            "signatures do not match".to_owned()
        )
    );
}

#[test]
fn reordering_caveats_breaks_the_signature() {
    let mut token = minted(&default_keyring(), &["p"]);
    token.macaroon.caveats.swap(0, 2);
    assert_eq!(
        denial_at(&token, "p", NOT_BEFORE),
        (
            DenialKind::BadSignature,
            "signatures do not match".to_owned()
        )
    );
}

#[test]
fn editing_a_caveat_breaks_the_signature() {
    let mut token = minted(&default_keyring(), &["p"]);
    token.macaroon.caveats[1] = RawCaveat::first_party(&br#"[1,["p","q"]]"#[..]);
    assert_eq!(
        denial_at(&token, "q", NOT_BEFORE),
        (
            DenialKind::BadSignature,
            "signatures do not match".to_owned()
        )
    );
}

// --- signature only (revocation) ---

#[test]
fn verify_signature_ignores_caveats_but_not_the_chain() {
    let keyring = default_keyring();
    let token = minted(&keyring, &["p"]);
    // Long expired, wrong project: caveats are not evaluated, the chain is intact.
    assert_eq!(verify_signature(&token, &keyring), Ok(()));
    let other = keyring_with_other_secret();
    let denial = verify_signature(&token, &other).expect_err("wrong key");
    assert_eq!(denial.kind(), DenialKind::BadSignature);
    assert_eq!(denial.reason(), SIGNATURE_MISMATCH);
    let mut tampered = token.clone();
    tampered.macaroon.caveats.pop();
    assert_eq!(
        verify_signature(&tampered, &keyring)
            .expect_err("caveat removed")
            .reason(),
        SIGNATURE_MISMATCH
    );
}

fn keyring_with_other_secret() -> Keyring {
    keyring("k1", &[("k1", SECRET_K2)])
}
