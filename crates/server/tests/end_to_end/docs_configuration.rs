//! `docs/configuration.md` is generated from the config structs and cannot drift: the
//! keys, types and defaults come from `Settings::default()` serialised; the descriptions
//! and examples from `docs_configuration/reference.rs`. The test fails when a key is
//! undocumented, a description names no key, a documented environment variable does not
//! set its key, the `[[issuers]]`/`[[publishers]]` fields differ from what the parsers
//! accept, the example is invalid, or the file differs from the rendered text.
//!
//! Regenerate after changing a config struct or the reference:
//! `TRUSTMINT_BLESS_DOCS=1 cargo test -p trustmint --test end_to_end docs_configuration`

mod reference;

use std::fmt::Write as _;
use std::path::PathBuf;

use reference::{
    EXAMPLE, INTRO, ISSUER_FIELDS, ISSUERS_TEXT, KEYS, Key, PUBLISHERS_TEXT, SECRET_KEYS,
};
use serde_json::{Map, Value, json};
use trustmint::Settings;
use trustmint_claims::IssuerSettings;
use trustmint_publishers::Provider;

const REGENERATE: &str =
    "TRUSTMINT_BLESS_DOCS=1 cargo test -p trustmint --test end_to_end docs_configuration";

fn docs_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/configuration.md")
}

/// The defaults, section by section.
fn default_sections() -> Map<String, Value> {
    match serde_json::to_value(Settings::default()).expect("settings serialise") {
        Value::Object(sections) => sections,
        other => panic!("settings serialised to {other}"),
    }
}

fn default_of(sections: &Map<String, Value>, path: &str) -> Value {
    let (section, key) = path.split_once('.').expect("section.key");
    sections[section][key].clone()
}

fn env_name(path: &str) -> String {
    format!("TRUSTMINT__{}", path.replace('.', "__").to_uppercase())
}

/// A default as written in TOML.
fn render_value(value: &Value) -> String {
    match value {
        Value::String(text) => format!("`{}`", Value::String(text.clone())),
        Value::Object(map) if map.is_empty() => "`{}`".to_owned(),
        other => format!("`{other}`"),
    }
}

/// The environment column: the variable, and how its value is written.
fn render_env(key: &Key) -> String {
    match key.ty {
        "list of strings" => format!("`{}` (comma-separated)", env_name(key.path)),
        "table" => format!("`{}__<ID>`", env_name(key.path)),
        _ => format!("`{}`", env_name(key.path)),
    }
}

/// Whether `value` (a default) fits the documented type.
fn type_fits(ty: &str, value: &Value) -> bool {
    match ty {
        "string" => value.is_string(),
        "integer" => value.is_u64() || value.is_i64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "list of strings" => value
            .as_array()
            .is_some_and(|a| a.iter().all(Value::is_string)),
        "table" => value.is_object(),
        enumeration => value
            .as_str()
            .is_some_and(|v| enumeration.contains(&format!("`{v}`"))),
    }
}

/// The whole document.
fn render() -> String {
    let sections = default_sections();
    let mut out = String::new();
    let _ = writeln!(out, "# Configuration\n");
    let _ = writeln!(
        out,
        "<!-- Generated from the config structs by crates/server/tests/end_to_end/docs_configuration.rs; do not edit.\n     Regenerate: {REGENERATE} -->\n"
    );
    let _ = writeln!(out, "{INTRO}\n");
    let mut current_section = "";
    for key in KEYS {
        let (section, name) = key.path.split_once('.').expect("section.key");
        if section != current_section {
            current_section = section;
            let _ = writeln!(out, "## `[{section}]`\n");
            let _ = writeln!(
                out,
                "| key | type | default | environment variable | description |"
            );
            let _ = writeln!(out, "|---|---|---|---|---|");
        }
        let _ = writeln!(
            out,
            "| `{name}` | {} | {} | {} | {} |",
            key.ty,
            render_value(&default_of(&sections, key.path)),
            render_env(key),
            key.text
        );
        let next_section = KEYS
            .iter()
            .skip_while(|k| k.path != key.path)
            .nth(1)
            .map(|k| k.path.split('.').next().unwrap_or_default());
        if next_section != Some(section) {
            out.push('\n');
        }
    }
    let _ = writeln!(out, "## `[[issuers]]`\n");
    let _ = writeln!(out, "| field | type | default | description |");
    let _ = writeln!(out, "|---|---|---|---|");
    for (name, ty, default, text) in ISSUER_FIELDS {
        let _ = writeln!(out, "| `{name}` | {ty} | {default} | {text} |");
    }
    let _ = writeln!(out, "\n{ISSUERS_TEXT}\n");
    let _ = writeln!(out, "## `[[publishers]]`\n");
    let _ = writeln!(out, "| kind | fields besides `kind` and `projects` |");
    let _ = writeln!(out, "|---|---|");
    for provider in Provider::ALL {
        let fields: Vec<String> = provider
            .spec_fields()
            .iter()
            .map(|f| format!("`{f}`"))
            .collect();
        let _ = writeln!(out, "| `{provider}` | {} |", fields.join(", "));
    }
    let policy: Vec<String> = trustmint_publishers::POLICY_FIELDS
        .iter()
        .map(|f| format!("`{f}`"))
        .collect();
    let _ = writeln!(
        out,
        "\nEvery kind also takes the policy keys {}.",
        policy.join(", ")
    );
    let _ = writeln!(out, "\n{PUBLISHERS_TEXT}\n");
    let _ = writeln!(out, "## Example\n");
    let _ = writeln!(out, "```toml\n{EXAMPLE}\n```");
    out
}

