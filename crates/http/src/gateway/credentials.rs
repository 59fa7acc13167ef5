//! The token an upload is authenticated with: HTTP Basic `__token__:<token>` (what
//! twine and uv send) or `Authorization: Bearer <token>`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// The user name PyPI expects with an API token.
pub(crate) const TOKEN_USERNAME: &str = "__token__";

/// Why there is no usable token (HTTP 401). The texts never contain the credentials.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum CredentialsError {
    /// No `Authorization` header.
    #[error(
        "authentication required: upload with username __token__ and a trustmint token as the password"
    )]
    Missing,
    /// A header that is neither Basic nor Bearer, or does not decode.
    #[error("malformed Authorization header: use Basic __token__:<token> or Bearer <token>")]
    Malformed,
    /// Basic with another user name: the gateway has no accounts.
    #[error("only API tokens are accepted here: use the username __token__")]
    NotTokenUser,
}

/// The token in `authorization` (the header's value, if any).
pub(crate) fn token(authorization: Option<&[u8]>) -> Result<String, CredentialsError> {
    let header = authorization.ok_or(CredentialsError::Missing)?;
    let header = std::str::from_utf8(header).map_err(|_| CredentialsError::Malformed)?;
    let (scheme, value) = header
        .trim()
        .split_once(' ')
        .ok_or(CredentialsError::Malformed)?;
    let value = value.trim();
    let token = if scheme.eq_ignore_ascii_case("basic") {
        let decoded = STANDARD
            .decode(value)
            .map_err(|_| CredentialsError::Malformed)?;
        let decoded = String::from_utf8(decoded).map_err(|_| CredentialsError::Malformed)?;
        let (user, password) = decoded.split_once(':').ok_or(CredentialsError::Malformed)?;
        if user != TOKEN_USERNAME {
            return Err(CredentialsError::NotTokenUser);
        }
        password.to_owned()
    } else if scheme.eq_ignore_ascii_case("bearer") {
        value.to_owned()
    } else {
        return Err(CredentialsError::Malformed);
    };
    if token.is_empty() {
        return Err(CredentialsError::Malformed);
    }
    Ok(token)
}

/// `Basic base64(user:password)` for the upstream.
pub(crate) fn basic(user: &str, password: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{user}:{password}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_token_user_and_bearer_are_accepted() {
        let basic_header = basic("__token__", "pypi-abc");
        assert_eq!(token(Some(basic_header.as_bytes())).unwrap(), "pypi-abc");
        assert_eq!(token(Some(b"Bearer pypi-xyz")).unwrap(), "pypi-xyz");
        assert_eq!(token(Some(b"bearer  pypi-xyz ")).unwrap(), "pypi-xyz");
    }

    #[test]
    fn anything_else_is_a_specific_refusal() {
        let alice = basic("alice", "secret");
        let empty = basic("__token__", "");
        let cases: [(Option<&[u8]>, CredentialsError); 7] = [
            (None, CredentialsError::Missing),
            (Some(b"Basic"), CredentialsError::Malformed),
            (Some(b"Basic !!!not-base64"), CredentialsError::Malformed),
            (Some(b"Digest abc"), CredentialsError::Malformed),
            (Some(b"Basic X19fdG9rZW5fXw=="), CredentialsError::Malformed), // no colon
            (Some(alice.as_bytes()), CredentialsError::NotTokenUser),
            (Some(empty.as_bytes()), CredentialsError::Malformed),
        ];
        for (header, expected) in cases {
            assert_eq!(token(header), Err(expected.clone()), "{header:?}");
            assert!(!expected.to_string().contains("secret"));
        }
    }
}
