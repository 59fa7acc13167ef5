//! Pending publishers are usable only while their project does not exist yet.
//!
//! trustmint cannot see the index's project table. What it can see is the evidence an
//! index leaves when a project exists: a normal (non-pending) publisher that lists it —
//! the one the index confirmed after the first upload, or one registered for an existing
//! project. Once such a publisher exists, every *other* pending publisher for that
//! project is stale: it lost the race to create the project (PyPI answers
//! `invalid-pending-publisher`, "valid token, but project already exists"). Without this
//! rule two pending publishers for one new name could both keep uploading after the
//! index gave the project to one of them.

use trustmint_publishers::{ProjectName, Publisher};

use crate::{Exchange, ExchangeError};

/// PyPI's description when a pending publisher's project already exists.
pub(crate) const PROJECT_ALREADY_EXISTS: &str = "valid token, but project already exists";

impl Exchange {
    /// Whether a normal publisher other than `publisher` lists `project`, i.e. the
    /// project exists in the index and `publisher` (pending) can no longer claim it.
    pub(crate) async fn project_exists_for(
        &self,
        publisher: &Publisher,
        project: &ProjectName,
    ) -> Result<bool, ExchangeError> {
        let listed = self
            .store_call(
                "publisher_list",
                self.backends.publishers.list_by_project(project),
            )
            .await?;
        Ok(listed
            .iter()
            .any(|other| !other.pending && other.id != publisher.id))
    }

    /// Whether `publisher` is pending and every one of its projects already exists.
    pub(crate) async fn is_stale_pending(
        &self,
        publisher: &Publisher,
    ) -> Result<bool, ExchangeError> {
        if !publisher.pending {
            return Ok(false);
        }
        for project in &publisher.projects {
            if !self.project_exists_for(publisher, project).await? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// The matched publishers minus stale pending ones (order kept);
    /// `invalid-pending-publisher` when nothing usable is left.
    pub(crate) async fn without_stale_pending(
        &self,
        publishers: Vec<Publisher>,
    ) -> Result<Vec<Publisher>, ExchangeError> {
        let mut usable = Vec::with_capacity(publishers.len());
        let mut stale = 0_usize;
        for publisher in publishers {
            if self.is_stale_pending(&publisher).await? {
                stale += 1;
            } else {
                usable.push(publisher);
            }
        }
        if usable.is_empty() && stale > 0 {
            return Err(ExchangeError::InvalidPendingPublisher(
                PROJECT_ALREADY_EXISTS.to_owned(),
            ));
        }
        Ok(usable)
    }
}
