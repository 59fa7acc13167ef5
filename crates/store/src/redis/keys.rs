//! The Redis key layout (DESIGN §3), in one place. Publisher keys share the `{pub}` hash
//! tag so that every publisher script touches a single Cluster slot; every other key is
//! independent and spreads over the cluster.

use trustmint_publishers::{ProjectName, PublisherId};

/// Builds every key under the configured prefix.
#[derive(Clone, Debug)]
pub(crate) struct KeyLayout {
    prefix: String,
}

impl KeyLayout {
    /// Keys under `prefix` (validated: no `{`/`}`, so `{pub}` stays the hash tag).
    pub(crate) fn new(prefix: &str) -> Self {
        Self {
            prefix: prefix.to_owned(),
        }
    }

    /// `tok:<token id>`: a token record, with the token's TTL.
    pub(crate) fn token(&self, token_id: &str) -> String {
        format!("{}tok:{token_id}", self.prefix)
    }

    /// `jti:<replay key>`: an empty marker until the JWT can no longer be presented.
    pub(crate) fn replay(&self, replay_key: &str) -> String {
        format!("{}jti:{replay_key}", self.prefix)
    }

    /// `abandoned:<owner>`: marks an exchange's commit as given up (see
    /// `ExchangeStore::abandon`), until its JWT expires.
    pub(crate) fn abandoned(&self, owner: &str) -> String {
        format!("{}abandoned:{owner}", self.prefix)
    }

    /// The prefix of publisher record keys; the scripts append an id to it.
    pub(crate) fn publisher_prefix(&self) -> String {
        format!("{}{{pub}}:p:", self.prefix)
    }

    /// `{pub}:p:<id>`: a publisher record (JSON).
    pub(crate) fn publisher(&self, id: &PublisherId) -> String {
        format!("{}{}", self.publisher_prefix(), id.as_str())
    }

    /// `{pub}:k:<lookup key>`: the ids of publishers with that lookup key.
    pub(crate) fn lookup(&self, lookup_key: &str) -> String {
        format!("{}{{pub}}:k:{lookup_key}", self.prefix)
    }

    /// `{pub}:proj:<project>`: the ids of publishers listing that project.
    pub(crate) fn project(&self, project: &ProjectName) -> String {
        format!("{}{{pub}}:proj:{}", self.prefix, project.as_str())
    }

    /// `{pub}:id:<identity key>|<pending|active>`: the id of the publisher with that
    /// identity (see `stored_publisher::identity_index`).
    pub(crate) fn identity(&self, identity_index: &str) -> String {
        format!("{}{{pub}}:id:{identity_index}", self.prefix)
    }

    /// `{pub}:gen`: the publisher generation, a fresh value written by every publisher
    /// write (see `PublisherGeneration`).
    pub(crate) fn publisher_generation(&self) -> String {
        format!("{}{{pub}}:gen", self.prefix)
    }

    /// `rl:<key>`: GCRA state (the theoretical arrival time) of one client.
    pub(crate) fn rate(&self, key: &str) -> String {
        format!("{}rl:{key}", self.prefix)
    }

    /// `audit`: the capped audit stream.
    pub(crate) fn audit(&self) -> String {
        format!("{}audit", self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_matches_the_design() {
        let keys = KeyLayout::new("trustmint:");
        let id = PublisherId::from_raw("0b8e");
        let project = ProjectName::parse("Sample_Project").expect("valid");
        let cases = [
            (keys.token("abc"), "trustmint:tok:abc"),
            (keys.replay("d1:jti-1"), "trustmint:jti:d1:jti-1"),
            (keys.abandoned("4f2a"), "trustmint:abandoned:4f2a"),
            (keys.publisher(&id), "trustmint:{pub}:p:0b8e"),
            (keys.publisher_prefix(), "trustmint:{pub}:p:"),
            (
                keys.lookup("[\"github\"]"),
                "trustmint:{pub}:k:[\"github\"]",
            ),
            (
                keys.project(&project),
                "trustmint:{pub}:proj:sample-project",
            ),
            (
                keys.identity("[\"x\"]|pending"),
                "trustmint:{pub}:id:[\"x\"]|pending",
            ),
            (keys.publisher_generation(), "trustmint:{pub}:gen"),
            (keys.rate("mint:10.0.0.1"), "trustmint:rl:mint:10.0.0.1"),
            (keys.audit(), "trustmint:audit"),
        ];
        for (key, expected) in cases {
            assert_eq!(key, expected);
        }
    }
}
