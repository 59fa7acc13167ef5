//! Writes the seed corpora of every fuzz target into `fuzz/seeds/<target>/` from the
//! same shapes the tests use: testkit claim builders (GitHub, GitLab, Google,
//! ActiveState), the attack headers of the verifier tests, minted and attenuated
//! tokens, PyPI's body table, and the declarations of examples/ and the publisher
//! tests: `just fuzz-seeds`.
//!
//! A fuzz target in name only: it writes the seeds in libFuzzer's `init` hook and
//! exits. Built with the targets, it links against the same instrumented code (a plain
//! binary of this crate would not link: the instrumentation needs libFuzzer's hooks).

#![no_main]
// The init hook exits the process, so the generated per-input body is unreachable.
#![allow(unreachable_code)]

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use trustmint_fuzz::{AUDIENCE, GITHUB_ISSUER, NOW, PREFIX, jwt_fixture, minted_token};
use trustmint_testkit::claims::{ActiveStateClaims, GitHubClaims, GitLabClaims, GoogleClaims};
use trustmint_testkit::{KeyAlgorithm, SignOptions, TestKey};
use trustmint_tokens::Macaroon;

libfuzzer_sys::fuzz_target!(
    init: {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds");
        match write_seeds(&root) {
            Ok(()) => std::process::exit(0),
            Err(error) => {
                eprintln!("seed_corpora: {error}");
                std::process::exit(1);
            }
        }
    },
    |_data: &[u8]| {}
);

