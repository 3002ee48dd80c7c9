//! Kubernetes resource quantities (`resource.ParseQuantity`'s grammar), checked but never
//! rewritten: the API server canonicalises them on admission.

const DECIMAL_SI: &[&str] = &["n", "u", "m", "", "k", "M", "G", "T", "P", "E"];
const BINARY_SI: &[&str] = &["Ki", "Mi", "Gi", "Ti", "Pi", "Ei"];

/// `Ok` when `value` is a non-negative quantity the API server accepts for resources.
pub fn validate(value: &str) -> Result<(), String> {
    let unsigned = value.strip_prefix('+').unwrap_or(value);
    if unsigned.starts_with('-') {
        return Err("must not be negative".to_owned());
    }
    let number_end = unsigned
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(unsigned.len());
    let (number, suffix) = unsigned.split_at(number_end);
    let digits = number.chars().filter(char::is_ascii_digit).count();
    if digits == 0 || number.matches('.').count() > 1 {
        return Err("must start with a number, e.g. 100m, 0.5, 128Mi or 1Gi".to_owned());
    }
    if DECIMAL_SI.contains(&suffix) || BINARY_SI.contains(&suffix) || is_exponent(suffix) {
        Ok(())
    } else {
        Err(format!(
            "unknown suffix \"{suffix}\"; use one of m, k, M, G, T, P, E, Ki, Mi, Gi, Ti, Pi, Ei or an exponent such as e3"
        ))
    }
}

fn is_exponent(suffix: &str) -> bool {
    let Some(rest) = suffix.strip_prefix(['e', 'E']) else {
        return false;
    };
    let digits = rest.strip_prefix(['+', '-']).unwrap_or(rest);
    !digits.is_empty() && digits.len() <= 18 && digits.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::validate;

    #[test]
    fn kubernetes_quantities_are_accepted() {
        for q in [
            "0", "1", "0.5", "4.0", "100m", "250Mi", "1Gi", "1.5G", "1e3", "2E-2", "+1", ".5", "1.",
        ] {
            assert!(validate(q).is_ok(), "{q}");
        }
    }

    #[test]
    fn malformed_or_negative_quantities_are_refused_with_a_reason() {
        assert_eq!(validate("-1").unwrap_err(), "must not be negative");
        assert!(
            validate("")
                .unwrap_err()
                .starts_with("must start with a number")
        );
        assert!(
            validate("abc")
                .unwrap_err()
                .starts_with("must start with a number")
        );
        assert!(validate("1.2.3").is_err());
        assert!(
            validate("1mi")
                .unwrap_err()
                .starts_with("unknown suffix \"mi\"")
        );
        assert!(validate("1 Gi").is_err());
        assert!(validate("1e").is_err());
        assert!(validate("1KiB").is_err());
    }
}
