//! The Lua scripts behind every publisher write (and the reads that clean up).
//!
//! Why scripts: a publisher is one record plus three indexes; a script changes them
//! together or not at all, and two replicas cannot interleave. Every key a script touches
//! carries the `{pub}` hash tag, so in a Cluster they live in one slot on one node. The
//! record keys a script derives from an id (`ARGV` prefix .. id) are in that slot too.
//!
//! JSON never gets decoded in Lua: Rust computes the new record, and the script stores it
//! only if the record is still exactly what Rust read (compare-and-set). A lost race
//! returns the current record and Rust tries again; of two concurrent confirms, exactly
//! one therefore sees the pending record and wins.
//!
//! Every write that changes a live publisher also sets the publisher generation
//! (`{pub}:gen`, named in ARGV like the record keys, so in the same slot) to a fresh
//! value the caller passes: a replica that cached candidates at an older generation sees
//! the change at its next exchange commit (`commit.rs`) and reads them again.

use redis::Script;

/// Reads the records of every id in an index set, dropping (SREM) ids whose record is
/// gone (expired pending publishers, or deleted ones).
///
/// KEYS[1] = index set; ARGV[1] = record key prefix. Returns the record JSONs.
const READ_INDEX: &str = r"
local ids = redis.call('SMEMBERS', KEYS[1])
local records = {}
for _, id in ipairs(ids) do
  local record = redis.call('GET', ARGV[1] .. id)
  if record then
    table.insert(records, record)
  else
    redis.call('SREM', KEYS[1], id)
  end
end
return records
";

/// [`READ_INDEX`] that also returns the publisher generation the records were read at,
/// first ('' when no publisher was ever written).
///
/// KEYS[1] = lookup set; ARGV[1] = record key prefix, ARGV[2] = generation key.
const READ_CANDIDATES: &str = r"
local records = {redis.call('GET', ARGV[2]) or ''}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local record = redis.call('GET', ARGV[1] .. id)
  if record then
    table.insert(records, record)
  else
    redis.call('SREM', KEYS[1], id)
  end
end
return records
";

/// Creates a publisher unless one with the same identity index is alive.
///
/// KEYS[1] = identity key, KEYS[2] = record key, KEYS[3] = lookup set,
/// KEYS[4..] = project sets; ARGV[1] = id, ARGV[2] = record JSON,
/// ARGV[3] = expiry (unix seconds) or '', ARGV[4] = record key prefix,
/// ARGV[5] = generation key, ARGV[6] = new generation.
/// Returns {1, json} when created, {0, existing json} when an identical one exists.
const CREATE: &str = r"
local existing_id = redis.call('GET', KEYS[1])
if existing_id then
  local existing = redis.call('GET', ARGV[4] .. existing_id)
  if existing then
    return {0, existing}
  end
end
redis.call('SET', KEYS[2], ARGV[2])
redis.call('SET', KEYS[1], ARGV[1])
if ARGV[3] ~= '' then
  redis.call('EXPIREAT', KEYS[2], ARGV[3])
  redis.call('EXPIREAT', KEYS[1], ARGV[3])
end
redis.call('SADD', KEYS[3], ARGV[1])
for i = 4, #KEYS do
  redis.call('SADD', KEYS[i], ARGV[1])
end
redis.call('SET', ARGV[5], ARGV[6])
return {1, ARGV[2]}
";

/// Compare-and-set of a record gaining projects; the TTL (pending) is kept.
///
/// KEYS[1] = record key, KEYS[2..] = project sets to add the id to;
/// ARGV[1] = expected JSON, ARGV[2] = new JSON, ARGV[3] = id, ARGV[4] = generation key,
/// ARGV[5] = new generation.
const MERGE: &str = r"
local current = redis.call('GET', KEYS[1])
if not current then return {0, ''} end
if current ~= ARGV[1] then return {2, current} end
redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
for i = 2, #KEYS do
  redis.call('SADD', KEYS[i], ARGV[3])
end
redis.call('SET', ARGV[4], ARGV[5])
return {1, ARGV[2]}
";

/// Compare-and-delete of a record and its index entries.
///
/// KEYS[1] = record key, KEYS[2] = lookup set, KEYS[3] = identity key,
/// KEYS[4..] = project sets; ARGV[1] = expected JSON, ARGV[2] = id,
/// ARGV[3] = generation key, ARGV[4] = new generation.
const DELETE: &str = r"
local current = redis.call('GET', KEYS[1])
if not current then return {0, ''} end
if current ~= ARGV[1] then return {2, current} end
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[2], ARGV[2])
for i = 4, #KEYS do
  redis.call('SREM', KEYS[i], ARGV[2])
end
if redis.call('GET', KEYS[3]) == ARGV[2] then
  redis.call('DEL', KEYS[3])
end
redis.call('SET', ARGV[3], ARGV[4])
return {1, current}
";

/// Compare-and-set of a pending record into a confirmed one. A plain SET drops the
/// TTL, so the confirmed publisher persists. The identity index moves from the pending
/// key to the active one, unless a live active publisher already holds it.
///
/// KEYS[1] = record key, KEYS[2] = pending identity key, KEYS[3] = active identity key;
/// ARGV[1] = expected JSON, ARGV[2] = new JSON, ARGV[3] = id, ARGV[4] = record key prefix,
/// ARGV[5] = generation key, ARGV[6] = new generation.
const CONFIRM: &str = r"
local current = redis.call('GET', KEYS[1])
if not current then return {0, ''} end
if current ~= ARGV[1] then return {2, current} end
redis.call('SET', KEYS[1], ARGV[2])
if redis.call('GET', KEYS[2]) == ARGV[3] then
  redis.call('DEL', KEYS[2])
end
local holder = redis.call('GET', KEYS[3])
if (not holder) or redis.call('EXISTS', ARGV[4] .. holder) == 0 then
  redis.call('SET', KEYS[3], ARGV[3])
end
redis.call('SET', ARGV[5], ARGV[6])
return {1, ARGV[2]}
";

/// The loaded scripts (each `Script` knows its SHA; EVALSHA falls back to loading it).
#[derive(Clone, Debug)]
pub(crate) struct PublisherScripts {
    pub(crate) read_index: Script,
    pub(crate) read_candidates: Script,
    pub(crate) create: Script,
    pub(crate) merge: Script,
    pub(crate) delete: Script,
    pub(crate) confirm: Script,
}

impl PublisherScripts {
    pub(crate) fn new() -> Self {
        Self {
            read_index: Script::new(READ_INDEX),
            read_candidates: Script::new(READ_CANDIDATES),
            create: Script::new(CREATE),
            merge: Script::new(MERGE),
            delete: Script::new(DELETE),
            confirm: Script::new(CONFIRM),
        }
    }
}

/// What a compare-and-set script did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum CasOutcome {
    /// Applied; carries the stored (or, for delete, the removed) JSON.
    Done(String),
    /// The record no longer exists.
    Gone,
    /// The record changed since it was read; carries its current JSON.
    Conflict(String),
}

impl CasOutcome {
    /// Interprets a script's `{code, json}` reply.
    pub(crate) fn from_reply(
        op: &'static str,
        (code, json): (i64, String),
    ) -> Result<Self, crate::StoreError> {
        match code {
            1 => Ok(Self::Done(json)),
            0 => Ok(Self::Gone),
            2 => Ok(Self::Conflict(json)),
            other => Err(crate::StoreError::new(
                op,
                format!("unexpected script reply code {other}"),
            )),
        }
    }
}
