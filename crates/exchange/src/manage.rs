//! Publisher management for the index: create, read, list, delete, confirm.

use trustmint_publishers::{
    Ecosystem, Origin, PENDING_PUBLISHER_TTL_SECS, ProjectName, Publisher, PublisherId,
    PublisherPolicy, PublisherSpec,
};
use trustmint_store::{Confirmed, RegistryError};
use trustmint_telemetry::{AuditAction, AuditEvent, PublisherChange};

use crate::{Exchange, ExchangeError, bind_to_served_issuer};

/// A publisher to register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPublisher {
    /// The identity to trust.
    pub spec: PublisherSpec,
    /// Projects it may upload to (raw names; normalised here).
    pub projects: Vec<String>,
    /// `true` for a project that does not exist in the index yet (exactly one project).
    pub pending: bool,
    /// Rules on how the trusted workflow ran; the default restricts nothing.
    pub policy: PublisherPolicy,
}

impl Exchange {
    /// [`Exchange::create_publisher`] for a publisher of `ecosystem`: its projects are
    /// validated and normalised by that ecosystem's rules, and only that ecosystem's
    /// door mints for it.
    pub async fn create_publisher_in(
        &self,
        new: NewPublisher,
        ecosystem: Ecosystem,
    ) -> Result<CreatedPublisher, ExchangeError> {
        self.create_publisher_of(new, ecosystem).await
    }
}

/// The result of [`Exchange::create_publisher`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedPublisher {
    /// The stored publisher.
    pub publisher: Publisher,
    /// `false` when an identical publisher existed already.
    pub created: bool,
}

/// The result of [`Exchange::confirm_publisher`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfirmedPublisher {
    /// The publisher, now normal.
    pub publisher: Publisher,
    /// `true` when an earlier call had already confirmed it (this call did not win).
    pub already_confirmed: bool,
}

fn invalid(field: &str, message: impl Into<String>) -> ExchangeError {
    ExchangeError::InvalidArgument {
        field: field.to_owned(),
        message: message.into(),
    }
}

fn registry_error(error: RegistryError) -> ExchangeError {
    match error {
        // The payload is the publisher id; the error's text is the sentence that says
        // what to do instead.
        RegistryError::Declared(_) => ExchangeError::FailedPrecondition(error.to_string()),
        RegistryError::Store(error) => ExchangeError::from(error),
    }
}

impl Exchange {
    /// Registers a publisher after validating it with the same rules as config
    /// publishers. Creating an identical publisher again returns the existing one (with
    /// the new projects added to it).
    #[tracing::instrument(name = "exchange.create_publisher", skip_all)]
    pub async fn create_publisher(
        &self,
        new: NewPublisher,
    ) -> Result<CreatedPublisher, ExchangeError> {
        self.create_publisher_of(new, Ecosystem::Pypi).await
    }

