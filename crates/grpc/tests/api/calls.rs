//! What an index calls, one helper per RPC on [`Clients`], and the GitHub publisher
//! message it registers for the testkit's default repository.

use tonic::Status;
use trustmint_grpc::pb;

use crate::support::Clients;

/// Owner of the testkit's default GitHub repository (the declared publisher's).
pub const OWNER: &str = "octo-org";
/// Its numeric id.
pub const OWNER_ID: &str = "92345678";
/// The repository name.
pub const REPOSITORY: &str = "sampleproject";
/// The workflow file its default claims name.
pub const WORKFLOW: &str = "release.yml";
/// `sha` of the testkit's default GitHub claims.
pub const SHA: &str = "2f9a6d1f8e1c3b7a5d4e6f80912a3b4c5d6e7f80";

impl Clients {
    /// MintToken without a client address.
    pub async fn mint(&self, jwt: &str) -> Result<pb::MintTokenResponse, Status> {
        self.mint_from(jwt, "").await
    }

    /// MintToken from `client_ip` (empty: no address).
    pub async fn mint_from(
        &self,
        jwt: &str,
        client_ip: &str,
    ) -> Result<pb::MintTokenResponse, Status> {
        self.tokens
            .clone()
            .mint_token(pb::MintTokenRequest {
                oidc_token: jwt.to_owned(),
                client_ip: client_ip.to_owned(),
            })
            .await
            .map(tonic::Response::into_inner)
    }

    /// MintToken that must succeed.
    pub async fn mint_ok(&self, jwt: &str) -> pb::MintTokenResponse {
        match self.mint(jwt).await {
            Ok(minted) => minted,
            Err(status) => panic!("MintToken failed: {status:?}"),
        }
    }

    /// VerifyToken that must answer OK (allowed or denied).
    pub async fn verify(&self, token: &str, project: &str) -> pb::VerifyTokenResponse {
        self.try_verify(token, project)
            .await
            .unwrap_or_else(|status| panic!("VerifyToken failed: {status:?}"))
    }

    /// VerifyToken, status included.
    pub async fn try_verify(
        &self,
        token: &str,
        project: &str,
    ) -> Result<pb::VerifyTokenResponse, Status> {
        self.tokens
            .clone()
            .verify_token(pb::VerifyTokenRequest {
                ecosystem: String::new(),
                token: token.to_owned(),
                project: project.to_owned(),
            })
            .await
            .map(tonic::Response::into_inner)
    }

    /// RevokeToken that must answer OK; returns `revoked`.
    pub async fn revoke(&self, token: &str) -> bool {
        self.tokens
            .clone()
            .revoke_token(pb::RevokeTokenRequest {
                token: token.to_owned(),
                client_ip: String::new(),
            })
            .await
            .expect("RevokeToken answers OK")
            .into_inner()
            .revoked
    }

    /// CreatePublisher.
    pub async fn create(&self, publisher: pb::Publisher) -> Result<pb::Publisher, Status> {
        self.publishers
            .clone()
            .create_publisher(pb::CreatePublisherRequest {
                publisher: Some(publisher),
            })
            .await
            .map(tonic::Response::into_inner)
    }

    /// GetPublisher.
    pub async fn get(&self, id: &str) -> Result<pb::Publisher, Status> {
        self.publishers
            .clone()
            .get_publisher(pb::GetPublisherRequest { id: id.to_owned() })
            .await
            .map(tonic::Response::into_inner)
    }

    /// ListPublishers that must answer OK.
    pub async fn list(&self, project: &str) -> Vec<pb::Publisher> {
        self.publishers
            .clone()
            .list_publishers(pb::ListPublishersRequest {
                project: project.to_owned(),
            })
            .await
            .expect("ListPublishers")
            .into_inner()
            .publishers
    }

    /// DeletePublisher; returns `deleted`.
    pub async fn delete(&self, id: &str) -> Result<bool, Status> {
        self.publishers
            .clone()
            .delete_publisher(pb::DeletePublisherRequest { id: id.to_owned() })
            .await
            .map(|response| response.into_inner().deleted)
    }

    /// ConfirmPublisher.
    pub async fn confirm(&self, id: &str) -> Result<pb::ConfirmPublisherResponse, Status> {
        self.publishers
            .clone()
            .confirm_publisher(pb::ConfirmPublisherRequest { id: id.to_owned() })
            .await
            .map(tonic::Response::into_inner)
    }
}

/// A GitHub publisher message for `octo-org/<repository>` (release.yml, any
/// environment) trusting `issuer`.
pub fn github_publisher(
    issuer: &str,
    repository: &str,
    projects: &[&str],
    pending: bool,
) -> pb::Publisher {
    pb::Publisher {
        projects: projects.iter().map(|p| (*p).to_owned()).collect(),
        pending,
        kind: Some(pb::publisher::Kind::Github(pb::GitHubPublisher {
            repository_owner: OWNER.to_owned(),
            repository_owner_id: OWNER_ID.to_owned(),
            repository_name: repository.to_owned(),
            workflow_filename: WORKFLOW.to_owned(),
            issuer: issuer.to_owned(),
            ..pb::GitHubPublisher::default()
        })),
        ..pb::Publisher::default()
    }
}
