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

/// The quantity as a number, for comparing a request with its limit.
pub fn approximate_value(value: &str) -> Option<f64> {
    validate(value).ok()?;
    let unsigned = value.strip_prefix('+').unwrap_or(value);
    let number_end = unsigned
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(unsigned.len());
    let (number, suffix) = unsigned.split_at(number_end);
    let number: f64 = if number.starts_with('.') {
        format!("0{number}").parse().ok()?
    } else {
        number.trim_end_matches('.').parse().ok()?
    };
    let scale = match suffix {
        "n" => 1e-9,
        "u" => 1e-6,
        "m" => 1e-3,
        "" => 1.0,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "Ki" => 1024.0,
        "Mi" => 1_048_576.0,
        "Gi" => 1_073_741_824.0,
        "Ti" => 1_099_511_627_776.0,
        "Pi" => 1_125_899_906_842_624.0,
        "Ei" => 1_152_921_504_606_846_976.0,
        exponent => 10f64.powi(exponent.get(1..)?.parse::<i32>().ok()?),
    };
    Some(number * scale)
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
    fn approximate_values_compare_across_suffixes() {
        use super::approximate_value as v;
        assert_eq!(v("500m"), Some(0.5));
        assert_eq!(v("1Gi"), Some(1_073_741_824.0));
        assert_eq!(v("1e3"), Some(1000.0));
        assert_eq!(v(".5"), Some(0.5));
        assert_eq!(v("2."), Some(2.0));
        assert!(v("1G").unwrap() < v("1Gi").unwrap());
        assert_eq!(v("bad"), None);
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
