//! `parse_declaration`: one row per rule, exact field and message.

use serde_json::{Value, json};

use super::*;
use crate::test_support::project;
use crate::{ActiveStatePublisher, GitHubPublisher, GitLabPublisher, GooglePublisher};

fn github_entry() -> Value {
    json!({
        "kind": "github",
        "projects": ["sampleproject"],
        "repository_owner": "pypa",
        "repository_owner_id": "647025",
        "repository_name": "sampleproject",
        "workflow_filename": "release.yml",
        "environment": "pypi",
    })
}

fn edited(mut value: Value, edit: impl FnOnce(&mut Map<String, Value>)) -> Value {
    if let Value::Object(map) = &mut value {
        edit(map);
    }
    value
}

#[test]
fn parses_each_kind() {
    let github = parse_declaration(&github_entry()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(github.projects, [project("sampleproject")]);
    assert_eq!(
        github.spec,
        PublisherSpec::GitHub(GitHubPublisher {
            repository_owner: "pypa".into(),
            repository_owner_id: "647025".into(),
            repository_name: "sampleproject".into(),
            workflow_filename: "release.yml".into(),
            environment: "pypi".into(),
            ..GitHubPublisher::default()
        })
    );

    let gitlab = parse_declaration(&json!({
        "kind": "gitlab",
        "projects": ["Sample_Project", "sample.project", "other"],
        "namespace": "group/sub",
        "project": "proj",
        "workflow_filepath": ".gitlab-ci.yml",
        "issuer": "https://gitlab.example.com",
        "namespace_id": 1234567,
        "project_id": "12345678",
    }))
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        gitlab.projects,
        [project("other"), project("sample-project")]
    );
    assert_eq!(
        gitlab.spec,
        PublisherSpec::GitLab(GitLabPublisher {
            namespace: "group/sub".into(),
            project: "proj".into(),
            workflow_filepath: ".gitlab-ci.yml".into(),
            environment: String::new(),
            issuer: "https://gitlab.example.com".into(),
            namespace_id: "1234567".into(),
            project_id: "12345678".into(),
        })
    );

    let google = parse_declaration(&json!({
        "kind": "google",
        "projects": ["p"],
        "email": "ci@my-project.iam.gserviceaccount.com",
        "sub": null,
    }))
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        google.spec,
        PublisherSpec::Google(GooglePublisher {
            email: "ci@my-project.iam.gserviceaccount.com".into(),
            sub: String::new(),
        })
    );

    let activestate = parse_declaration(&json!({
        "kind": "activestate",
        "projects": ["p"],
        "organization": "fakeorg",
        "project": "fakeproject",
        "actor": "bob",
        "actor_id": 42,
    }))
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        activestate.spec,
        PublisherSpec::ActiveState(ActiveStatePublisher {
            organization: "fakeorg".into(),
            project: "fakeproject".into(),
            actor: "bob".into(),
            actor_id: "42".into(),
        })
    );
}

#[test]
fn owner_id_as_number() {
    let value = edited(github_entry(), |m| {
        m.insert("repository_owner_id".into(), json!(647025));
    });
    let declaration = parse_declaration(&value).unwrap_or_else(|e| panic!("{e}"));
    match declaration.spec {
        PublisherSpec::GitHub(p) => assert_eq!(p.repository_owner_id, "647025"),
        other => panic!("{other:?}"),
    }
}

