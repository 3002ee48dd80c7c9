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

/// The quantity in billionths of its unit (`"500m"` is 500,000,000), for comparing a request
/// with its limit. Integer arithmetic: float parsing would cost the module size budget. `None`
/// for an invalid quantity, or one too large to compare.
pub fn nano_value(value: &str) -> Option<u128> {
    validate(value).ok()?;
    let unsigned = value.strip_prefix('+').unwrap_or(value);
    let number_end = unsigned
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(unsigned.len());
    let (number, suffix) = unsigned.split_at(number_end);
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    let mantissa: u128 = format!("{whole}{fraction}").parse().ok()?;
    let fraction_digits = i32::try_from(fraction.len()).ok()?;
    let (decimal_exponent, binary_factor): (i32, u128) = match suffix {
        "n" => (-9, 1),
        "u" => (-6, 1),
        "m" => (-3, 1),
        "" => (0, 1),
        "k" => (3, 1),
        "M" => (6, 1),
        "G" => (9, 1),
        "T" => (12, 1),
        "P" => (15, 1),
        "E" => (18, 1),
        "Ki" => (0, 1 << 10),
        "Mi" => (0, 1 << 20),
        "Gi" => (0, 1 << 30),
        "Ti" => (0, 1 << 40),
        "Pi" => (0, 1 << 50),
        "Ei" => (0, 1 << 60),
        exponent => (exponent.get(1..)?.parse().ok()?, 1),
    };
    let exponent = decimal_exponent
        .checked_add(9)?
        .checked_sub(fraction_digits)?;
    let scaled = if exponent >= 0 {
        mantissa.checked_mul(10u128.checked_pow(exponent.unsigned_abs())?)?
    } else {
        mantissa.checked_div(10u128.checked_pow(exponent.unsigned_abs())?)?
    };
    scaled.checked_mul(binary_factor)
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
    fn nano_values_compare_across_suffixes() {
        use super::nano_value as v;
        assert_eq!(v("500m"), Some(500_000_000));
        assert_eq!(v("0.5"), v("500m"));
        assert_eq!(v("4.0"), v("4"));
        assert_eq!(v("1Gi"), Some(1_073_741_824_000_000_000));
        assert_eq!(v("1e3"), v("1k"));
        assert_eq!(v(".5"), v("500m"));
        assert_eq!(v("2."), v("2"));
        assert_eq!(v("1n"), Some(1));
        assert!(v("1G").unwrap() < v("1Gi").unwrap());
        assert_eq!(v("bad"), None);
        assert_eq!(v("1e99"), None);
    }

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