fn write_seeds(root: &Path) -> std::io::Result<()> {
    let claim_sets = claim_sets();
    let key = TestKey::generate(KeyAlgorithm::RS256, "seed-rsa").expect("key");

    // jwt_peek: real-shaped tokens and the attack headers.
    let mut jwts: Vec<String> = claim_sets
        .iter()
        .map(|claims| key.sign(claims).expect("sign"))
        .collect();
    let github = &claim_sets[0];
    for options in attack_headers(&key) {
        jwts.push(key.sign_with(&options, github).expect("sign"));
    }
    write_all(
        root,
        "jwt_peek",
        jwts.iter().map(|jwt| jwt.as_bytes().to_vec()),
    )?;

    // jwt_verify: sign requests for the fixture's key (valid, then each claim broken)
    // and raw tokens signed by a key it does not know.
    let mut requests: Vec<Vec<u8>> = Vec::new();
    for claims in claim_sets.iter().take(1) {
        requests.push(request(json!({}), claims.clone()));
        for (name, value) in [
            ("exp", json!(NOW - 3600)),
            ("iat", json!(NOW + 3600)),
            ("nbf", json!(NOW + 3600)),
            ("aud", json!(["pypi", "other"])),
            ("iss", json!("https://gitlab.com")),
            ("jti", json!("j".repeat(300))),
            ("exp", json!("soon")),
        ] {
            let mut broken = claims.clone();
            broken[name] = value;
            requests.push(request(json!({}), broken));
        }
        requests.push(request(json!({"kid": "fuzz-rsa"}), claims.clone()));
        requests.push(request(json!({"kid": "unknown"}), claims.clone()));
        requests.push(request(json!({"crit": ["exp"]}), claims.clone()));
    }
    requests.extend(jwts.iter().map(|jwt| jwt.as_bytes().to_vec()));
    let fixture_signed = jwt_fixture()
        .signing_key
        .sign(&claim_sets[0])
        .expect("sign");
    requests.push(fixture_signed.into_bytes());
    write_all(root, "jwt_verify", requests)?;

    // macaroon_codec: a minted macaroon, an attenuated one, a third-party caveat.
    let minted = minted_token();
    let minted_bytes = URL_SAFE_NO_PAD
        .decode(&minted.expose_secret()[PREFIX.len()..])
        .expect("base64");
    let mut attenuated = Macaroon::decode_v2(&minted_bytes).expect("decodes");
    attenuated.add_first_party_caveat(br#"[1,["sampleproject"]]"#);
    let mut third_party = attenuated.clone();
    third_party.caveats.push(trustmint_tokens::RawCaveat {
        location: Some(b"https://auth.example.org".to_vec()),
        identifier: b"third-party-id".to_vec(),
        verification_id: Some(vec![7; 48]),
    });
    let mut no_location = attenuated.clone();
    no_location.location.clear();
    write_all(
        root,
        "macaroon_codec",
        [
            &minted_bytes,
            &attenuated.encode_v2(),
            &third_party.encode_v2(),
            &no_location.encode_v2(),
        ]
        .map(|bytes| bytes.to_vec()),
    )?;

    // token_verify: mode 0 = the token as presented; mode 1 = appended caveats.
    let mut tokens: Vec<Vec<u8>> = Vec::new();
    tokens.push([b"\x00", minted.expose_secret().as_bytes()].concat());
    tokens.push(
        [
            b"\x00".as_slice(),
            format!(
                "{PREFIX}{}",
                URL_SAFE_NO_PAD.encode(third_party.encode_v2())
            )
            .as_bytes(),
        ]
        .concat(),
    );
    for predicates in [
        "",
        r#"[1,["sampleproject"]]"#,
        r#"[1,["other"]]"#,
        &format!("[0,{},{}]", NOW + 60, NOW - 60),
        &format!("[0,{},{}]", NOW - 1, NOW - 60),
        r#"[2,["12345"]]"#,
        r#"[3,"user-1"]"#,
        r#"[4,"publisher-1",null]"#,
        r#"[4,"publisher-2",null]"#,
        "[9]\n{}\nnot json",
        r#"{"version":1,"permissions":"user"}"#,
    ] {
        tokens.push([b"\x01", predicates.as_bytes()].concat());
    }
    write_all(root, "token_verify", tokens)?;

    // http_mint_body: [limit lo, limit hi, chunk size] ‖ body (PyPI's payload table).
    let mut bodies: Vec<Vec<u8>> = [
        "",
        "[]",
        "\"a string\"",
        "12345",
        "3.14",
        "null",
        "{}",
        r#"{"token":null}"#,
        r#"{"wrongkey":""}"#,
        r#"{"token":3.14}"#,
        r#"{"token":[""]}"#,
        r#"{"token":{}}"#,
        r#"{"token":"abc","extra":1}"#,
    ]
    .iter()
    .map(|body| [&[0x00, 0x10, 7][..], body.as_bytes()].concat())
    .collect();
    let jwt_body = json!({"token": jwts[0]}).to_string();
    bodies.push([&[0x00, 0x10, 63][..], jwt_body.as_bytes()].concat());
    bodies.push([&[0x10, 0x00, 3][..], jwt_body.as_bytes()].concat());
    write_all(root, "http_mint_body", bodies)?;

    // publisher_declaration: mode 0 = TOML, 1 = JSON.
    let mut declarations: Vec<Vec<u8>> =
        vec![[b"\x00".as_slice(), DEV_TOML_PUBLISHER.as_bytes()].concat()];
    for declaration in declaration_examples() {
        declarations.push([b"\x01".as_slice(), declaration.to_string().as_bytes()].concat());
    }
    write_all(root, "publisher_declaration", declarations)?;

    // gateway_form: [preamble cap, chunk-length count, lengths…] ‖ content type ‖ \n ‖ body.
    let forms = upload_forms()
        .into_iter()
        .enumerate()
        .map(|(index, (content_type, body))| {
            let header: &[u8] = match index % 3 {
                0 => &[255, 0],
                1 => &[8, 2, 7, 64],
                _ => &[255, 3, 1, 2, 200],
            };
            [header, content_type.as_bytes(), b"\n", &body].concat()
        });
    write_all(root, "gateway_form", forms)?;
    Ok(())
}

/// Upload forms as twine and uv send them, and the tricks the scanner refuses: a second
/// `name` after the file, a second distribution, a file before `name`, a quoted
/// boundary, `filename*`, data after the closing boundary, a truncated body.
fn upload_forms() -> Vec<(String, Vec<u8>)> {
    const BOUNDARY: &str = "----b0undary";
    let content_type = format!("multipart/form-data; boundary={BOUNDARY}");
    let part = |name: &str, file: Option<&str>, value: &str| -> String {
        let disposition = match file {
            Some(file) => format!(
                "Content-Disposition: form-data; name=\"{name}\"; filename=\"{file}\"\r\nContent-Type: application/octet-stream"
            ),
            None => format!("Content-Disposition: form-data; name=\"{name}\""),
        };
        format!("--{BOUNDARY}\r\n{disposition}\r\n\r\n{value}\r\n")
    };
    let end = format!("--{BOUNDARY}--\r\n");
    let wheel = "sampleproject-1.0-py3-none-any.whl";
    let fields = [
        part(":action", None, "file_upload"),
        part("protocol_version", None, "1"),
        part("name", None, "sampleproject"),
        part("version", None, "1.0"),
        part("filetype", None, "bdist_wheel"),
        part("sha256_digest", None, "0123abcd"),
    ]
    .concat();
    let file = part(
        "content",
        Some(wheel),
        "PK\x03\x04 wheel bytes --not-a-boundary",
    );
    let signature = part(
        "gpg_signature",
        Some(&format!("{wheel}.asc")),
        "-----BEGIN PGP",
    );
    let bodies = [
        format!("{fields}{file}{end}"),
        format!("{fields}{file}{signature}{end}"),
        format!("{fields}{end}"),
        format!("{fields}{file}{}{end}", part("name", None, "otherproject")),
        format!(
            "{fields}{file}{}{end}",
            part("content", Some("other-1.0.tar.gz"), "x")
        ),
        format!("{}{fields}{end}", part("content", Some(wheel), "x")),
        format!("{fields}{file}{end}trailing"),
        format!("{fields}{file}"),
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nsampleproject\r\n--{BOUNDARY}\r\nContent-Disposition: form-data; name=content; filename*=UTF-8''x.whl\r\n\r\nx\r\n{end}"
        ),
    ];
    let mut forms: Vec<(String, Vec<u8>)> = bodies
        .into_iter()
        .map(|body| (content_type.clone(), body.into_bytes()))
        .collect();
    forms.push((
        format!("multipart/form-data; charset=utf-8; boundary=\"{BOUNDARY}\""),
        format!("{fields}{file}{end}").into_bytes(),
    ));
    forms.push(("application/json".to_owned(), b"{}".to_vec()));
    forms
}

