//! What `docs/configuration.md` says beyond what the config structs hold: one
//! description per key, the prose around the tables, and the examples. The key names,
//! types and defaults come from the structs (`Settings::default()` serialised); the test
//! fails when a key has no description here or a description names no key.

#![allow(unreachable_pub)]

/// One documented key of a `[section]`.
pub struct Key {
    /// `section.key`
    pub path: &'static str,
    /// `string`, `integer`, `number`, `boolean`, `list of strings`, `table`, or an
    /// enumeration written as "`a` or `b`".
    pub ty: &'static str,
    /// A valid value other than (or, if no other is valid, equal to) the default, set
    /// through the key's environment variable in the test.
    pub env_example: &'static str,
    /// The description in the table.
    pub text: &'static str,
}

const fn key(
    path: &'static str,
    ty: &'static str,
    env_example: &'static str,
    text: &'static str,
) -> Key {
    Key {
        path,
        ty,
        env_example,
        text,
    }
}

/// Keys whose values are secrets: serialised as `<redacted>`.
pub const SECRET_KEYS: [&str; 4] = [
    "grpc.auth_token",
    "grpc.auth_tokens",
    "keys.secrets",
    "gateway.upstream_password",
];

/// Every key of every section, in document order.
pub const KEYS: &[Key] = &[
    key(
        "server.http_addr",
        "string",
        "0.0.0.0:8081",
        "HTTP listener: CI runners (`/_/oidc/*`), `/metrics`, `/healthz`, `/readyz`. Port 0 picks a free port.",
    ),
    key(
        "server.grpc_addr",
        "string",
        "0.0.0.0:50052",
        "gRPC listener for the index (TokenService, PublisherService, health, reflection). Keep it private and authenticated (`[grpc]`).",
    ),
    key(
        "server.location",
        "string",
        "https://upload.example.org",
        "Location written into every minted macaroon: the index's upload URL or host. Must not be empty.",
    ),
    key(
        "server.http_workers",
        "integer",
        "4",
        "actix-web worker threads (1–64); one per CPU the process may use.",
    ),
    key(
        "server.tls_cert_file",
        "string",
        "/etc/trustmint/tls/tls.crt",
        "PEM certificate chain (leaf first) for HTTPS on the HTTP listener (HTTP/1.1 and HTTP/2); set together with `tls_key_file`. Empty = plain HTTP. uv reaches `/_/oidc/*` and the gateway only over HTTPS.",
    ),
    key(
        "server.tls_key_file",
        "string",
        "/etc/trustmint/tls/tls.key",
        "PEM private key (PKCS#8, PKCS#1 or SEC1) of `tls_cert_file`.",
    ),
    key(
        "server.shutdown_grace_secs",
        "integer",
        "25",
        "After SIGTERM, how long in-flight HTTP requests and gRPC calls may take to finish once the listeners closed (1–3600); then the process exits 0. Keep drain delay + grace below the orchestrator's kill timeout.",
    ),
    key(
        "server.shutdown_drain_delay_ms",
        "integer",
        "2000",
        "After SIGTERM, how long the replica keeps serving while `/readyz` answers 503 and gRPC health is NOT_SERVING, before it closes its listeners, so load balancers stop routing to it first (0–600000; 0 closes at once).",
    ),
    key(
        "server.config_poll_secs",
        "integer",
        "0",
        "How often (seconds, 0–86400) to look whether the files a reload reads changed — the config file, the `keys.secrets_dir` files, `grpc.auth_token_file` — and reload when they did, exactly as on SIGHUP (a mounted Secret or ConfigMap updated in place). 0 = reload on SIGHUP only. Needs a restart to change.",
    ),
    key(
        "exchange.enabled",
        "boolean",
        "false",
        "Global switch (PyPI's `disallow-oidc`): `false` answers `not-enabled` to every mint-token request and 403 to `GET /_/oidc/audience`.",
    ),
    key(
        "exchange.audience",
        "string",
        "testpypi",
        "The `aud` OIDC tokens must carry (PyPI: `pypi`, TestPyPI: `testpypi`); 1–255 characters.",
    ),
    key(
        "exchange.token_prefix",
        "string",
        "tpypi-",
        "Prefix of minted tokens, 1–16 characters of `[A-Za-z0-9_-]`; secret scanners match on it.",
    ),
    key(
        "exchange.token_ttl_secs",
        "integer",
        "600",
        "Lifetime of minted upload tokens, 60–86400 seconds. Key rotation waits at least this long before removing an old key id.",
    ),
    key(
        "exchange.jwt_leeway_secs",
        "integer",
        "30",
        "Clock leeway for the OIDC token's `exp`, `nbf` and `iat`. Fixed at 30 (the replay guard's lifetime is derived from it); any other value is refused. Listed so configs that spell it out stay valid.",
    ),
    key(
        "exchange.not_before_skew_secs",
        "integer",
        "10",
        "How many seconds in the future a token's `not_before` may be when a replica with a lagging clock verifies it (0–300). Keep clocks in sync (NTP) and this small.",
    ),
    key(
        "exchange.jwks_refresh_cooldown_secs",
        "integer",
        "120",
        "After a successful JWKS refresh, tokens with an unknown `kid` do not make trustmint fetch that issuer's keys again for this long (1–3600 s): a rotation costs one fetch, a flood of made-up kids at most one per period. Lower it only for issuers that rotate often.",
    ),
    key(
        "store.backend",
        "`memory` or `redis`",
        "redis",
        "`memory`: everything in the process (one replica; lost on restart). `redis`: tokens, replay records, registered publishers, rate limits and the audit stream shared by all replicas.",
    ),
    key(
        "store.redis_url",
        "string",
        "redis://10.0.0.5:6379",
        "The standalone Redis, `redis://[user:password@]host:port[/db]` (`rediss://` for TLS, verified against the system trust store or `redis_ca_file`); ignored when `cluster_urls` is set. A URL with a password is a secret: set it through the environment.",
    ),
    key(
        "store.cluster_urls",
        "list of strings",
        "redis://10.0.0.1:7000,redis://10.0.0.2:7000",
        "Seed nodes of a Redis Cluster; non-empty selects Cluster mode.",
    ),
    key(
        "store.redis_ca_file",
        "string",
        "/etc/trustmint/redis-ca.pem",
        "PEM bundle of the CAs that sign the certificate of a `rediss://` `redis_url`, trusted *instead of* the system trust store (the host name is still checked); empty = the system trust store. Read at startup; an unreadable file or one without a valid certificate stops it. Refused with a `redis://` URL and with `cluster_urls`.",
    ),
    key(
        "store.key_prefix",
        "string",
        "tm:",
        "Prepended to every Redis key, so several deployments can share one Redis. Must not contain `{` or `}` (they would break the Cluster hash tags).",
    ),
    key(
        "store.timeout_ms",
        "integer",
        "250",
        "Upper bound on every Redis call, reconnection waits included (1–60000 ms). A down or slow Redis fails the request with `unavailable` after this long.",
    ),
    key(
        "store.audit_stream_maxlen",
        "integer",
        "5000",
        "Approximate cap of the audit stream `<key_prefix>audit` (`XADD … MAXLEN ~`); 0 disables the stream (the audit log lines remain). Redis backend only.",
    ),
    key(
        "rate_limit.enabled",
        "boolean",
        "false",
        "Rate-limit mint-token per client IP (GCRA; shared by all replicas with the Redis backend). Refusals answer 429 `rate-limited` with `Retry-After`.",
    ),
    key(
        "rate_limit.requests_per_second",
        "number",
        "2.5",
        "Sustained rate per client (positive, at least one request per day).",
    ),
    key(
        "rate_limit.burst",
        "integer",
        "7",
        "Requests a client may make at once before the sustained rate applies (at least 1).",
    ),
    key(
        "rate_limit.trusted_proxies",
        "list of strings",
        "10.0.0.0/8,192.168.0.0/16",
        "Networks (CIDR) of reverse proxies whose `X-Forwarded-For` is believed when picking the client address; empty = the socket peer. Never list networks clients come from: they could pick their own bucket.",
    ),
    key(
        "keys.current",
        "string",
        "k2",
        "Key id new tokens are minted with; it must have a secret. Empty (with no secrets) = an ephemeral random key: development only, tokens stop verifying when the process exits and other replicas cannot verify them.",
    ),
    key(
        "keys.secrets",
        "table",
        "",
        "Key id → base64 secret of at least 32 bytes (`openssl rand -base64 32`). Older ids keep verifying until removed. Never in the file: set `TRUSTMINT__KEYS__SECRETS__<ID>` (the id is lower-cased) or use `secrets_dir`.",
    ),
    key(
        "keys.secrets_dir",
        "string",
        "/run/trustmint/keys",
        "Directory with one file per key id (file name = id, content = base64 secret), e.g. a mounted Kubernetes Secret; hidden entries are skipped. Adds to `secrets`.",
    ),
    key(
        "grpc.auth_token",
        "string",
        "index-token-example",
        "Bearer token every gRPC call must carry (`authorization: Bearer <token>`); empty = no authentication (acceptable on loopback only). Prefer `auth_token_file`.",
    ),
    key(
        "grpc.auth_tokens",
        "list of strings",
        "index-token-old,index-token-new",
        "More bearer tokens, accepted together with `auth_token`: a call may carry any one of them. For rotating the index's token without a restart: list old and new, reload (SIGHUP), move the index over, drop the old one and reload again. Entries must not be empty.",
    ),
    key(
        "grpc.auth_token_file",
        "string",
        "/run/trustmint/grpc-token",
        "File holding the bearer tokens, one per line (blank lines and surrounding whitespace are ignored); when set it wins over `auth_token` and `auth_tokens`. Re-read on SIGHUP.",
    ),
    key(
        "grpc.tls_cert_file",
        "string",
        "/etc/trustmint/tls/tls.crt",
        "PEM certificate chain: with `tls_key_file`, the gRPC listener serves TLS. Empty = plaintext.",
    ),
    key(
        "grpc.tls_key_file",
        "string",
        "/etc/trustmint/tls/tls.key",
        "PEM private key of `tls_cert_file`.",
    ),
    key(
        "grpc.tls_client_ca_file",
        "string",
        "/etc/trustmint/tls/ca.crt",
        "PEM CA bundle: when set, clients must present a certificate it signed (mTLS).",
    ),
    key(
        "telemetry.log_format",
        "`text` or `json`",
        "json",
        "Human-readable lines, or one JSON object per line (audit events carry the whole event as JSON in the field `event`).",
    ),
    key(
        "telemetry.log_level",
        "string",
        "info,trustmint_exchange=debug",
        "Log filter in `tracing_subscriber::EnvFilter` syntax (e.g. `info,trustmint_exchange=debug`); `RUST_LOG` overrides it. It also selects which spans are exported.",
    ),
    key(
        "telemetry.otlp_endpoint",
        "string",
        "http://127.0.0.1:4317",
        "OTLP/gRPC collector for traces, e.g. `http://otel-collector:4317`. Empty = no span is exported (the standard `OTEL_EXPORTER_OTLP_*` variables do not switch export on).",
    ),
    key(
        "telemetry.service_name",
        "string",
        "trustmint-eu",
        "`service.name` resource attribute of exported spans.",
    ),
    key(
        "gateway.enabled",
        "boolean",
        "true",
        "Serve the upload gateway (`POST <path>`) on the HTTP listener: uploads authenticated with a trustmint token are checked for their project and forwarded to `upstream` with the index's own credentials ([gateway.md](gateway.md)).",
    ),
    key(
        "gateway.upstream",
        "string",
        "http://127.0.0.1:8081/",
        "The index's upload URL (pypiserver: its root; devpi: `http://host:3141/<user>/<index>/`). Required when enabled; no credentials in the URL.",
    ),
    key(
        "gateway.upstream_username",
        "string",
        "trustmint",
        "The index account trustmint uploads as; empty (with no password) for an index that takes anonymous uploads.",
    ),
    key(
        "gateway.upstream_password",
        "string",
        "s3cret",
        "Its password (secret: redacted by `check-config`, never logged). Prefer `upstream_password_file` or `TRUSTMINT__GATEWAY__UPSTREAM_PASSWORD`.",
    ),
    key(
        "gateway.upstream_password_file",
        "string",
        "/run/secrets/index-password",
        "A file holding the password (trailing newline ignored); wins over `upstream_password`.",
    ),
    key(
        "gateway.path",
        "string",
        "/upload/",
        "The upload path clients publish to (`--publish-url https://<trustmint>/legacy/`). Must start with `/` and not be one of trustmint's own routes.",
    ),
    key(
        "gateway.max_upload_bytes",
        "integer",
        "52428800",
        "Largest upload body accepted (PyPI's default file limit, 100 MiB); larger ones are answered 413.",
    ),
    key(
        "gateway.timeout_secs",
        "integer",
        "600",
        "Time allowed for streaming one upload to the index and reading its answer; past it 504.",
    ),
    key(
        "crates.enabled",
        "boolean",
        "true",
        "Serve crates.io's Trusted Publishing API (`POST`/`DELETE /api/v1/trusted_publishing/tokens`, as `crates-io-auth-action` calls it). Off: 404.",
    ),
    key(
        "crates.audience",
        "string",
        "crates.example.org",
        "The `aud` of OIDC tokens at the crates door: the registry URL without scheme, as crates-io-auth-action requests it; 1–255 characters.",
    ),
    key(
        "crates.token_prefix",
        "string",
        "cio_tp_x",
        "Prefix of tokens minted for crates (crates.io's own is `cio_tp_`), 1–16 characters of `[A-Za-z0-9_-]`; secret scanners match on it.",
    ),
    key(
        "npm.enabled",
        "boolean",
        "true",
        "Serve npm's OIDC exchange (`POST /-/npm/v1/oidc/token/exchange/package/{name}`, as the npm CLI 11 calls it). Off: 404.",
    ),
    key(
        "npm.audience",
        "string",
        "npm:registry.example.org",
        "The `aud` of OIDC tokens at the npm door: `npm:<registry hostname>` (no port, no path), as the npm CLI requests it; 1–255 characters.",
    ),
    key(
        "npm.token_prefix",
        "string",
        "npmx_",
        "Prefix of tokens minted for npm packages, 1–16 characters of `[A-Za-z0-9_-]`; secret scanners match on it.",
    ),
    key(
        "token_exchange.enabled",
        "boolean",
        "true",
        "Serve RFC 8693 token exchange at `POST /oauth2/token`. Off: 404.",
    ),
    key(
        "token_exchange.audience",
        "string",
        "oauth-index",
        "The `aud` of subject tokens at `/oauth2/token`; empty = `exchange.audience`.",
    ),
    key(
        "token_exchange.ecosystem",
        "`pypi`, `crates` or `npm`",
        "crates",
        "Whose publishers `/oauth2/token` mints for; its tokens are that ecosystem's (prefix, verification).",
    ),
    key(
        "secret_scanning.enabled",
        "boolean",
        "true",
        "Serve GitHub secret scanning's partner endpoint at `secret_scanning.path`: signed reports of leaked tokens; every trustmint token among them is revoked and audited (`leak`).",
    ),
    key(
        "secret_scanning.keys_url",
        "string",
        "http://127.0.0.1:9000/keys",
        "Where the reports' verification keys are (`{\"public_keys\": [{\"key_identifier\", \"key\", …}]}`, ECDSA P-256 PEM); fetched when an unknown key id arrives, at most every 30 s.",
    ),
    key(
        "secret_scanning.path",
        "string",
        "/_/leaks",
        "The endpoint's path, registered with GitHub as the partner URL.",
    ),
];

