//! The rules both publisher stores share: what a stored publisher looks like, which key
//! finds an identical one, and how a second registration of the same identity merges
//! into the first. Keeping them here means the in-memory and Redis stores cannot drift
//! apart, and the Redis scripts only ever move strings that serde wrote.

use trustmint_publishers::{PENDING_PUBLISHER_TTL_SECS, ProjectName, Publisher};

/// Brings a publisher into the shape stores keep: projects sorted and unique (so
/// `Publisher::lists` can binary-search), a pending publisher always with an expiry
/// (`created_at` + 30 days unless the caller chose one), a normal one never.
pub(crate) fn normalize(mut publisher: Publisher) -> Publisher {
    publisher.projects.sort();
    publisher.projects.dedup();
    if publisher.pending {
        if publisher.expires_at.is_none() {
            publisher.expires_at = Some(
                publisher
                    .created_at
                    .saturating_add(PENDING_PUBLISHER_TTL_SECS),
            );
        }
    } else {
        publisher.expires_at = None;
    }
    publisher
}

/// The key under which a store finds "the same publisher": its identity key plus the
/// pending flag, so a pending and a confirmed registration of one identity stay apart
/// (a pending one must not gain the rights of a confirmed one, nor the reverse).
pub(crate) fn identity_index(publisher: &Publisher) -> String {
    let flag = if publisher.pending {
        "pending"
    } else {
        "active"
    };
    format!("{}|{flag}", publisher.identity_key())
}

/// The identity index a pending publisher gets once confirmed.
pub(crate) fn confirmed_identity_index(publisher: &Publisher) -> String {
    format!("{}|active", publisher.identity_key())
}

/// `existing` with `added` projects merged in, and the projects that were new; `None`
/// when it already lists all of them.
pub(crate) fn merge_projects(
    existing: &Publisher,
    added: &[ProjectName],
) -> Option<(Publisher, Vec<ProjectName>)> {
    let new: Vec<ProjectName> = added
        .iter()
        .filter(|p| !existing.lists(p))
        .cloned()
        .collect();
    if new.is_empty() {
        return None;
    }
    let mut merged = existing.clone();
    merged.projects.extend(new.iter().cloned());
    merged.projects.sort();
    merged.projects.dedup();
    Some((merged, new))
}

/// A pending publisher turned into a normal one.
pub(crate) fn confirmed(pending: &Publisher) -> Publisher {
    let mut publisher = pending.clone();
    publisher.pending = false;
    publisher.expires_at = None;
    publisher
}

#[cfg(test)]
mod tests {
    use trustmint_publishers::{GooglePublisher, Origin, PublisherId, PublisherSpec};

    use super::*;

    fn project(name: &str) -> ProjectName {
        ProjectName::parse(name).expect("valid project")
    }

    fn publisher(projects: &[&str], pending: bool) -> Publisher {
        Publisher {
            id: PublisherId::from_raw("id-1"),
            projects: projects.iter().map(|p| project(p)).collect(),
            pending,
            spec: PublisherSpec::Google(GooglePublisher {
                email: "ci@example.iam.gserviceaccount.com".into(),
                sub: String::new(),
            }),
            policy: Default::default(),
            origin: Origin::Api,
            created_at: 1_000,
            expires_at: None,
            ecosystem: Default::default(),
        }
    }

    #[test]
    fn normalize_sorts_projects_and_sets_expiry() {
        let normal = normalize(Publisher {
            expires_at: Some(5),
            ..publisher(&["b", "a", "B"], false)
        });
        assert_eq!(normal.projects, vec![project("a"), project("b")]);
        assert_eq!(normal.expires_at, None);

        let pending = normalize(publisher(&["a"], true));
        assert_eq!(pending.expires_at, Some(1_000 + PENDING_PUBLISHER_TTL_SECS));

        let chosen = normalize(Publisher {
            expires_at: Some(7_000),
            ..publisher(&["a"], true)
        });
        assert_eq!(chosen.expires_at, Some(7_000));
    }

    #[test]
    fn identity_index_separates_pending_from_active() {
        let active = identity_index(&publisher(&["a"], false));
        let pending = identity_index(&publisher(&["a"], true));
        assert!(active.ends_with("|active"), "{active}");
        assert!(pending.ends_with("|pending"), "{pending}");
        assert_eq!(confirmed_identity_index(&publisher(&["a"], true)), active);
    }

    #[test]
    fn merge_adds_only_new_projects() {
        let existing = publisher(&["a", "c"], false);
        assert_eq!(merge_projects(&existing, &[project("a")]), None);
        assert_eq!(merge_projects(&existing, &[]), None);
        let (merged, new) =
            merge_projects(&existing, &[project("b"), project("c")]).expect("b is new");
        assert_eq!(
            merged.projects,
            vec![project("a"), project("b"), project("c")]
        );
        assert_eq!(new, vec![project("b")]);
    }

    #[test]
    fn confirm_clears_pending_and_expiry() {
        let pending = normalize(publisher(&["a"], true));
        let done = confirmed(&pending);
        assert!(!done.pending);
        assert_eq!(done.expires_at, None);
        assert_eq!(done.id, pending.id);
    }
}