#[test]
fn every_key_is_documented_and_every_description_names_a_key() {
    let sections = default_sections();
    let mut actual: Vec<String> = Vec::new();
    for (section, keys) in &sections {
        match keys {
            Value::Object(keys) => {
                actual.extend(keys.keys().map(|key| format!("{section}.{key}")));
            }
            // `issuers` and `publishers` are lists, documented field by field below.
            Value::Array(_) => assert!(
                ["issuers", "publishers"].contains(&section.as_str()),
                "top-level list {section} is not documented; {REGENERATE}"
            ),
            other => panic!("top-level key {section} = {other} is not a section"),
        }
    }
    let documented: Vec<String> = KEYS.iter().map(|k| k.path.to_owned()).collect();
    let undocumented: Vec<&String> = actual.iter().filter(|k| !documented.contains(k)).collect();
    let unknown: Vec<&String> = documented.iter().filter(|k| !actual.contains(k)).collect();
    assert!(
        undocumented.is_empty() && unknown.is_empty(),
        "keys without a description: {undocumented:?}; descriptions of keys that do not exist: {unknown:?}. \
         Edit crates/server/tests/end_to_end/docs_configuration/reference.rs, then {REGENERATE}"
    );
    for key in KEYS {
        let default = default_of(&sections, key.path);
        assert!(
            type_fits(key.ty, &default),
            "{}: documented as {}, default {default}",
            key.path,
            key.ty
        );
    }
    // The defaults the document shows are the ones a config without a file gets.
    let loaded = Settings::load(None, std::iter::empty()).expect("defaults load");
    assert_eq!(
        serde_json::to_value(&loaded).expect("serialise"),
        Value::Object(sections)
    );
}

#[test]
fn every_documented_environment_variable_sets_its_key() {
    for key in KEYS.iter().filter(|k| k.ty != "table") {
        let variable = env_name(key.path);
        let settings = Settings::load(None, [(variable.clone(), key.env_example.to_owned())])
            .unwrap_or_else(|error| panic!("{variable}={}: {error}", key.env_example));
        let sections = match serde_json::to_value(&settings).expect("serialise") {
            Value::Object(sections) => sections,
            other => panic!("{other}"),
        };
        let expected = if SECRET_KEYS.contains(&key.path) {
            match key.ty {
                "list of strings" => json!(
                    key.env_example
                        .split(',')
                        .map(|_| "<redacted>")
                        .collect::<Vec<_>>()
                ),
                _ => json!("<redacted>"),
            }
        } else {
            match key.ty {
                "list of strings" => json!(key.env_example.split(',').collect::<Vec<_>>()),
                "integer" => json!(key.env_example.parse::<i64>().expect("integer example")),
                "number" => json!(key.env_example.parse::<f64>().expect("number example")),
                "boolean" => json!(key.env_example.parse::<bool>().expect("boolean example")),
                _ => json!(key.env_example),
            }
        };
        assert_eq!(
            default_of(&sections, key.path),
            expected,
            "{variable}={}",
            key.env_example
        );
    }
    // Secrets by key id; the id is lower-cased.
    let secret = "dHJ1c3RtaW50LWRvY3MtdGVzdC1zZWNyZXQtMzItYnl0ZXM=";
    let settings = Settings::load(
        None,
        [("TRUSTMINT__KEYS__SECRETS__K9".to_owned(), secret.to_owned())],
    )
    .expect("loads");
    assert_eq!(
        settings.keys.secrets.get("k9").map(String::as_str),
        Some(secret)
    );
}

