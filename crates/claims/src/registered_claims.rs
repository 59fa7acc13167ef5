//! Checks of the registered claims `iss`, `aud`, `exp`, `iat`, `nbf` (as PyPI pins
//! them: `require = [iss, iat, exp, aud]`, strict single-string audience, `nbf`
//! checked when present, leeway on exp / nbf / iat-in-the-future).

use serde_json::{Map, Value};

use crate::audience::AudiencePolicy;
use crate::error::ClaimsError;

/// The validated time claims.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TimeClaims {
    pub(crate) exp: i64,
    pub(crate) iat: i64,
}

/// Checks the registered claims of an authenticated payload at unix time `now`.
/// Every failure is [`ClaimsError::InvalidToken`].
pub(crate) fn check_registered_claims(
    payload: &Map<String, Value>,
    expected_iss: &str,
    audience: &AudiencePolicy<'_>,
    now: i64,
    leeway: i64,
) -> Result<TimeClaims, ClaimsError> {
    match payload.get("iss") {
        Some(Value::String(iss)) if iss == expected_iss => {}
        _ => return Err(invalid("iss does not match the routed issuer")),
    }
    match payload.get("aud") {
        Some(Value::String(aud)) if audience.accepts(aud, expected_iss, payload) => {}
        Some(Value::String(_)) => return Err(invalid("aud is not this service's audience")),
        // PyPI's strict_aud: even ["pypi"] is refused, so a token minted for several
        // relying parties cannot be replayed here.
        Some(Value::Array(_)) => return Err(invalid("aud must be a single string, not a list")),
        Some(_) => return Err(invalid("aud is not a string")),
        None => return Err(invalid("no aud claim")),
    }
    let exp = numeric_date(payload, "exp")?.ok_or_else(|| invalid("no exp claim"))?;
    let iat = numeric_date(payload, "iat")?.ok_or_else(|| invalid("no iat claim"))?;
    let nbf = numeric_date(payload, "nbf")?;

    // Same comparisons as PyJWT: expired when exp <= now - leeway; immature when
    // iat or nbf > now + leeway.
    if exp <= now.saturating_sub(leeway) {
        return Err(invalid("token has expired"));
    }
    if iat > now.saturating_add(leeway) {
        return Err(invalid("iat is in the future"));
    }
    if nbf.is_some_and(|nbf| nbf > now.saturating_add(leeway)) {
        return Err(invalid("token is not yet valid (nbf)"));
    }
    Ok(TimeClaims { exp, iat })
}

/// A NumericDate claim: a JSON number of seconds (fractions are floored). Strings,
/// booleans and other types are invalid.
fn numeric_date(payload: &Map<String, Value>, name: &str) -> Result<Option<i64>, ClaimsError> {
    match payload.get(name) {
        None => Ok(None),
        Some(Value::Number(number)) => match (number.as_i64(), number.as_f64()) {
            (Some(seconds), _) => Ok(Some(seconds)),
            // `as` saturates for out-of-range floats; JSON cannot carry NaN or inf.
            (None, Some(seconds)) => Ok(Some(seconds.floor() as i64)),
            (None, None) => Err(invalid(format!("{name} is not a number"))),
        },
        Some(_) => Err(invalid(format!("{name} is not a number"))),
    }
}

fn invalid(detail: impl Into<String>) -> ClaimsError {
    ClaimsError::InvalidToken(detail.into())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const NOW: i64 = 1_700_000_000;
    const ISS: &str = "https://token.actions.githubusercontent.com";
    const PYPI: AudiencePolicy<'static> = AudiencePolicy {
        service: "pypi",
        kind: trustmint_publishers::Provider::GitHub,
        extra: &[],
    };

    fn payload(overrides: Value) -> Map<String, Value> {
        let mut base = json!({"iss": ISS, "aud": "pypi", "exp": NOW + 300, "iat": NOW, "nbf": NOW});
        if let (Value::Object(base), Value::Object(overrides)) = (&mut base, overrides) {
            for (key, value) in overrides {
                if value.is_null() {
                    base.remove(&key);
                } else {
                    base.insert(key, value);
                }
            }
        }
        match base {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    #[test]
    fn registered_claim_table() {
        let ok = Ok(TimeClaims {
            exp: NOW + 300,
            iat: NOW,
        });
        let rows: Vec<(Value, Result<TimeClaims, &str>)> = vec![
            (json!({}), ok),
            (json!({"nbf": null}), ok),
            (
                json!({"iss": "https://token.actions.githubusercontent.com/"}),
                Err("iss does not match the routed issuer"),
            ),
            (
                json!({"iss": "https://evil.example"}),
                Err("iss does not match the routed issuer"),
            ),
            (
                json!({"aud": "notpypi"}),
                Err("aud is not this service's audience"),
            ),
            (
                json!({"aud": "PyPI"}),
                Err("aud is not this service's audience"),
            ),
            (
                json!({"aud": ["pypi"]}),
                Err("aud must be a single string, not a list"),
            ),
            (
                json!({"aud": ["notpypi", "pypi"]}),
                Err("aud must be a single string, not a list"),
            ),
            (json!({"aud": 1}), Err("aud is not a string")),
            (json!({"aud": null}), Err("no aud claim")),
            (json!({"exp": null}), Err("no exp claim")),
            (json!({"iat": null}), Err("no iat claim")),
            (json!({"exp": "1700000300"}), Err("exp is not a number")),
            (json!({"iat": true}), Err("iat is not a number")),
            (json!({"nbf": "soon"}), Err("nbf is not a number")),
            // expiry with 30 s leeway
            (json!({"exp": NOW - 31}), Err("token has expired")),
            (json!({"exp": NOW - 30}), Err("token has expired")),
            (
                json!({"exp": NOW - 29}),
                Ok(TimeClaims {
                    exp: NOW - 29,
                    iat: NOW,
                }),
            ),
            (json!({"exp": NOW}), Ok(TimeClaims { exp: NOW, iat: NOW })),
            (json!({"exp": (NOW + 300) as f64 + 0.9}), ok),
            // iat in the future
            (json!({"iat": NOW + 31}), Err("iat is in the future")),
            (
                json!({"iat": NOW + 30}),
                Ok(TimeClaims {
                    exp: NOW + 300,
                    iat: NOW + 30,
                }),
            ),
            // nbf in the future
            (
                json!({"nbf": NOW + 31}),
                Err("token is not yet valid (nbf)"),
            ),
            (json!({"nbf": NOW + 30}), ok),
            (
                json!({"exp": 1e300}),
                Ok(TimeClaims {
                    exp: i64::MAX,
                    iat: NOW,
                }),
            ),
            (json!({"exp": -1e300}), Err("token has expired")),
        ];
        for (overrides, expected) in rows {
            let got = check_registered_claims(&payload(overrides.clone()), ISS, &PYPI, NOW, 30);
            let want = expected.map_err(|detail| ClaimsError::InvalidToken(detail.to_owned()));
            assert_eq!(got, want, "{overrides}");
        }
    }

    #[test]
    fn extreme_now_does_not_overflow() {
        let claims = payload(json!({"exp": i64::MAX, "iat": i64::MIN, "nbf": null}));
        let expected = Ok(TimeClaims {
            exp: i64::MAX,
            iat: i64::MIN,
        });
        assert_eq!(
            check_registered_claims(&claims, ISS, &PYPI, i64::MIN, 30),
            expected
        );
        assert_eq!(
            check_registered_claims(&claims, ISS, &PYPI, i64::MAX, 30),
            expected
        );
    }
}