    async fn create_publisher_of(
        &self,
        new: NewPublisher,
        ecosystem: Ecosystem,
    ) -> Result<CreatedPublisher, ExchangeError> {
        new.spec
            .validate()
            .map_err(|error| invalid(&error.field, error.message))?;
        new.policy
            .validate(new.spec.provider())
            .map_err(|error| invalid(&error.field, error.message))?;
        let spec = bind_to_served_issuer(&self.verifier.registry(), new.spec)
            .map_err(|error| invalid(&error.field, error.message))?;
        if new.projects.is_empty() {
            return Err(invalid("projects", "at least one project is required"));
        }
        if new.pending && new.projects.len() != 1 {
            return Err(invalid(
                "projects",
                "a pending publisher names exactly one project (the one it will create)",
            ));
        }
        let mut projects = new
            .projects
            .iter()
            .map(|raw| {
                ecosystem
                    .project(raw)
                    .map_err(|error| invalid("projects", error.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        projects.sort();
        projects.dedup();
        let now = self.clock.now();
        let publisher = Publisher {
            id: PublisherId::random(),
            projects,
            pending: new.pending,
            spec,
            policy: new.policy,
            origin: Origin::Api,
            created_at: now,
            expires_at: new.pending.then_some(now + PENDING_PUBLISHER_TTL_SECS),
            ecosystem,
        };
        let started = std::time::Instant::now();
        let result = self.backends.publishers.create(publisher).await;
        self.observe_registry_call("publisher_create", started, &result);
        let created = result.map_err(registry_error)?;
        if created.created {
            self.metrics
                .record_publisher_change(PublisherChange::Create);
        }
        self.audit_publisher(AuditAction::PublisherCreate, &created.publisher)
            .await;
        Ok(CreatedPublisher {
            publisher: created.publisher,
            created: created.created,
        })
    }

    /// One publisher by id.
    pub async fn get_publisher(&self, id: &str) -> Result<Publisher, ExchangeError> {
        let id = PublisherId::from_raw(id);
        self.store_call("publisher_get", self.backends.publishers.get(&id))
            .await?
            .ok_or_else(|| ExchangeError::NotFound(format!("no publisher with id '{id}'")))
    }

    /// Every publisher (config-declared and registered) that lists `project`. A name
    /// PyPI's rules refuse (an npm `@scope/name`) is looked up as the first other
    /// ecosystem's name it is valid as.
    pub async fn list_publishers(&self, project: &str) -> Result<Vec<Publisher>, ExchangeError> {
        let project = ProjectName::parse(project)
            .or_else(|pypi_error| {
                Ecosystem::ALL
                    .iter()
                    .find_map(|ecosystem| ecosystem.project(project).ok())
                    .ok_or(pypi_error)
            })
            .map_err(|error| invalid("project", error.to_string()))?;
        self.store_call(
            "publisher_list",
            self.backends.publishers.list_by_project(&project),
        )
        .await
    }

    /// Deletes a registered publisher; its live tokens stop verifying at once.
    /// Idempotent: `Ok(None)` when there was nothing to delete.
    #[tracing::instrument(name = "exchange.delete_publisher", skip_all)]
    pub async fn delete_publisher(&self, id: &str) -> Result<Option<Publisher>, ExchangeError> {
        let id = PublisherId::from_raw(id);
        let started = std::time::Instant::now();
        let result = self.backends.publishers.delete(&id).await;
        self.observe_registry_call("publisher_delete", started, &result);
        let deleted = result.map_err(registry_error)?;
        if let Some(publisher) = &deleted {
            self.metrics
                .record_publisher_change(PublisherChange::Delete);
            self.audit_publisher(AuditAction::PublisherDelete, publisher)
                .await;
        }
        Ok(deleted)
    }

    /// Turns a pending publisher into a normal one, after the index created its project.
    /// Exactly one of several concurrent calls reports `already_confirmed = false`.
    #[tracing::instrument(name = "exchange.confirm_publisher", skip_all)]
    pub async fn confirm_publisher(&self, id: &str) -> Result<ConfirmedPublisher, ExchangeError> {
        let id = PublisherId::from_raw(id);
        let started = std::time::Instant::now();
        let result = self
            .backends
            .publishers
            .confirm(&id)
            .await
            .map_err(RegistryError::Store);
        self.observe_registry_call("publisher_confirm", started, &result);
        match result.map_err(registry_error)? {
            Confirmed::Now(publisher) => {
                self.metrics
                    .record_publisher_change(PublisherChange::Confirm);
                self.audit_publisher(AuditAction::PublisherConfirm, &publisher)
                    .await;
                Ok(ConfirmedPublisher {
                    publisher,
                    already_confirmed: false,
                })
            }
            Confirmed::Already(publisher) => Ok(ConfirmedPublisher {
                publisher,
                already_confirmed: true,
            }),
            Confirmed::NotFound => Err(ExchangeError::NotFound(format!(
                "no pending publisher with id '{id}' (it may have expired)"
            ))),
        }
    }

    fn observe_registry_call<T>(
        &self,
        op: &'static str,
        started: std::time::Instant,
        result: &Result<T, RegistryError>,
    ) {
        self.metrics.observe_store_call(op, started.elapsed());
        if let Err(RegistryError::Store(error)) = result {
            self.metrics.count_store_error(op);
            tracing::warn!(op, %error, "store call failed");
        }
    }

    async fn audit_publisher(&self, action: AuditAction, publisher: &Publisher) {
        let mut event = AuditEvent::success(action, self.clock.now());
        event.publisher_id = publisher.id.to_string();
        event.issuer = publisher.spec.issuer().to_owned();
        event.repository = publisher.spec.describe();
        event.projects = publisher
            .projects
            .iter()
            .map(ProjectName::as_str)
            .collect::<Vec<_>>()
            .join(",");
        self.audit(event).await;
    }
}
