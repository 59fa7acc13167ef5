//! Conversions between the publisher model and its protobuf messages.
//!
//! The per-platform messages of `Publisher.kind` carry exactly the spec types' field
//! names (the contract shares them with config), and `build.rs` derives serde for them
//! with the same `kind` tag, so a spec converts through serde without a per-platform
//! arm here: a new platform needs only its proto message.

use serde::Serialize;
use serde::de::DeserializeOwned;
use trustmint_exchange::NewPublisher;
use trustmint_publishers::{Ecosystem, Origin, Publisher, PublisherPolicy, PublisherSpec};

use crate::pb;

/// One serde value's conversion into another type of the same shape.
fn reshape<T: DeserializeOwned>(value: &impl Serialize) -> Option<T> {
    serde_json::to_value(value)
        .and_then(serde_json::from_value)
        .ok()
}

/// The protobuf form of a publisher.
pub(crate) fn publisher_to_pb(publisher: &Publisher) -> pb::Publisher {
    // Cannot be `None`: every registered spec has its message (`every_provider_round_trips`).
    let kind = reshape::<pb::publisher::Kind>(&publisher.spec);
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
        ecosystem: publisher.ecosystem.as_str().to_owned(),
        kind,
        policy: policy_to_pb(&publisher.policy),
    }
}

/// The protobuf form of a policy; `None` for the default one, so responses about
/// publishers without a policy are what they were before policies existed.
fn policy_to_pb(policy: &PublisherPolicy) -> Option<pb::PublisherPolicy> {
    (!policy.is_default()).then(|| pb::PublisherPolicy {
        refs: policy.refs.clone(),
        require_protected_ref: policy.require_protected_ref,
        allow_self_hosted_runners: Some(policy.allow_self_hosted_runners),
        require_protected_environment: policy.require_protected_environment,
    })
}

/// The policy a CreatePublisher request asks for; an absent message or field is the
/// default (`allow_self_hosted_runners` unset = `true`).
fn policy_from_pb(policy: Option<pb::PublisherPolicy>) -> PublisherPolicy {
    let Some(policy) = policy else {
        return PublisherPolicy::default();
    };
    PublisherPolicy {
        refs: policy.refs,
        require_protected_ref: policy.require_protected_ref,
        allow_self_hosted_runners: policy.allow_self_hosted_runners.unwrap_or(true),
        require_protected_environment: policy.require_protected_environment,
    }
}

/// The ecosystem a message names (`""` = `pypi`), or the INVALID_ARGUMENT to answer.
pub(crate) fn ecosystem_from_pb(field: &str, text: &str) -> Result<Ecosystem, tonic::Status> {
    Ecosystem::parse(text).ok_or_else(|| {
        tonic::Status::invalid_argument(format!(
            "{field}: unknown ecosystem '{}'; expected one of: pypi, crates, npm",
            text.chars().take(64).collect::<String>()
        ))
    })
}

/// The publisher a CreatePublisher request asks for; `None` when no kind is set.
pub(crate) fn new_publisher_from_pb(publisher: pb::Publisher) -> Option<NewPublisher> {
    // `None` only without a kind: the messages and specs share their fields.
    let spec = reshape::<PublisherSpec>(&publisher.kind?)?;
    Some(NewPublisher {
        spec,
        projects: publisher.projects,
        pending: publisher.pending,
        policy: policy_from_pb(publisher.policy),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::{Map, Value};
    use trustmint_publishers::{Provider, PublisherId};

    use super::*;

    /// A publisher of every registered provider, with every field set to a distinct
    /// value, survives the trip to its proto message and back unchanged.
    #[test]
    fn every_provider_round_trips() {
        for provider in Provider::ALL {
            let mut fields = Map::new();
            fields.insert("kind".into(), provider.as_str().into());
            for (index, field) in provider.spec_fields().iter().enumerate() {
                // A map field (a custom issuer's `claims`) gets one entry.
                let value: Value = if *field == "claims" {
                    serde_json::json!({ "claim": format!("{index}") })
                } else {
                    format!("{index}").into()
                };
                fields.insert((*field).into(), value);
            }
            let spec: PublisherSpec = serde_json::from_value(Value::Object(fields))
                .unwrap_or_else(|e| panic!("{provider}: {e}"));
            let publisher = Publisher {
                id: PublisherId::from_raw("p1"),
                projects: Vec::new(),
                pending: false,
                spec: spec.clone(),
                policy: Default::default(),
                origin: Origin::Api,
                created_at: 0,
                expires_at: None,
                ecosystem: Default::default(),
            };
            let message = publisher_to_pb(&publisher);
            assert!(message.kind.is_some(), "{provider}: no proto message");
            let back = new_publisher_from_pb(message).unwrap_or_else(|| panic!("{provider}"));
            assert_eq!(back.spec, spec, "{provider}");
            assert_eq!(back.policy, PublisherPolicy::default(), "{provider}");
        }
    }

    /// A policy survives the trip; the default one is sent as no message at all.
    #[test]
    fn policies_round_trip() {
        let policy = PublisherPolicy {
            refs: vec!["refs/tags/v*".into(), "refs/heads/main".into()],
            require_protected_ref: true,
            allow_self_hosted_runners: false,
            require_protected_environment: true,
        };
        let message = policy_to_pb(&policy);
        assert_eq!(
            message.as_ref().map(|m| m.allow_self_hosted_runners),
            Some(Some(false))
        );
        assert_eq!(policy_from_pb(message), policy);
        assert_eq!(policy_to_pb(&PublisherPolicy::default()), None);
        assert_eq!(policy_from_pb(None), PublisherPolicy::default());
        let unset_runners = pb::PublisherPolicy {
            refs: vec!["refs/tags/v*".into()],
            ..Default::default()
        };
        assert!(policy_from_pb(Some(unset_runners)).allow_self_hosted_runners);
    }
}
