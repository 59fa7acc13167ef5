//! How publishers present themselves to people, across platforms: the tables pin
//! `describe` and `publisher_url` (each platform implements them in its folder).

/// A repository's web page `base`, or its commit page `<base>/commit/<sha>` when the
/// stored claims name the commit.
pub(crate) fn commit_url(base: String, sha: Option<&String>) -> String {
    match sha {
        Some(sha) => format!("{base}/commit/{sha}"),
        None => base,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use crate::PublisherSpec;
    use crate::{ActiveStatePublisher, GitHubPublisher, GitLabPublisher, GooglePublisher};

    fn sha(value: &str) -> BTreeMap<String, String> {
        [("sha".to_owned(), value.to_owned())].into()
    }

    fn github(issuer: &str, environment: &str, workflow_repository: &str) -> PublisherSpec {
        PublisherSpec::GitHub(GitHubPublisher {
            repository_owner: "octo-org".into(),
            repository_owner_id: "647025".into(),
            repository_name: "sampleproject".into(),
            workflow_filename: "release.yml".into(),
            environment: environment.into(),
            issuer: issuer.into(),
            workflow_repository: workflow_repository.into(),
        })
    }

    fn gitlab(issuer: &str) -> PublisherSpec {
        PublisherSpec::GitLab(GitLabPublisher {
            namespace: "group/sub".into(),
            project: "proj".into(),
            workflow_filepath: ".gitlab-ci.yml".into(),
            environment: "pypi".into(),
            issuer: issuer.into(),
            ..GitLabPublisher::default()
        })
    }

    #[test]
    fn publisher_url_table() {
        let abc = sha("abc123");
        let empty = sha("");
        for (spec, claims, expected) in [
            (
                github("", "", ""),
                Some(&abc),
                Some("https://github.com/octo-org/sampleproject/commit/abc123"),
            ),
            (
                github("", "", ""),
                Some(&empty),
                Some("https://github.com/octo-org/sampleproject"),
            ),
            (
                github("", "", ""),
                None,
                Some("https://github.com/octo-org/sampleproject"),
            ),
            (
                github(
                    "https://token.actions.githubusercontent.com/octo-enterprise",
                    "",
                    "",
                ),
                Some(&abc),
                Some("https://github.com/octo-org/sampleproject/commit/abc123"),
            ),
            (
                github("https://ghe.example.com/_services/token", "", ""),
                Some(&abc),
                Some("https://ghe.example.com/octo-org/sampleproject/commit/abc123"),
            ),
            (
                github(
                    "https://token.actions.githubusercontent.com.example.org/_services/token",
                    "",
                    "",
                ),
                Some(&abc),
                Some(
                    "https://token.actions.githubusercontent.com.example.org/octo-org/sampleproject/commit/abc123",
                ),
            ),
            (
                gitlab(""),
                Some(&abc),
                Some("https://gitlab.com/group/sub/proj/commit/abc123"),
            ),
            (gitlab(""), None, Some("https://gitlab.com/group/sub/proj")),
            (
                gitlab("https://gitlab.example.com/"),
                Some(&abc),
                Some("https://gitlab.example.com/group/sub/proj/commit/abc123"),
            ),
            (
                PublisherSpec::Google(GooglePublisher {
                    email: "a@b.com".into(),
                    sub: String::new(),
                }),
                Some(&abc),
                None,
            ),
            (
                PublisherSpec::ActiveState(ActiveStatePublisher {
                    organization: "fakeorg".into(),
                    project: "fakeproject".into(),
                    actor: "bob".into(),
                    actor_id: "id".into(),
                }),
                Some(&abc),
                Some("https://platform.activestate.com/fakeorg/fakeproject"),
            ),
        ] {
            assert_eq!(
                spec.publisher_url(claims).as_deref(),
                expected,
                "{}",
                spec.describe()
            );
        }
    }

    #[test]
    fn describe_table() {
        for (spec, expected) in [
            (
                github("", "pypi", ""),
                "GitHub octo-org/sampleproject release.yml (environment pypi)",
            ),
            (
                github("", "", ""),
                "GitHub octo-org/sampleproject release.yml",
            ),
            (
                github("", "", "octo-org/shared-workflows"),
                "GitHub octo-org/sampleproject release.yml from octo-org/shared-workflows",
            ),
            (
                github("https://ghe.example.com/_services/token", "", ""),
                "GitHub octo-org/sampleproject release.yml on https://ghe.example.com/_services/token",
            ),
            (
                gitlab(""),
                "GitLab group/sub/proj .gitlab-ci.yml (environment pypi)",
            ),
            (
                gitlab("https://gitlab.example.com"),
                "GitLab group/sub/proj .gitlab-ci.yml (environment pypi) on https://gitlab.example.com",
            ),
            (
                PublisherSpec::Google(GooglePublisher {
                    email: "a@b.com".into(),
                    sub: "42".into(),
                }),
                "Google a@b.com (sub 42)",
            ),
            (
                PublisherSpec::ActiveState(ActiveStatePublisher {
                    organization: "o".into(),
                    project: "p".into(),
                    actor: "bob".into(),
                    actor_id: "id".into(),
                }),
                "ActiveState o/p (actor bob)",
            ),
        ] {
            assert_eq!(spec.describe(), expected);
        }
    }
}
