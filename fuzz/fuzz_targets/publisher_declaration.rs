//! Publisher declarations as an operator writes them (`[[publishers]]` TOML) or an
//! index sends them (JSON): parse → spec → validation. No panic; a declaration that
//! validates is normalised (projects sorted, unique, non-empty) and reads the same twice.

#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use trustmint_publishers::parse_declaration;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let value = if mode % 2 == 0 {
        let Ok(table) = toml::from_str::<toml::Table>(text) else {
            return;
        };
        let Ok(value) = serde_json::to_value(table) else {
            return;
        };
        value
    } else {
        let Ok(value) = serde_json::from_str::<Value>(text) else {
            return;
        };
        value
    };
    let Ok(declaration) = parse_declaration(&value) else {
        return;
    };
    assert!(!declaration.projects.is_empty());
    assert!(
        declaration
            .projects
            .windows(2)
            .all(|pair| pair[0] < pair[1]),
        "projects not sorted and unique"
    );
    assert_eq!(parse_declaration(&value).ok(), Some(declaration.clone()));
    let identity = declaration.spec.identity_key();
    let publisher = declaration.clone().into_declared_publisher();
    assert_eq!(publisher.id, declaration.into_declared_publisher().id);
    assert!(!identity.is_empty());
});
