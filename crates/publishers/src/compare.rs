//! How claim values are compared with configured ones.
//!
//! Repository, namespace and project names are case-insensitive on GitHub and GitLab,
//! and both platforms send their canonical spelling, which a hand-written config may not
//! reproduce. Workflow paths and git refs are case-sensitive. Case folding is ASCII-only
//! (see `keys.rs` for why).

/// `claim == expected`, except that the first `folded_len` bytes (a name part such as
/// `owner/repo`) compare ASCII-case-insensitively. Byte-wise, so no char boundary can
/// panic on hostile input.
pub(crate) fn eq_with_folded_prefix(claim: &str, expected: &str, folded_len: usize) -> bool {
    let (claim, expected) = (claim.as_bytes(), expected.as_bytes());
    if claim.len() != expected.len() || folded_len > expected.len() {
        return false;
    }
    let (claim_head, claim_rest) = claim.split_at(folded_len);
    let (expected_head, expected_rest) = expected.split_at(folded_len);
    claim_head.eq_ignore_ascii_case(expected_head) && claim_rest == expected_rest
}

/// Whether `claim` starts with `prefix`, the first `folded_len` bytes of `prefix`
/// compared ASCII-case-insensitively and the rest exactly.
pub(crate) fn starts_with_folded_prefix(claim: &str, prefix: &str, folded_len: usize) -> bool {
    claim
        .as_bytes()
        .get(..prefix.len())
        .and_then(|head| std::str::from_utf8(head).ok())
        .is_some_and(|head| eq_with_folded_prefix(head, prefix, folded_len))
}

/// `*` matches any run of characters; everything else is literal: the literal pieces
/// between stars must appear in order, the first at the start and the last at the end.
/// Custom-issuer claims glob a whole value (claims are not paths); policy refs glob
/// within one `/`-separated segment.
pub(crate) fn star_matches(pattern: &str, value: &str) -> bool {
    let pieces: Vec<&str> = pattern.split('*').collect();
    let [first, middle @ .., last] = pieces.as_slice() else {
        return pattern == value;
    };
    let Some(mut rest) = value.strip_prefix(first) else {
        return false;
    };
    for piece in middle {
        match rest.find(piece) {
            Some(at) => rest = &rest[at + piece.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folded_prefix_table() {
        // (claim, expected, folded_len, equal)
        for (claim, expected, folded, equal) in [
            (
                "coBib/cobib//ci.yml@main",
                "cobib/cobib//ci.yml@main",
                11,
                true,
            ),
            (
                "cobib/cobib//CI.yml@main",
                "cobib/cobib//ci.yml@main",
                11,
                false,
            ),
            (
                "cobib/cobib//ci.yml@MAIN",
                "cobib/cobib//ci.yml@main",
                11,
                false,
            ),
            (
                "cobib/cobib//ci.yml@main",
                "cobib/cobib//ci.yml@main",
                0,
                true,
            ),
            (
                "cobib/cobib//ci.yml@main ",
                "cobib/cobib//ci.yml@main",
                11,
                false,
            ),
            ("é/x", "É/x", 2, false),
            ("ab", "ab", 3, false),
        ] {
            assert_eq!(
                eq_with_folded_prefix(claim, expected, folded),
                equal,
                "{claim} vs {expected}"
            );
        }
    }

    #[test]
    fn starts_with_table() {
        for (claim, prefix, folded, expected) in [
            (
                "Shared/WF/.github/workflows/p.yml@v1",
                "shared/wf/.github/workflows/p.yml@",
                9,
                true,
            ),
            (
                "shared/wf/.github/workflows/P.yml@v1",
                "shared/wf/.github/workflows/p.yml@",
                9,
                false,
            ),
            ("shared/wf", "shared/wf/.github/workflows/p.yml@", 9, false),
            // A multi-byte character straddling the prefix end must not panic.
            ("abé", "abc", 0, false),
        ] {
            assert_eq!(
                starts_with_folded_prefix(claim, prefix, folded),
                expected,
                "{claim} vs {prefix}"
            );
        }
    }
}
