//! The store conformance suite: one function per behaviour, each taking the stores under
//! test, run against every target by [`conformance_suite!`]. Behaviours that look at
//! Redis directly (TTLs, memory) do so through `Subject::raw` and skip that part for the
//! memory target.

pub mod audit;
pub mod commit;
pub mod publishers;
pub mod rate_limit;
pub mod replay;
pub mod tokens;

/// Instantiates every behaviour as a `#[tokio::test]` for one target.
macro_rules! conformance_suite {
    ($target:expr) => {
        use trustmint_store::RateLimitSettings;

        use crate::conformance::{audit, commit, publishers, rate_limit, replay, tokens};
        use crate::support::Subject;

        async fn subject() -> Subject {
            Subject::new($target).await
        }

        macro_rules! behaviour {
            ($name:ident, $subject:expr, $function:path) => {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    $function(&$subject.await).await;
                }
            };
        }

        behaviour!(token_put_get_delete, subject(), tokens::put_get_delete);
        behaviour!(
            token_ttl_is_what_was_asked,
            subject(),
            tokens::ttl_is_what_was_asked
        );
        behaviour!(
            token_revocation_takes_effect_at_once,
            subject(),
            tokens::revocation_takes_effect_at_once
        );
        behaviour!(
            token_zero_ttl_is_refused,
            subject(),
            tokens::zero_ttl_is_refused
        );
        behaviour!(
            token_record_fits_in_512_bytes,
            Subject::with($target, RateLimitSettings::default(), |s| {
                s.key_prefix = crate::support::production_length_prefix()
            }),
            tokens::record_fits_in_512_bytes
        );

        behaviour!(replay_claim_once, subject(), replay::claim_once);
        behaviour!(
            replay_release_lets_a_second_claim_succeed,
            subject(),
            replay::release_lets_a_second_claim_succeed
        );
        behaviour!(
            replay_release_by_another_owner_keeps_the_claim,
            subject(),
            replay::release_by_another_owner_keeps_the_claim
        );
        behaviour!(
            replay_concurrent_claims_have_one_winner,
            subject(),
            replay::concurrent_claims_have_one_winner
        );
        behaviour!(replay_claims_expire, subject(), replay::claims_expire);

        behaviour!(
            publisher_create_get_and_merge,
            subject(),
            publishers::create_get_and_merge
        );
        behaviour!(
            publisher_candidates_by_lookup_key,
            subject(),
            publishers::candidates_by_lookup_key
        );
        behaviour!(
            publisher_list_by_project,
            subject(),
            publishers::list_by_project
        );
        behaviour!(
            publisher_delete_removes_index_entries,
            subject(),
            publishers::delete_removes_index_entries
        );
        behaviour!(
            publisher_pending_publishers_expire,
            subject(),
            publishers::pending_publishers_expire
        );
        behaviour!(
            publisher_expired_pending_is_never_returned,
            subject(),
            publishers::expired_pending_is_never_returned
        );
        behaviour!(
            publisher_confirm_race_has_one_winner,
            subject(),
            publishers::confirm_race_has_one_winner
        );

        behaviour!(
            rate_burst_then_limited,
            Subject::with($target, rate_limit::slow_limit(20), |_| {}),
            rate_limit::burst_then_limited
        );
        behaviour!(
            rate_shared_across_replicas,
            Subject::with($target, rate_limit::slow_limit(20), |_| {}),
            rate_limit::shared_across_replicas
        );
        behaviour!(
            rate_disabled_always_allows,
            Subject::with(
                $target,
                RateLimitSettings {
                    enabled: false,
                    ..RateLimitSettings::default()
                },
                |_| {}
            ),
            rate_limit::disabled_always_allows
        );

        behaviour!(
            audit_capped_stream,
            Subject::with($target, RateLimitSettings::default(), |s| s
                .audit_stream_maxlen =
                10),
            audit::capped_stream
        );
        behaviour!(
            audit_zero_maxlen_disables_the_stream,
            Subject::with($target, RateLimitSettings::default(), |s| s
                .audit_stream_maxlen =
                0),
            audit::zero_maxlen_disables_the_stream
        );
        behaviour!(health_ping_succeeds, subject(), audit::ping_succeeds);

        behaviour!(
            commit_offered_by_standalone_redis_only,
            subject(),
            commit::offered_by_standalone_redis_only
        );
        behaviour!(
            commit_stores_the_record_claims_the_jwt_and_appends_the_audit_event,
            subject(),
            commit::stores_the_record_claims_the_jwt_and_appends_the_audit_event
        );
        behaviour!(
            commit_shares_the_rate_limit_with_the_limiter,
            Subject::with($target, rate_limit::slow_limit(5), |_| {}),
            commit::shares_the_rate_limit_with_the_limiter
        );
        behaviour!(
            commit_a_publisher_removed_on_another_replica_is_never_honoured,
            subject(),
            commit::a_publisher_removed_on_another_replica_is_never_honoured
        );
        behaviour!(
            commit_an_abandoned_commit_leaves_nothing_whenever_it_runs,
            subject(),
            commit::an_abandoned_commit_leaves_nothing_whenever_it_runs
        );
        behaviour!(
            commit_every_publisher_write_moves_the_generation,
            subject(),
            commit::every_publisher_write_moves_the_generation
        );
    };
}

pub(crate) use conformance_suite;
