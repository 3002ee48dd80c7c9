//! Go behaviour that Dapr's injector relies on and the policy must reproduce exactly: Dapr's
//! `kit/strings.IsTruthy` and Go's `path.Match`.

/// Dapr's `kit/strings.IsTruthy`.
pub fn is_truthy(value: &str) -> bool {
    matches!(
        value.trim().to_ascii_lowercase().as_str(),
        "y" | "yes" | "true" | "t" | "on" | "1"
    )
}

/// The values that clearly mean false, the empty value included.
pub fn is_falsy(value: &str) -> bool {
    matches!(
        value.trim().to_ascii_lowercase().as_str(),
        "" | "n" | "no" | "false" | "f" | "off" | "0"
    )
}

/// The values that clearly mean false, not counting the empty value.
pub fn is_falsy_strict(value: &str) -> bool {
    !value.trim().is_empty() && is_falsy(value)
}

/// A glob that Go's `path.Match` reports as `ErrBadPattern`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadPattern;

/// Go's `path.Match`. Hand-written: the glob crates differ from Go on `[^…]`, escapes and
/// malformed patterns, and Dapr's semantics must hold exactly.
pub fn glob_match(pattern: &str, name: &str) -> Result<bool, BadPattern> {
    // Most patterns (all the built-ins) are literal: those match only themselves.
    if !pattern.contains(['*', '?', '[', '\\']) {
        return Ok(pattern == name);
    }
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    let matched = match_from(&p, &n)?;
    if !matched {
        // Go reports a malformed pattern even when an earlier part already failed to match.
        validate_pattern(&p)?;
    }
    Ok(matched)
}

fn validate_pattern(mut p: &[char]) -> Result<(), BadPattern> {
    while let Some((&c, rest)) = p.split_first() {
        p = match c {
            '\\' => rest.split_first().ok_or(BadPattern)?.1,
            '[' => parse_class(rest)?.2,
            _ => rest,
        };
    }
    Ok(())
}

/// Go's `getEsc`: one class character, possibly escaped; something must follow it.
fn class_char(p: &[char]) -> Result<(char, &[char]), BadPattern> {
    let p = match p.split_first() {
        None | Some(('-' | ']', _)) => return Err(BadPattern),
        Some(('\\', rest)) => rest,
        Some(_) => p,
    };
    let (&c, rest) = p.split_first().ok_or(BadPattern)?;
    if rest.is_empty() {
        return Err(BadPattern);
    }
    Ok((c, rest))
}

/// A parsed `[...]`: its ranges, whether it is negated, and the pattern after `]`.
type Class<'a> = (Vec<(char, char)>, bool, &'a [char]);

fn parse_class(p: &[char]) -> Result<Class<'_>, BadPattern> {
    let (negated, mut p) = match p.split_first() {
        Some(('^', rest)) => (true, rest),
        _ => (false, p),
    };
    let mut ranges = Vec::new();
    loop {
        if let Some((']', rest)) = p.split_first()
            && !ranges.is_empty()
        {
            return Ok((ranges, negated, rest));
        }
        let (lo, rest) = class_char(p)?;
        let (hi, rest) = match rest.split_first() {
            Some(('-', after)) => class_char(after)?,
            _ => (lo, rest),
        };
        ranges.push((lo, hi));
        p = rest;
    }
}

fn match_from(p: &[char], n: &[char]) -> Result<bool, BadPattern> {
    let Some((&first, rest)) = p.split_first() else {
        return Ok(n.is_empty());
    };
    let no_match = |rest: &[char]| validate_pattern(rest).map(|()| false);
    match first {
        '*' => {
            // `*` matches any run of non-'/' characters, shortest first.
            let mut tail = n;
            loop {
                if match_from(rest, tail)? {
                    return Ok(true);
                }
                match tail.split_first() {
                    Some((&c, t)) if c != '/' => tail = t,
                    _ => return no_match(rest),
                }
            }
        }
        '?' => match n.split_first() {
            Some((&c, n_rest)) if c != '/' => match_from(rest, n_rest),
            _ => no_match(rest),
        },
        '[' => {
            let (ranges, negated, after) = parse_class(rest)?;
            match n.split_first() {
                Some((&c, n_rest))
                    if c != '/' && ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi) != negated =>
                {
                    match_from(after, n_rest)
                }
                _ => no_match(after),
            }
        }
        _ => {
            let (literal, after) = if first == '\\' {
                rest.split_first().map(|(&c, r)| (c, r)).ok_or(BadPattern)?
            } else {
                (first, rest)
            };
            match n.split_first() {
                Some((&c, n_rest)) if c == literal => match_from(after, n_rest),
                _ => no_match(after),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_path_match_semantics_hold() {
        let cases: &[(&str, &str, Result<bool, BadPattern>)] = &[
            ("abc", "abc", Ok(true)),
            ("*", "abc", Ok(true)),
            ("*c", "abc", Ok(true)),
            ("a*", "a", Ok(true)),
            ("a*", "abc", Ok(true)),
            ("a*", "ab/c", Ok(false)),
            ("a*/b", "abc/b", Ok(true)),
            ("a?c", "abc", Ok(true)),
            ("a?", "a/", Ok(false)),
            ("[abc]", "b", Ok(true)),
            ("[^abc]", "b", Ok(false)),
            ("[^abc]", "d", Ok(true)),
            ("[a-z]x", "qx", Ok(true)),
            ("[a-z]x", "Qx", Ok(false)),
            ("a\\*b", "a*b", Ok(true)),
            ("a\\*b", "ab", Ok(false)),
            ("[", "a", Err(BadPattern)),
            ("[^", "a", Err(BadPattern)),
            ("[-]", "-", Err(BadPattern)),
            ("[x-]", "x", Err(BadPattern)),
            ("a[", "x", Err(BadPattern)),
            ("*x[", "abc", Err(BadPattern)),
            ("\\", "a", Err(BadPattern)),
            ("", "", Ok(true)),
            ("", "a", Ok(false)),
        ];
        for (pattern, name, expected) in cases {
            assert_eq!(
                glob_match(pattern, name),
                *expected,
                "path.Match({pattern:?}, {name:?})"
            );
        }
    }
}
