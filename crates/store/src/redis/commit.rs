//! One exchange's writes in one round trip: a Lua script that checks the publisher
//! generation, counts the request (GCRA, the arithmetic of `rate_limit.rs` on the same
//! key, so the two share one state), claims the replay key, stores the token record and
//! appends the audit event. A script runs atomically, so a refusal at any step leaves
//! nothing of the later ones; a failed token write undoes the claim before the error is
//! returned.
//!
//! Standalone Redis only: the keys of one exchange (`jti:…`, `tok:…`, `rl:…`, `audit`,
//! `{pub}:gen`) live in different Cluster slots, and a Cluster script may touch one slot.
//! On a Cluster the exchange makes the individual calls instead.

use async_trait::async_trait;
use redis::Script;

use super::connection::RedisHandle;
use super::keys::KeyLayout;
use super::token_codec;
use crate::gcra::{self, GcraLimit};
use crate::settings::RateLimitSettings;
use crate::{CommitOutcome, ExchangeCommit, ExchangeStore, StoreError};

/// The store operation (metric label) of a commit.
const OP: &str = "exchange_commit";

/// KEYS[1] = replay key, KEYS[2] = token key, KEYS[3] = rate key, KEYS[4] = audit
/// stream, KEYS[5] = publisher generation key, KEYS[6] = this exchange's abandon mark.
/// ARGV[1] = replay owner, ARGV[2] = replay expiry (unix s), ARGV[3] = token record,
/// ARGV[4] = token TTL (s), ARGV[5] = '1' to rate-check, ARGV[6] = GCRA interval (µs),
/// ARGV[7] = burst, ARGV[8] = '1' to check the generation, ARGV[9] = the generation
/// read, ARGV[10] = audit stream cap ('0': no audit entry), ARGV[11..] = audit fields
/// and values.
/// Returns {1, appended (0/1)} committed, {2, retry_after_us} rate-limited, {3, 0} a
/// replay, {4, 0} the publishers changed, {5, 0} abandoned before it ran.
const COMMIT_SCRIPT: &str = r"
if redis.call('EXISTS', KEYS[6]) == 1 then
  return {5, 0}
end
if ARGV[8] == '1' and (redis.call('GET', KEYS[5]) or '') ~= ARGV[9] then
  return {4, 0}
end
if ARGV[5] == '1' then
  local clock = redis.call('TIME')
  local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
  local interval = tonumber(ARGV[6])
  local burst = tonumber(ARGV[7])
  local tat = tonumber(redis.call('GET', KEYS[3]) or '0') or 0
  if tat < now then tat = now end
  local new_tat = tat + interval
  local allow_at = new_tat - burst * interval
  if now < allow_at then
    return {2, allow_at - now}
  end
  local ttl_ms = math.ceil((new_tat - now) / 1000)
  redis.call('SET', KEYS[3], string.format('%.0f', new_tat), 'PX', ttl_ms)
end
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EXAT', ARGV[2]) then
  return {3, 0}
end
local put = redis.pcall('SET', KEYS[2], ARGV[3], 'EX', ARGV[4])
if type(put) == 'table' and put.err then
  redis.call('DEL', KEYS[1])
  return redis.error_reply(put.err)
end
if ARGV[10] == '0' then
  return {1, 0}