/// One field of an `[[issuers]]` entry: (name, type, default, description).
pub const ISSUER_FIELDS: &[(&str, &str, &str, &str)] = &[
    (
        "url",
        "string",
        "—",
        "Exact issuer URL, compared with the token's `iss` (a trailing `/` is not significant). Exactly one of `url` and `url_pattern`.",
    ),
    (
        "url_pattern",
        "string",
        "—",
        "Wildcard issuer URL: each `*` stands for one host label or path segment, e.g. `https://token.actions.githubusercontent.com/*` (GitHub Enterprise Cloud slugs). Every concrete `iss` gets its own key cache entry.",
    ),
    (
        "kind",
        "`github`, `gitlab`, `google`, `activestate`, `buildkite`, `circleci`, `bitbucket`, `forgejo` or `oidc`",
        "required",
        "The provider: decides which publisher rules apply to its tokens.",
    ),
    (
        "name",
        "string",
        "derived",
        "Label in metrics (`trustmint_jwks_*{issuer}`), logs and audit events. Default: the kind for the public issuer of that kind, else `<kind>:<url without scheme>`.",
    ),
    (
        "jwks_uri",
        "string",
        "OIDC discovery",
        "Fixed JWKS URL. Without it the keys come from `<iss>/.well-known/openid-configuration`. https, or http on loopback only.",
    ),
    (
        "algorithms",
        "list of strings",
        "`[\"RS256\"]`",
        "Accepted signature algorithms among `RS256`, `PS256`, `ES256`, `EdDSA`; `none` and `HS*` are refused.",
    ),
    (
        "enabled",
        "boolean",
        "`true`",
        "Per-issuer kill switch: `false` answers its tokens with `not-enabled`.",
    ),
    (
        "audiences",
        "list of strings",
        "`[]`",
        "Audiences this issuer's tokens may carry besides `[exchange] audience`. An entry is a literal, or a publisher-bound template with one placeholder naming the kind's tenant field: `ari:cloud:bitbucket::workspace/{workspace_uuid}` (bitbucket), `{organization_id}` (circleci). A template is filled from the token's own tenant claim, which the publisher pins, so it never trusts one tenant's tokens for another's publishers.",
    ),
    (
        "required_claims",
        "list of strings",
        "— (required for `oidc`)",
        "Kind `oidc` only: claims every publisher of the issuer binds exactly (a shared issuer's tenant or project); the first one's value indexes its publishers. See [Custom issuers](publishers.md#custom-issuers).",
    ),
    (
        "pattern_claims",
        "list of strings",
        "`[]`",
        "Kind `oidc` only: claims a publisher may bind with a `*` glob (e.g. `ref`, `sub`); any other claim is bound exactly.",
    ),
    (
        "replay_key",
        "string",
        "`\"jti\"`",
        "Kind `oidc` only: `jti` (tokens must carry one; it is the one-time-use key) or `sha256` (for issuers without `jti`: the hash of the whole JWT).",
    ),
];