/// One row per rule: (description, input, field, message).
#[test]
fn refusal_table() {
    let github_fields = "kind, projects, repository_owner, repository_owner_id, repository_name, \
                         workflow_filename, environment, issuer, workflow_repository, refs, require_protected_ref, allow_self_hosted_runners, require_protected_environment";
    let rows: Vec<(&str, Value, &str, String)> = vec![
        ("not an object", json!(["github"]), "publisher", "must be an object".into()),
        (
            "kind missing",
            edited(github_entry(), |m| {
                m.remove("kind");
            }),
            "kind",
            "is required; expected one of: github, gitlab, google, activestate, buildkite, circleci, bitbucket, forgejo, oidc".into(),
        ),
        (
            "kind unknown",
            edited(github_entry(), |m| {
                m.insert("kind".into(), json!("travis"));
            }),
            "kind",
            "unknown publisher kind 'travis'; expected one of: github, gitlab, google, activestate, buildkite, circleci, bitbucket, forgejo, oidc".into(),
        ),
        (
            "kind not a string",
            edited(github_entry(), |m| {
                m.insert("kind".into(), json!(1));
            }),
            "kind",
            "must be a string".into(),
        ),
        (
            "unknown key (a typo)",
            edited(github_entry(), |m| {
                m.insert("enviroment".into(), json!("pypi"));
            }),
            "enviroment",
            format!("unknown field for a github publisher; expected one of: {github_fields}"),
        ),
        (
            "a key of another kind",
            edited(github_entry(), |m| {
                m.insert("namespace".into(), json!("group"));
            }),
            "namespace",
            format!("unknown field for a github publisher; expected one of: {github_fields}"),
        ),
        (
            "two unknown keys: the first in sorted order",
            edited(github_entry(), |m| {
                m.insert("zeta".into(), json!(1));
                m.insert("alpha".into(), json!(1));
            }),
            "alpha",
            format!("unknown field for a github publisher; expected one of: {github_fields}"),
        ),
        (
            "projects missing",
            edited(github_entry(), |m| {
                m.remove("projects");
            }),
            "projects",
            "is required; list at least one project".into(),
        ),
        (
            "projects empty",
            edited(github_entry(), |m| {
                m.insert("projects".into(), json!([]));
            }),
            "projects",
            "must list at least one project".into(),
        ),
        (
            "projects not a list",
            edited(github_entry(), |m| {
                m.insert("projects".into(), json!("sampleproject"));
            }),
            "projects",
            "must be a list of project names".into(),
        ),
        (
            "bad project name",
            edited(github_entry(), |m| {
                m.insert("projects".into(), json!(["ok", "-bad-"]));
            }),
            "projects[1]",
            "project name '-bad-' is not valid: use ASCII letters, digits, '.', '_' and '-', starting and ending with a letter or digit".into(),
        ),
        (
            "project name not a string",
            edited(github_entry(), |m| {
                m.insert("projects".into(), json!([7]));
            }),
            "projects[0]",
            "must be a string".into(),
        ),
        (
            "string field given a number",
            edited(github_entry(), |m| {
                m.insert("workflow_filename".into(), json!(1));
            }),
            "workflow_filename",
            "must be a string".into(),
        ),
        (
            "id given a negative number",
            edited(github_entry(), |m| {
                m.insert("repository_owner_id".into(), json!(-5));
            }),
            "repository_owner_id",
            "must be a string or a positive whole number".into(),
        ),
        (
            "id given a fraction",
            edited(github_entry(), |m| {
                m.insert("repository_owner_id".into(), json!(1.5));
            }),
            "repository_owner_id",
            "must be a string or a positive whole number".into(),
        ),
        (
            "id given a boolean",
            edited(github_entry(), |m| {
                m.insert("repository_owner_id".into(), json!(true));
            }),
            "repository_owner_id",
            "must be a string or a positive whole number".into(),
        ),
        (
            "validation runs",
            edited(github_entry(), |m| {
                m.insert("workflow_filename".into(), json!("release.json"));
            }),
            "workflow_filename",
            "must end in '.yml' or '.yaml', e.g. 'release.yml'".into(),
        ),
        (
            "required field absent",
            edited(github_entry(), |m| {
                m.remove("repository_name");
            }),
            "repository_name",
            "is required".into(),
        ),
    ];
    for (description, value, field, message) in rows {
        assert_eq!(
            parse_declaration(&value).err(),
            Some(ValidationError::new(field, message)),
            "{description}"
        );
    }
}

