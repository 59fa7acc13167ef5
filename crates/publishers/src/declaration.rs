//! Reading a publisher declaration: a `[[publishers]]` config entry or an API request
//! body, as JSON: `{"kind": "github", "projects": [...], <fields of that kind>}`.
//!
//! Strict on purpose: an unknown key is an error naming it (a typo such as
//! `enviroment` would otherwise silently widen the publisher to any environment), and
//! the result is validated.

use serde_json::{Map, Value};

use crate::validation::ValidationError;
use crate::{
    ActiveStatePublisher, GitHubPublisher, GitLabPublisher, GooglePublisher, Origin, ProjectName,
    Provider, Publisher, PublisherId, PublisherSpec,
};

/// A validated publisher declaration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declaration {
    /// The projects, normalised, sorted, without duplicates; never empty.
    pub projects: Vec<ProjectName>,
    /// The identity, validated.
    pub spec: PublisherSpec,
}

impl Declaration {
    /// The config-declared publisher this declaration makes: always in force, read-only,
    /// with an id derived from its identity so every replica and restart agrees on it.
    pub fn into_declared_publisher(self) -> Publisher {
        Publisher {
            id: PublisherId::for_declared(&self.spec.identity_key()),
            projects: self.projects,
            pending: false,
            spec: self.spec,
            origin: Origin::Config,
            created_at: 0,
            expires_at: None,
        }
    }
}

/// Fields of each kind, in declaration order (also the order of "expected …" lists).
const GITHUB_FIELDS: [&str; 7] = [
    "repository_owner",
    "repository_owner_id",
    "repository_name",
    "workflow_filename",
    "environment",
    "issuer",
    "workflow_repository",
];
const GITLAB_FIELDS: [&str; 7] = [
    "namespace",
    "project",
    "workflow_filepath",
    "environment",
    "issuer",
    "namespace_id",
    "project_id",
];
const GOOGLE_FIELDS: [&str; 2] = ["email", "sub"];
const ACTIVESTATE_FIELDS: [&str; 4] = ["organization", "project", "actor", "actor_id"];

/// Fields that are numeric ids on some platform and may be written as JSON numbers.
const ID_FIELDS: [&str; 4] = [
    "repository_owner_id",
    "namespace_id",
    "project_id",
    "actor_id",
];

/// Parses and validates a declaration. Id fields (`repository_owner_id`,
/// `namespace_id`, `project_id`, `actor_id`) may be JSON numbers or strings; `null`
/// means "not set".
pub fn parse_declaration(value: &Value) -> Result<Declaration, ValidationError> {
    let object = value
        .as_object()
        .ok_or_else(|| ValidationError::new("publisher", "must be an object"))?;
    let kinds = Provider::ALL.map(Provider::as_str).join(", ");
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
    let fields: &[&str] = match provider {
        Provider::GitHub => &GITHUB_FIELDS,
        Provider::GitLab => &GITLAB_FIELDS,
        Provider::Google => &GOOGLE_FIELDS,
        Provider::ActiveState => &ACTIVESTATE_FIELDS,
    };
    reject_unknown_keys(object, provider, fields)?;
    let projects = projects(object.get("projects"))?;

    let field = |name: &str| text_field(object, name);
    let spec = match provider {
        Provider::GitHub => PublisherSpec::GitHub(GitHubPublisher {
            repository_owner: field("repository_owner")?,
            repository_owner_id: field("repository_owner_id")?,
            repository_name: field("repository_name")?,
            workflow_filename: field("workflow_filename")?,
            environment: field("environment")?,
            issuer: field("issuer")?,
            workflow_repository: field("workflow_repository")?,
        }),
        Provider::GitLab => PublisherSpec::GitLab(GitLabPublisher {
            namespace: field("namespace")?,
            project: field("project")?,
            workflow_filepath: field("workflow_filepath")?,
            environment: field("environment")?,
            issuer: field("issuer")?,
            namespace_id: field("namespace_id")?,
            project_id: field("project_id")?,
        }),
        Provider::Google => PublisherSpec::Google(GooglePublisher {
            email: field("email")?,
            sub: field("sub")?,
        }),
        Provider::ActiveState => PublisherSpec::ActiveState(ActiveStatePublisher {
            organization: field("organization")?,
            project: field("project")?,
            actor: field("actor")?,
            actor_id: field("actor_id")?,
        }),
    };
    spec.validate()?;
    Ok(Declaration { projects, spec })
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
            !matches!(key.as_str(), "kind" | "projects") && !fields.contains(&key.as_str())
        })
        .collect();
    unknown.sort();
    match unknown.first() {
        None => Ok(()),
        Some(key) => Err(ValidationError::new(
            truncate(key),
            format!(
                "unknown field for a {provider} publisher; expected one of: kind, projects, {}",
                fields.join(", ")
            ),
        )),
    }
}

/// `projects`: a non-empty list of valid project names, normalised and deduplicated.
fn projects(value: Option<&Value>) -> Result<Vec<ProjectName>, ValidationError> {
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
            ProjectName::parse(raw).map_err(|error| ValidationError::new(&field, error.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    projects.sort();
    projects.dedup();
    Ok(projects)
}

/// A string field; absent or `null` = empty; id fields also accept whole numbers.
fn text_field(object: &Map<String, Value>, name: &str) -> Result<String, ValidationError> {
    match object.get(name) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(text)) => Ok(text.clone()),
        Some(Value::Number(number)) if ID_FIELDS.contains(&name) => {
            number.as_u64().map(|id| id.to_string()).ok_or_else(|| {
                ValidationError::new(name, "must be a string or a positive whole number")
            })
        }
        Some(_) if ID_FIELDS.contains(&name) => Err(ValidationError::new(
            name,
            "must be a string or a positive whole number",
        )),
        Some(_) => Err(ValidationError::new(name, "must be a string")),
    }
}

/// Echoed user input stays short.
fn truncate(text: &str) -> String {
    crate::reasons::truncated(text).into_owned()
}

#[cfg(test)]
mod tests;