/// The text before the section tables.
pub const INTRO: &str = r#"`trustmint serve --config trustmint.toml` reads, in this order, each overriding the one
before:

1. the built-in defaults (the **default** column below; with no file at all trustmint
   serves on loopback with the in-memory store and trusts the public issuers),
2. the TOML file given with `--config`,
3. environment variables `TRUSTMINT__<SECTION>__<KEY>` (double underscores; e.g.
   `TRUSTMINT__STORE__REDIS_URL`). Values are parsed as numbers or booleans where the key
   takes one; lists are comma-separated; `[keys] secrets` entries are
   `TRUSTMINT__KEYS__SECRETS__<ID>` (the id is lower-cased). `[[issuers]]` and
   `[[publishers]]` come from the file only.

Unknown keys are errors. `trustmint check-config --config FILE` validates everything
that can be checked without network access (issuers, publishers, keys included) and
prints the effective settings with secrets redacted; an invalid configuration exits with
code 64 and a message naming the key. Secrets (minting keys, the gRPC token, a Redis
password) belong in the environment or in files, never in the TOML file."#;

/// After the issuer table.
pub const ISSUERS_TEXT: &str = r#"When the file lists no `[[issuers]]`, the public issuers are trusted, each with the
defaults above: `https://token.actions.githubusercontent.com` (github),
`https://gitlab.com` (gitlab), `https://accounts.google.com` (google),
`https://platform.activestate.com/api/v1/oauth/oidc` (activestate),
`https://agent.buildkite.com` (buildkite), and as `url_pattern`s (one issuer per
organization or workspace) `https://oidc.circleci.com/org/*` (circleci) and
`https://api.bitbucket.org/2.0/workspaces/*/pipelines-config/identity/oidc` (bitbucket). Those patterns admit every tenant's issuer, but a publisher only
ever matches tokens of its own tenant's issuer. No Forgejo instance is trusted by
default: add `[[issuers]] url = "https://codeberg.org/api/actions"` with
`kind = "forgejo"` for Codeberg, or your own instance's `https://<host>/api/actions`.
A list replaces the defaults entirely: list the public ones you still want."#;

