//! Reading a publisher declaration: a `[[publishers]]` config entry or an API request
//! body, as JSON: `{"kind": "github", "projects": [...], <fields of that kind>}`.
//!
//! The envelope (`kind`, `projects`) is read here; the fields go straight into the
//! provider's spec type through serde (see `fields.rs` for the accepted spellings).
//!
//! Strict on purpose: an unknown key is an error naming it (a typo such as
//! `enviroment` would otherwise silently widen the publisher to any environment), and
//! the result is validated.

use serde_json::{Map, Value};

use crate::policy::POLICY_FIELDS;
use crate::publisher::identity_key;
use crate::validation::ValidationError;
use crate::{
    Ecosystem, Origin, ProjectName, Provider, Publisher, PublisherId, PublisherPolicy,
    PublisherSpec,
};

/// The envelope's keys, next to the provider's fields and the policy keys.
const ENVELOPE_KEYS: [&str; 3] = ["kind", "projects", "ecosystem"];

/// A validated publisher declaration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declaration {
    /// The projects, normalised, sorted, without duplicates; never empty.
    pub projects: Vec<ProjectName>,
    /// The identity, validated.
    pub spec: PublisherSpec,
    /// The ecosystem of the projects (`ecosystem`, default `pypi`).
    pub ecosystem: Ecosystem,
    /// The policy (`refs`, `require_protected_ref`, …), validated for the spec's
    /// platform; the default when the entry sets none.
    pub policy: PublisherPolicy,
}

impl Declaration {
    /// The config-declared publisher this declaration makes: always in force, read-only,
    /// with an id derived from its identity so every replica and restart agrees on it.
    pub fn into_declared_publisher(self) -> Publisher {
        Publisher {
            id: PublisherId::for_declared(&identity_key(&self.spec, &self.policy, self.ecosystem)),
            ecosystem: self.ecosystem,
            projects: self.projects,
            pending: false,
            spec: self.spec,
            policy: self.policy,
            origin: Origin::Config,
            created_at: 0,
            expires_at: None,
        }
    }
}

/// Parses and validates a declaration. Id fields (`repository_owner_id`,
/// `namespace_id`, `project_id`, `actor_id`) may be JSON numbers or strings; `null`
/// means "not set".
pub fn parse_declaration(value: &Value) -> Result<Declaration, ValidationError> {
    let object = value
        .as_object()
        .ok_or_else(|| ValidationError::new("publisher", "must be an object"))?;
    let kinds = Provider::ALL
        .iter()
        .map(|p| p.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let provider = match object.get("kind") {
        None | Some(Value::Null) => {
            return Err(ValidationError::new(
                "kind",
                format!("is required; expected one of: {kinds}"),
            ));
        }
        Some(Value::String(kind)) => Provider::parse(kind).ok_or_else(|| {
            ValidationError::new(
                "kind",
                format!(
                    "unknown publisher kind '{}'; expected one of: {kinds}",
                    truncate(kind)
                ),
            )
        })?,
        Some(_) => return Err(ValidationError::new("kind", "must be a string")),
    };
    let fields = provider.spec_fields();
    reject_unknown_keys(object, provider, fields)?;
    let ecosystem = ecosystem(object.get("ecosystem"))?;
    let projects = projects(object.get("projects"), ecosystem)?;
    let (policy_fields, spec_fields): (Map<String, Value>, Map<String, Value>) = object
        .iter()
        .filter(|(key, _)| !ENVELOPE_KEYS.contains(&key.as_str()))
        .map(|(key, value)| (key.clone(), value.clone()))
        .partition(|(key, _)| POLICY_FIELDS.contains(&key.as_str()));
    let spec = provider.spec_from_fields(Value::Object(spec_fields))?;
    spec.validate()?;
    let policy = policy_from_fields(policy_fields)?;
    policy.validate(provider)?;
    Ok(Declaration {
        projects,
        spec,
        policy,
        ecosystem,
    })
}

/// The policy keys of an entry; `null` means "not set", like the spec fields.
fn policy_from_fields(fields: Map<String, Value>) -> Result<PublisherPolicy, ValidationError> {
    let fields: Map<String, Value> = fields.into_iter().filter(|(_, v)| !v.is_null()).collect();
    serde_path_to_error::deserialize(Value::Object(fields)).map_err(|error| {
        ValidationError::new(error.path().to_string(), error.into_inner().to_string())
    })
}

/// The first unknown key (in sorted order, whatever the map's order) is the error.
fn reject_unknown_keys(
    object: &Map<String, Value>,
    provider: Provider,
    fields: &[&str],
) -> Result<(), ValidationError> {
    let mut unknown: Vec<&String> = object
        .keys()
        .filter(|key| {
            !ENVELOPE_KEYS.contains(&key.as_str())
                && !fields.contains(&key.as_str())
                && !POLICY_FIELDS.contains(&key.as_str())
        })
        .collect();
    unknown.sort();
    match unknown.first() {
        None => Ok(()),
        Some(key) => Err(ValidationError::new(
            truncate(key),
            format!(
                "unknown field for a {provider} publisher; expected one of: kind, projects, {}, {}",
                fields.join(", "),
                POLICY_FIELDS.join(", ")
            ),
        )),
    }
}

/// `ecosystem`: `pypi` (also when absent), `crates` or `npm`.
fn ecosystem(value: Option<&Value>) -> Result<Ecosystem, ValidationError> {
    let expected = Ecosystem::ALL.map(Ecosystem::as_str).join(", ");
    match value {
        None | Some(Value::Null) => Ok(Ecosystem::Pypi),
        Some(Value::String(text)) if !text.is_empty() => Ecosystem::parse(text).ok_or_else(|| {
            ValidationError::new(
                "ecosystem",
                format!(
                    "unknown ecosystem '{}'; expected one of: {expected}",
                    truncate(text)
                ),
            )
        }),
        Some(_) => Err(ValidationError::new(
            "ecosystem",
            format!("must be one of: {expected}"),
        )),
    }
}

/// `projects`: a non-empty list of valid project names of `ecosystem`, normalised and
/// deduplicated.
fn projects(
    value: Option<&Value>,
    ecosystem: Ecosystem,
) -> Result<Vec<ProjectName>, ValidationError> {
    let items = match value {
        None | Some(Value::Null) => {
            return Err(ValidationError::new(
                "projects",
                "is required; list at least one project",
            ));
        }
        Some(Value::Array(items)) => items,
        Some(_) => {
            return Err(ValidationError::new(
                "projects",
                "must be a list of project names",
            ));
        }
    };
    if items.is_empty() {
        return Err(ValidationError::new(
            "projects",
            "must list at least one project",
        ));
    }
    let mut projects = items
        .iter()
        .enumerate()
        .map(|(index, item)| {
            let field = format!("projects[{index}]");
            let raw = item
                .as_str()
                .ok_or_else(|| ValidationError::new(&field, "must be a string"))?;
            ecosystem
                .project(raw)
                .map_err(|error| ValidationError::new(&field, error.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    projects.sort();
    projects.dedup();
    Ok(projects)
}

/// Echoed user input stays short.
fn truncate(text: &str) -> String {
    crate::reasons::truncated(text).into_owned()
}

#[cfg(test)]
mod tests;
