//! The publisher generation: a value that changes with every publisher write, so that a
//! replica may cache publishers and still never honour one that another replica has
//! removed or changed.

/// The version of the stored publishers a read saw. Writes set a fresh random value
/// (not a counter: a Redis that lost its data and counted up again could hand an old
/// value back); `""` means no publisher was ever written.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PublisherGeneration(String);

impl PublisherGeneration {
    /// A value no earlier write used.
    pub(crate) fn fresh() -> Self {
        Self(uuid::Uuid::new_v4().simple().to_string())
    }

    /// The value as read from the store.
    pub(crate) fn from_stored(value: String) -> Self {
        Self(value)
    }

    /// The value, for the store.
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }

    /// The value, for the store.
    pub(crate) fn into_string(self) -> String {
        self.0
    }
}
