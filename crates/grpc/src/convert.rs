//! Conversions between the publisher model and its protobuf messages.

use trustmint_exchange::NewPublisher;
use trustmint_publishers::{
    ActiveStatePublisher, GitHubPublisher, GitLabPublisher, GooglePublisher, Origin, Publisher,
    PublisherSpec,
};

use crate::pb;

/// The protobuf form of a publisher.
pub(crate) fn publisher_to_pb(publisher: &Publisher) -> pb::Publisher {
    let kind = match &publisher.spec {
        PublisherSpec::GitHub(p) => pb::publisher::Kind::Github(pb::GitHubPublisher {
            repository_owner: p.repository_owner.clone(),
            repository_owner_id: p.repository_owner_id.clone(),
            repository_name: p.repository_name.clone(),
            workflow_filename: p.workflow_filename.clone(),
            environment: p.environment.clone(),
            issuer: p.issuer.clone(),
            workflow_repository: p.workflow_repository.clone(),
        }),
        PublisherSpec::GitLab(p) => pb::publisher::Kind::Gitlab(pb::GitLabPublisher {
            namespace: p.namespace.clone(),
            project: p.project.clone(),
            workflow_filepath: p.workflow_filepath.clone(),
            environment: p.environment.clone(),
            issuer: p.issuer.clone(),
            namespace_id: p.namespace_id.clone(),
            project_id: p.project_id.clone(),
        }),
        PublisherSpec::Google(p) => pb::publisher::Kind::Google(pb::GooglePublisher {
            email: p.email.clone(),
            sub: p.sub.clone(),
        }),
        PublisherSpec::ActiveState(p) => {
            pb::publisher::Kind::Activestate(pb::ActiveStatePublisher {
                organization: p.organization.clone(),
                project: p.project.clone(),
                actor: p.actor.clone(),
                actor_id: p.actor_id.clone(),
            })
        }
    };
    pb::Publisher {
        id: publisher.id.to_string(),
        projects: publisher
            .projects
            .iter()
            .map(|p| p.as_str().to_owned())
            .collect(),
        pending: publisher.pending,
        expires_at: publisher.expires_at.unwrap_or(0),
        created_at: publisher.created_at,
        origin: match publisher.origin {
            Origin::Config => "config",
            Origin::Api => "api",
        }
        .to_owned(),
        kind: Some(kind),
    }
}

/// The publisher a CreatePublisher request asks for; `None` when no kind is set.
pub(crate) fn new_publisher_from_pb(publisher: pb::Publisher) -> Option<NewPublisher> {
    let spec = match publisher.kind? {
        pb::publisher::Kind::Github(p) => PublisherSpec::GitHub(GitHubPublisher {
            repository_owner: p.repository_owner,
            repository_owner_id: p.repository_owner_id,
            repository_name: p.repository_name,
            workflow_filename: p.workflow_filename,
            environment: p.environment,
            issuer: p.issuer,
            workflow_repository: p.workflow_repository,
        }),
        pb::publisher::Kind::Gitlab(p) => PublisherSpec::GitLab(GitLabPublisher {
            namespace: p.namespace,
            project: p.project,
            workflow_filepath: p.workflow_filepath,
            environment: p.environment,
            issuer: p.issuer,
            namespace_id: p.namespace_id,
            project_id: p.project_id,
        }),
        pb::publisher::Kind::Google(p) => PublisherSpec::Google(GooglePublisher {
            email: p.email,
            sub: p.sub,
        }),
        pb::publisher::Kind::Activestate(p) => PublisherSpec::ActiveState(ActiveStatePublisher {
            organization: p.organization,
            project: p.project,
            actor: p.actor,
            actor_id: p.actor_id,
        }),
    };
    Some(NewPublisher {
        spec,
        projects: publisher.projects,
        pending: publisher.pending,
    })
}
