//! Kubernetes resource quantities (`resource.ParseQuantity`'s grammar), checked but never
//! rewritten: the API server canonicalises them on admission.

const DECIMAL_SI: &[&str] = &["n", "u", "m", "", "k", "M", "G", "T", "P", "E"];
const BINARY_SI: &[&str] = &["Ki", "Mi", "Gi", "Ti", "Pi", "Ei"];

/// `Ok` when `value` is a non-negative quantity the API server accepts for resources.
pub fn validate(value: &str) -> Result<(), String> {
    let unsigned = value.strip_prefix('+').unwrap_or(value);
    if unsigned.starts_with('-') {
        return Err("negative".to_owned());
    }
    let number_end = unsigned
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(unsigned.len());
    let (number, suffix) = unsigned.split_at(number_end);
    let digits = number.chars().filter(char::is_ascii_digit).count();
    if digits == 0 || number.matches('.').count() > 1 {
        return Err("not a number".to_owned());
    }
    if DECIMAL_SI.contains(&suffix) || BINARY_SI.contains(&suffix) || is_exponent(suffix) {
        Ok(())
    } else {
        Err("bad suffix".to_owned())
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
        assert_eq!(validate("-1").unwrap_err(), "negative");
        assert_eq!(validate("").unwrap_err(), "not a number");
        assert_eq!(validate("abc").unwrap_err(), "not a number");
        assert_eq!(validate("1.2.3").unwrap_err(), "not a number");
        assert_eq!(validate("1mi").unwrap_err(), "bad suffix");
        assert_eq!(validate("1 Gi").unwrap_err(), "bad suffix");
        assert_eq!(validate("1e").unwrap_err(), "bad suffix");
        assert_eq!(validate("1KiB").unwrap_err(), "bad suffix");
    }
}
