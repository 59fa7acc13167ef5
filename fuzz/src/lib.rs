//! What the fuzz targets share: a fixed clock, a real signing key behind a JWKS served
//! in-process, a real minting keyring, and one single-threaded runtime.
//!
//! Everything is built once per fuzzing process (`OnceLock`), so an execution costs
//! only the code under test.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value};
use trustmint_claims::{
    FetchError, IssuerRegistry, IssuerSettings, JwksFetcher, JwtVerifier, KeyStore,
    KeyStoreSettings, NoopObserver,
};
use trustmint_publishers::Provider;
use trustmint_testkit::{KeyAlgorithm, SignOptions, TestKey};
use trustmint_tokens::{Keyring, MintRequest, MintedToken, mint};

/// The fixed "now" of every target (unix seconds); seeds are built for it.
pub const NOW: i64 = 1_700_000_000;
/// The audience the verifier expects.
pub const AUDIENCE: &str = "pypi";
/// The configured issuer of the verifier.
pub const GITHUB_ISSUER: &str = "https://token.actions.githubusercontent.com";
/// The fixed JWKS URL of that issuer (served by [`StaticJwks`], never fetched).
const JWKS_URL: &str = "https://jwks.fuzz.invalid/keys";
/// Token prefix, as the service's default.
pub const PREFIX: &str = "pypi-";
/// The project and publisher minted tokens are for.
pub const PROJECT: &str = "sampleproject";
/// The publisher id minted tokens carry.
pub const PUBLISHER_ID: &str = "publisher-1";

/// Serves one JWKS document for every URL: the key cache in front of it is real.
#[derive(Debug)]
struct StaticJwks(Vec<u8>);

#[async_trait]
impl JwksFetcher for StaticJwks {
    async fn fetch(&self, _url: &str) -> Result<Vec<u8>, FetchError> {
        Ok(self.0.clone())
    }
}

/// The JWT side: a verifier for [`GITHUB_ISSUER`] whose JWKS holds an Ed25519 key (the
/// one that signs, cheap enough to sign per execution) and an RSA key (so alg/key-type
/// mismatches are reachable).
#[derive(Debug)]
pub struct JwtFixture {
    /// The verifier under test.
    pub verifier: JwtVerifier,
    /// Signs what the fuzzer asks to have signed; its kid is `fuzz-ed25519`.
    pub signing_key: TestKey,
}

/// The shared [`JwtFixture`].
pub fn jwt_fixture() -> &'static JwtFixture {
    static FIXTURE: OnceLock<JwtFixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let signing_key = TestKey::generate(KeyAlgorithm::EdDSA, "fuzz-ed25519").expect("key");
        let rsa_key = TestKey::generate(KeyAlgorithm::RS256, "fuzz-rsa").expect("key");
        let jwks = serde_json::json!({"keys": [signing_key.public_jwk(), rsa_key.public_jwk()]});
        let mut issuer = IssuerSettings::exact(Provider::GitHub, GITHUB_ISSUER);
        issuer.jwks_uri = Some(JWKS_URL.to_owned());
        issuer.algorithms = Some(vec!["RS256".into(), "ES256".into(), "EdDSA".into()]);
        let registry = IssuerRegistry::new(&[issuer]).expect("issuer");
        let keystore = KeyStore::new(
            Arc::new(StaticJwks(serde_json::to_vec(&jwks).expect("json"))),
            KeyStoreSettings::default(),
            Arc::new(NoopObserver),
        );
        JwtFixture {
            verifier: JwtVerifier::new(registry, keystore, AUDIENCE.to_owned()),
            signing_key,
        }
    })
}

/// Signs `{"header": {extra members}, "claims": {...}}` with the fixture's key: how
/// the fuzzer reaches the checks behind the signature. `None` for any other shape.
pub fn sign_request(request: &Value) -> Option<String> {
    let object = request.as_object()?;
    let claims = object.get("claims")?;
    let mut options = SignOptions::default();
    if let Some(Value::Object(extra)) = object.get("header") {
        options.extra_header = extra.clone();
    }
    jwt_fixture().signing_key.sign_with(&options, claims).ok()
}

/// A single-threaded runtime for the async code under test.
pub fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("runtime")
    })
}

/// The minting keyring: current key `k2`, older key `k1` still verifying.
pub fn keyring() -> &'static Keyring {
    static KEYRING: OnceLock<Keyring> = OnceLock::new();
    KEYRING.get_or_init(|| {
        let secrets = BTreeMap::from([
            ("k1".to_owned(), STANDARD.encode([0x11u8; 32])),
            ("k2".to_owned(), STANDARD.encode([0x22u8; 32])),
        ]);
        Keyring::new("k2", &secrets).expect("keyring")
    })
}

/// A token minted for [`PROJECT`] and [`PUBLISHER_ID`], valid at [`NOW`].
pub fn minted_token() -> MintedToken {
    let projects = vec![PROJECT.to_owned()];
    mint(
        keyring(),
        &MintRequest {
            location: "https://upload.example.org",
            prefix: PREFIX,
            publisher_id: PUBLISHER_ID,
            projects: &projects,
            not_before: NOW - 60,
            expires_at: NOW + 840,
        },
    )
    .0
}

/// A JSON object as a map (empty for anything else).
pub fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}