/// The `[[publishers]]` entry of examples/dev.toml, as one table.
const DEV_TOML_PUBLISHER: &str = r#"kind = "github"
issuer = "http://127.0.0.1:9000"
projects = ["sampleproject"]
repository_owner = "octo-org"
repository_owner_id = "92345678"
repository_name = "sampleproject"
workflow_filename = "release.yml"
environment = "pypi"
"#;

fn claim_sets() -> Vec<Value> {
    vec![
        GitHubClaims::new()
            .environment("pypi")
            .build(GITHUB_ISSUER, AUDIENCE, NOW),
        GitLabClaims::new().build("https://gitlab.com", AUDIENCE, NOW),
        GoogleClaims::new().build("https://accounts.google.com", AUDIENCE, NOW),
        ActiveStateClaims::new().build(
            "https://platform.activestate.com/api/v1/oauth/oidc",
            AUDIENCE,
            NOW,
        ),
    ]
}

fn attack_headers(key: &TestKey) -> Vec<SignOptions> {
    vec![
        SignOptions::unsigned(),
        SignOptions::hmac(key.public_key_pem()),
        SignOptions::default().without_kid(),
        SignOptions::default().with_kid("k".repeat(300)),
        SignOptions::default().with_alg("ES256"),
        SignOptions::default().with_header("jku", json!("https://evil.example/jwks")),
        SignOptions::default().with_header("jwk", key.public_jwk()),
        SignOptions::default().with_header("crit", json!(["b64"])),
        SignOptions::default().with_header("kid", json!(42)),
    ]
}

fn request(header: Value, claims: Value) -> Vec<u8> {
    json!({"header": header, "claims": claims})
        .to_string()
        .into_bytes()
}

fn declaration_examples() -> Vec<Value> {
    vec![
        json!({"kind": "github", "projects": ["sampleproject"], "repository_owner": "pypa",
               "repository_owner_id": "647025", "repository_name": "sampleproject",
               "workflow_filename": "release.yml", "environment": "pypi"}),
        json!({"kind": "gitlab", "projects": ["Sample_Project", "sample.project", "other"],
               "namespace": "group/sub", "project": "proj", "workflow_filepath": ".gitlab-ci.yml",
               "issuer": "https://gitlab.example.com", "namespace_id": 1234567,
               "project_id": "12345678"}),
        json!({"kind": "google", "projects": ["p"],
               "email": "ci@my-project.iam.gserviceaccount.com", "sub": null}),
        json!({"kind": "activestate", "projects": ["p"], "organization": "fakeorg",
               "project": "fakeproject", "actor": "bob", "actor_id": 42}),
    ]
}

fn write_all(
    root: &Path,
    target: &str,
    seeds: impl IntoIterator<Item = Vec<u8>>,
) -> std::io::Result<()> {
    let dir = root.join(target);
    std::fs::create_dir_all(&dir)?;
    let mut count = 0;
    for (index, seed) in seeds.into_iter().enumerate() {
        std::fs::write(dir.join(format!("seed-{index:03}")), seed)?;
        count += 1;
    }
    println!("{target}: {count} seeds");
    Ok(())
}