#[test]
fn serialised_settings_redact_secrets() {
    let mut settings = Settings::default();
    settings.keys.current = "k1".to_owned();
    settings
        .keys
        .secrets
        .insert("k1".to_owned(), "c2VjcmV0LXZhbHVl".to_owned());
    settings.grpc.auth_token = "grpc-secret".to_owned();
    settings.grpc.auth_tokens = vec!["grpc-secret-2".to_owned()];
    let text = serde_json::to_string(&settings).expect("serialise");
    assert!(
        !text.contains("c2VjcmV0LXZhbHVl") && !text.contains("grpc-secret"),
        "{text}"
    );
    let value: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(value["keys"]["secrets"], json!({ "k1": "<redacted>" }));
    assert_eq!(value["grpc"]["auth_token"], "<redacted>");
    assert_eq!(value["grpc"]["auth_tokens"], json!(["<redacted>"]));
}

#[test]
fn issuer_and_publisher_fields_match_what_the_parsers_accept() {
    // Every IssuerSettings field, set: adding a field breaks this literal.
    let full = IssuerSettings {
        name: Some("n".into()),
        url: Some("https://a.example".into()),
        url_pattern: Some("https://*.example".into()),
        kind: Provider::GitHub,
        jwks_uri: Some("https://a.example/jwks".into()),
        algorithms: Some(vec!["RS256".into()]),
        enabled: Some(true),
        audiences: Some(vec!["pypi-staging".into()]),
        required_claims: Some(vec!["tenant_id".into()]),
        pattern_claims: Some(vec!["ref".into()]),
        replay_key: Some("sha256".into()),
    };
    let mut fields: Vec<String> = match serde_json::to_value(full).expect("serialise") {
        Value::Object(map) => map.keys().cloned().collect(),
        other => panic!("{other}"),
    };
    fields.sort();
    let mut documented: Vec<String> = ISSUER_FIELDS.iter().map(|f| f.0.to_owned()).collect();
    documented.sort();
    assert_eq!(fields, documented, "[[issuers]] fields; then {REGENERATE}");
    for &kind in Provider::ALL
        .iter()
        .filter(|k| !k.public_issuer().is_empty())
    {
        assert!(
            ISSUERS_TEXT.contains(&format!("`{}` ({})", kind.public_issuer(), kind.as_str())),
            "the public {kind} issuer is not named in ISSUERS_TEXT"
        );
    }

    // The parser lists the fields of a kind when it refuses an unknown one.
    for provider in Provider::ALL {
        let (kind, documented) = (provider.as_str(), provider.spec_fields());
        let error = trustmint_publishers::parse_declaration(
            &json!({ "kind": kind, "projects": ["p"], "zz_not_a_field": "x" }),
        )
        .expect_err("unknown field refused")
        .to_string();
        let accepted = error
            .split("expected one of: kind, projects, ")
            .nth(1)
            .unwrap_or_else(|| panic!("unexpected message: {error}"));
        assert_eq!(
            accepted,
            format!(
                "{}, {}",
                documented.join(", "),
                trustmint_publishers::POLICY_FIELDS.join(", ")
            ),
            "[[publishers]] fields of kind {kind}; then {REGENERATE}"
        );
    }
}

#[test]
fn the_example_is_a_valid_configuration() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("trustmint.toml");
    // The files the example names exist on the deployment; here, in the temp dir.
    let token_file = dir.path().join("grpc-token");
    std::fs::write(&token_file, "index-token\n").expect("write");
    let example = EXAMPLE.replace(
        "/run/secrets/trustmint-grpc-token",
        &token_file.display().to_string(),
    );
    assert_ne!(example, EXAMPLE, "the example names the token file");
    std::fs::write(&path, example).expect("write");
    let secret = "dHJ1c3RtaW50LWRvY3MtdGVzdC1zZWNyZXQtMzItYnl0ZXM=";
    let settings = Settings::load(
        Some(&path),
        [
            ("TRUSTMINT__KEYS__SECRETS__K1".to_owned(), secret.to_owned()),
            ("TRUSTMINT__KEYS__SECRETS__K2".to_owned(), secret.to_owned()),
        ],
    )
    .expect("the example loads");
    let report = trustmint::check(&settings).expect("the example passes check-config");
    assert!(report.contains("github-enterprise"), "{report}");
}

#[test]
fn docs_configuration_md_is_up_to_date() {
    let rendered = render();
    let path = docs_path();
    if std::env::var_os("TRUSTMINT_BLESS_DOCS").is_some() {
        std::fs::write(&path, &rendered).expect("write docs/configuration.md");
        return;
    }
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    if current != rendered {
        let first_difference = current
            .lines()
            .zip(rendered.lines())
            .position(|(a, b)| a != b)
            .map_or_else(
                || "the files differ in length".to_owned(),
                |line| format!("first difference at line {}", line + 1),
            );
        panic!(
            "docs/configuration.md is out of date with the config structs ({first_difference}).\n\
             Regenerate it: {REGENERATE}"
        );
    }
}