#[test]
fn ecosystem_decides_the_project_rules_and_the_declared_id() {
    let pypi = parse_declaration(&github_entry()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(pypi.ecosystem, Ecosystem::Pypi);
    let npm_entry = edited(github_entry(), |map| {
        map.insert("ecosystem".into(), "npm".into());
        map.insert(
            "projects".into(),
            json!(["@octo-org/sampleproject", "sampleproject"]),
        );
    });
    let npm = parse_declaration(&npm_entry).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(npm.ecosystem, Ecosystem::Npm);
    assert_eq!(
        npm.projects
            .iter()
            .map(ProjectName::as_str)
            .collect::<Vec<_>>(),
        ["@octo-org/sampleproject", "sampleproject"]
    );
    let crates_entry = edited(github_entry(), |map| {
        map.insert("ecosystem".into(), "crates".into());
        map.insert("projects".into(), json!(["Serde-Json"]));
    });
    let crates = parse_declaration(&crates_entry).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(crates.projects[0].as_str(), "serde_json");
    // One identity declared for two ecosystems is two publishers.
    let (pypi, npm) = (
        pypi.into_declared_publisher(),
        npm.into_declared_publisher(),
    );
    assert_ne!(pypi.id, npm.id);
    assert_eq!(npm.ecosystem, Ecosystem::Npm);

    for (ecosystem, projects, field, message) in [
        (
            json!("cargo"),
            json!(["x"]),
            "ecosystem",
            "unknown ecosystem 'cargo'; expected one of: pypi, crates, npm",
        ),
        (
            json!(3),
            json!(["x"]),
            "ecosystem",
            "must be one of: pypi, crates, npm",
        ),
        (
            json!("pypi"),
            json!(["@octo-org/x"]),
            "projects[0]",
            "project name '@octo-org/x' is not valid: use ASCII letters, digits, '.', '_' and '-', starting and ending with a letter or digit",
        ),
        (
            json!("npm"),
            json!(["ok", "Upper"]),
            "projects[1]",
            "npm package name 'Upper' is not valid: npm names use lowercase letters, digits, '-', '.', '_' and '~' (and one '@scope/')",
        ),
        (
            json!("crates"),
            json!(["9lives"]),
            "projects[0]",
            "crate name '9lives' is not valid: crate names use ASCII letters, digits, '-' and '_', starting with a letter",
        ),
    ] {
        let entry = edited(github_entry(), |map| {
            map.insert("ecosystem".into(), ecosystem.clone());
            map.insert("projects".into(), projects.clone());
        });
        let error = parse_declaration(&entry).expect_err("refused");
        assert_eq!(
            (error.field.as_str(), error.message.as_str()),
            (field, message),
            "{entry}"
        );
    }
}

/// The policy keys sit beside the platform's fields; they are validated for the
/// platform, and an entry without them has the default policy.
#[test]
fn policy_keys() {
    let plain = parse_declaration(&github_entry()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(plain.policy, PublisherPolicy::default());
    let strict = parse_declaration(&edited(github_entry(), |m| {
        m.insert("refs".into(), json!(["refs/tags/v*"]));
        m.insert("require_protected_ref".into(), json!(true));
        m.insert("allow_self_hosted_runners".into(), json!(false));
    }))
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        strict.policy,
        PublisherPolicy {
            refs: vec!["refs/tags/v*".into()],
            require_protected_ref: true,
            allow_self_hosted_runners: false,
            require_protected_environment: false,
        }
    );
    assert_ne!(
        strict.clone().into_declared_publisher().id,
        plain.clone().into_declared_publisher().id,
        "a stricter policy is another publisher"
    );
    assert_eq!(
        plain.clone().into_declared_publisher().id,
        PublisherId::for_declared(&plain.spec.identity_key()),
        "ids of publishers without a policy are unchanged"
    );
    for (description, value, expected) in [
        (
            "refs not a list",
            edited(github_entry(), |m| {
                m.insert("refs".into(), json!("refs/tags/v*"));
            }),
            ValidationError::new(
                "refs",
                "invalid type: string \"refs/tags/v*\", expected a sequence",
            ),
        ),
        (
            "flag not a bool",
            edited(github_entry(), |m| {
                m.insert("require_protected_ref".into(), json!("yes"));
            }),
            ValidationError::new(
                "require_protected_ref",
                "invalid type: string \"yes\", expected a boolean",
            ),
        ),
        (
            "match-everything pattern",
            edited(github_entry(), |m| {
                m.insert("refs".into(), json!(["refs/**"]));
            }),
            ValidationError::new(
                "refs[0]",
                "'refs/**' matches every ref, which restricts nothing: name the namespace and a fixed part of the ref ('refs/tags/v*', 'refs/heads/main'), or leave refs empty to allow any ref",
            ),
        ),
        (
            "rule the platform cannot check",
            edited(github_entry(), |m| {
                m.insert("require_protected_environment".into(), json!(true));
            }),
            ValidationError::new(
                "require_protected_environment",
                "GitHub tokens carry no claim saying the environment is protected, so this rule could never be checked; remove it",
            ),
        ),
    ] {
        assert_eq!(
            parse_declaration(&value).err(),
            Some(expected),
            "{description}"
        );
    }
}