/// After the publisher field lists.
pub const PUBLISHERS_TEXT: &str = r#"Declared publishers are always in force, held in memory by every replica, and cannot
be changed or deleted over gRPC. Each names `kind`, `projects` (at least one), optionally
`ecosystem` (`pypi`, the default, `crates` or `npm`: the name rules `projects` follow and
the only door that mints for the publisher), and the fields of its kind (the proto message's field names); an unknown field is an error, so a
typo cannot widen a publisher. Every declared publisher must be reachable through a
configured issuer of its kind. The policy keys (`refs`, `require_protected_ref`,
`allow_self_hosted_runners`, `require_protected_environment`) restrict how the trusted
workflow ran ([Policy](publishers.md#policy)); a `kind = "oidc"` publisher names its
`issuer` and a `claims` table ([Custom issuers](publishers.md#custom-issuers)).
Matching rules and what each field means: [`publishers.md`](publishers.md)."#;

/// The complete example (validated by the test with `check-config`'s checks).
pub const EXAMPLE: &str = r#"[server]
http_addr = "0.0.0.0:8080"
grpc_addr = "0.0.0.0:50051"
location = "https://upload.example.org"

[exchange]
audience = "pypi"

[store]
backend = "redis"
redis_url = "redis://redis.internal.example:6379"

[rate_limit]
trusted_proxies = ["10.0.0.0/8"]

[keys]
current = "k2"
# secrets: TRUSTMINT__KEYS__SECRETS__K1 and TRUSTMINT__KEYS__SECRETS__K2 in the environment

[grpc]
auth_token_file = "/run/secrets/trustmint-grpc-token"

[telemetry]
log_format = "json"
otlp_endpoint = "http://otel-collector:4317"

[[issuers]]
url = "https://token.actions.githubusercontent.com"
kind = "github"

[[issuers]]
url_pattern = "https://token.actions.githubusercontent.com/*"
kind = "github"
name = "github-enterprise"

[[issuers]]
url = "https://gitlab.example.com"
kind = "gitlab"
algorithms = ["RS256"]

[[publishers]]
kind = "github"
projects = ["sampleproject"]
repository_owner = "pypa"
repository_owner_id = "647025"
repository_name = "sampleproject"
workflow_filename = "release.yml"
environment = "pypi"

[[publishers]]
kind = "gitlab"
issuer = "https://gitlab.example.com"
projects = ["internal-tool"]
namespace = "platform/python"
project = "internal-tool"
workflow_filepath = ".gitlab-ci.yml"
project_id = "4242""#;
