//! Request bodies: PyPI's `{"token": "<string>"}` and nothing else, a size cap answered
//! with a JSON 413 (the connection stays usable), and a body cut short answered 400.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;

use trustmint_testkit::memory_exchange::ExchangeBuilder;

use crate::support::{TestServer, assert_token_error};

pub const MISSING: &str =
    "1 validation error for TokenPayload\ntoken\n  Field required [type=missing]";
pub const NOT_A_STRING: &str = "1 validation error for TokenPayload\ntoken\n  Input should be a valid string [type=string_type]";
pub const NOT_AN_OBJECT: &str =
    "1 validation error for TokenPayload\nbody must be a JSON object with a string field 'token'";

#[tokio::test]
async fn anything_but_an_object_with_a_string_token_is_invalid_payload() {
    let server = TestServer::start().await;
    let cases = [
        ("[]", NOT_AN_OBJECT),
        ("\"a string\"", NOT_AN_OBJECT),
        ("12345", NOT_AN_OBJECT),
        ("3.14", NOT_AN_OBJECT),
        ("null", NOT_AN_OBJECT),
        ("{}", MISSING),
        (r#"{"wrongkey":""}"#, MISSING),
        (r#"{"token":null}"#, NOT_A_STRING),
        (r#"{"token":3.14}"#, NOT_A_STRING),
        (r#"{"token":0}"#, NOT_A_STRING),
        (r#"{"token":[""]}"#, NOT_A_STRING),
        (r#"{"token":[]}"#, NOT_A_STRING),
        (r#"{"token":{}}"#, NOT_A_STRING),
    ];
    for path in ["/_/oidc/mint-token", "/_/oidc/revoke-token"] {
        for (body, description) in cases {
            let answer = server.post(path, body).await;
            assert_token_error(&answer, 422, "invalid-payload", description);
        }
    }
}

#[tokio::test]
async fn unparsable_json_is_invalid_payload_saying_so() {
    let server = TestServer::start().await;
    for body in ["", "{not json", "{\"token\": \"abc\"", "\u{feff}{}"] {
        let answer = server.post("/_/oidc/mint-token", body).await;
        assert_eq!(answer.status, 422, "{body:?}: {answer:?}");
        assert_eq!(answer.body["message"], "Token request failed", "{body:?}");
        assert_eq!(
            answer.body["errors"][0]["code"], "invalid-payload",
            "{body:?}"
        );
        let description = answer.body["errors"][0]["description"]
            .as_str()
            .expect("a description");
        assert!(
            description
                .starts_with("1 validation error for TokenPayload\nbody is not valid JSON: "),
            "{body:?}: {description}"
        );
    }
}

#[tokio::test]
async fn other_keys_are_ignored() {
    let server = TestServer::start().await;
    let answer = server
        .post("/_/oidc/mint-token", r#"{"token":"not-a-jwt","extra":1}"#)
        .await;
    assert_token_error(&answer, 422, "invalid-payload", "malformed JWT");
}

#[tokio::test]
async fn a_body_over_the_default_limit_is_a_json_413_and_the_connection_stays_usable() {
    let server = TestServer::start().await;
    assert_eq!(trustmint_http::DEFAULT_BODY_LIMIT, 65_536);
    let big = format!(r#"{{"token":"{}"}}"#, "a".repeat(1024 * 1024));
    for path in ["/_/oidc/mint-token", "/_/oidc/revoke-token"] {
        assert_token_error(
            &server.post(path, big.clone()).await,
            413,
            "invalid-payload",
            "request body is larger than the limit of 65536 bytes",
        );
    }
    assert_eq!(server.get("/healthz").await.status, 200);
}

#[tokio::test]
async fn the_configured_limit_is_exact() {
    let builder = ExchangeBuilder::start().await;
    let server = TestServer::with(builder, |state| state.body_limit = 64).await;
    // 64 bytes: read, then refused on its merits.
    let at_limit = format!(r#"{{"token":"{}"}}"#, "a".repeat(64 - 12));
    assert_eq!(at_limit.len(), 64);
    assert_token_error(
        &server.post("/_/oidc/mint-token", at_limit.clone()).await,
        422,
        "invalid-payload",
        "malformed JWT",
    );
    let over = format!("{at_limit} ");
    assert_token_error(
        &server.post("/_/oidc/mint-token", over).await,
        413,
        "invalid-payload",
        "request body is larger than the limit of 64 bytes",
    );
}

#[tokio::test]
async fn a_body_cut_short_is_a_json_400() {
    let server = TestServer::start().await;
    let addr = server.addr;
    let response = tokio::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(addr).expect("connects");
        stream
            .write_all(
                b"POST /_/oidc/mint-token HTTP/1.1\r\nhost: localhost\r\n\
                  content-type: application/json\r\ncontent-length: 100\r\n\r\n{\"token\":\"ab",
            )
            .expect("writes");
        stream
            .shutdown(std::net::Shutdown::Write)
            .expect("half-closes");
        let mut response = String::new();
        let _ = stream.read_to_string(&mut response);
        response
    })
    .await
    .expect("the client thread");
    let (head, body) = response.split_once("\r\n\r\n").expect("a response");
    assert!(
        head.starts_with("HTTP/1.1 400 "),
        "a truncated body: {response}"
    );
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(body).expect("a JSON body"),
        serde_json::json!({
            "message": "Token request failed",
            "errors": [{
                "code": "invalid-payload",
                "description": "could not read the request body: payload reached EOF before completing: None",
            }],
        })
    );
    assert_eq!(server.get("/healthz").await.status, 200, "still serving");
}