end
local entry = {'XADD', KEYS[4], 'MAXLEN', '~', ARGV[10], '*'}
for i = 11, #ARGV do
  entry[#entry + 1] = ARGV[i]
end
local added = redis.pcall(unpack(entry))
if type(added) == 'table' and added.err then
  return {1, 0}
end
return {1, 1}
";

/// KEYS[1] = replay key, KEYS[2] = token key, KEYS[3] = the abandon mark;
/// ARGV[1] = owner, ARGV[2] = until (unix s). Marks first, so a commit that runs later
/// finds the mark; then undoes what a commit that ran before left.
const ABANDON_SCRIPT: &str = r"
redis.call('SET', KEYS[3], '1', 'EXAT', ARGV[2])
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.call('DEL', KEYS[2])
end
return 1
";

/// [`ExchangeStore`] on standalone Redis.
#[derive(Clone, Debug)]
pub struct RedisExchangeStore {
    redis: RedisHandle,
    keys: KeyLayout,
    limit: GcraLimit,
    audit_max_len: u64,
    script: Script,
    abandon: Script,
}

impl RedisExchangeStore {
    /// `audit_max_len` 0: no audit stream.
    pub(crate) fn new(
        redis: RedisHandle,
        keys: KeyLayout,
        rate: &RateLimitSettings,
        audit_max_len: u64,
    ) -> Self {
        Self {
            redis,
            keys,
            limit: GcraLimit::from_settings(rate),
            audit_max_len,
            script: Script::new(COMMIT_SCRIPT),
            abandon: Script::new(ABANDON_SCRIPT),
        }
    }
}

#[async_trait]
impl ExchangeStore for RedisExchangeStore {
    async fn commit(&self, commit: &ExchangeCommit<'_>) -> Result<CommitOutcome, StoreError> {
        if commit.ttl_secs == 0 {
            return Err(StoreError::new(OP, "ttl must be at least 1 second"));
        }
        if commit.replay_expires_at <= 0 {
            return Err(StoreError::new(
                OP,
                format!(
                    "expires_at must be a positive unix time, got {}",
                    commit.replay_expires_at
                ),
            ));
        }
        let record =
            token_codec::encode(commit.record).map_err(|e| StoreError::new(OP, e.detail))?;
        let audit = commit.audit.filter(|fields| !fields.is_empty());
        let audit_cap = if audit.is_some() {
            self.audit_max_len
        } else {
            0
        };
        let mut invocation = self.script.prepare_invoke();
        invocation
            .key(self.keys.replay(commit.replay_key))
            .key(self.keys.token(&commit.record.token_id))
            .key(self.keys.rate(commit.rate_key.unwrap_or("")))
            .key(self.keys.audit())
            .key(self.keys.publisher_generation())
            .key(self.keys.abandoned(commit.replay_owner))
            .arg(commit.replay_owner)
            .arg(commit.replay_expires_at)
            .arg(record)
            .arg(commit.ttl_secs)
            .arg(if commit.rate_key.is_some() { "1" } else { "0" })
            .arg(self.limit.interval_us)
            .arg(self.limit.burst)
            .arg(if commit.publishers_read_at.is_some() {
                "1"
            } else {
                "0"
            })
            .arg(commit.publishers_read_at.map_or("", |g| g.as_str()))
            .arg(audit_cap);
        if audit_cap > 0 {
            for (name, value) in audit.unwrap_or_default() {
                invocation.arg(*name).arg(value);
            }
        }
        let (code, value): (i64, i64) = self.redis.invoke(OP, &invocation).await?;
        match code {
            1 => Ok(CommitOutcome::Committed {
                audit_appended: value == 1,
            }),
            2 => Ok(CommitOutcome::RateLimited {
                retry_after_secs: gcra::retry_after_secs(value),
            }),
            3 => Ok(CommitOutcome::Replayed),
            4 => Ok(CommitOutcome::PublishersChanged),
            // Only a commit that outlived its caller's patience meets its abandon mark,
            // and that caller no longer listens; anyone else: nothing was written.
            5 => Err(StoreError::new(OP, "the commit was abandoned")),
            other => Err(StoreError::new(
                OP,
                format!("unexpected script reply code {other}"),
            )),
        }
    }

    async fn abandon(
        &self,
        replay_key: &str,
        owner: &str,
        token_id: &str,
        replay_expires_at: i64,
    ) -> Result<(), StoreError> {
        let mut invocation = self.abandon.prepare_invoke();
        invocation
            .key(self.keys.replay(replay_key))
            .key(self.keys.token(token_id))
            .key(self.keys.abandoned(owner))
            .arg(owner)
            .arg(replay_expires_at.max(1));
        self.redis
            .invoke::<i64>("exchange_abandon", &invocation)
            .await?;
        Ok(())
    }
}
