//! Kubernetes resource quantities: a port of apimachinery's `resource.ParseQuantity`
//! (`pkg/api/resource/quantity.go`), which Dapr calls on each resource annotation. A quantity
//! is checked here but never rewritten: the API server canonicalises it on admission, as it
//! does Dapr's. Hand-written rather than a crate: no crate follows Go's grammar to the letter
//! (a quantity without digits is 0, `1.` is 1, an exponent is read as an int64 then cut to
//! int32), and integer arithmetic keeps float parsing out of the module's size budget.

/// Why Go's `ParseQuantity` refuses a quantity (or, for `Negative`, why the policy does).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuantityError {
    /// `ErrFormatWrong`.
    Format,
    /// `ErrSuffix`.
    Suffix,
    /// `ErrNumeric`.
    Numeric,
    /// Go accepts it; the policy refuses it (a documented difference from Dapr).
    Negative,
}

impl QuantityError {
    /// Short enough for a warning's parenthesis.
    pub fn reason(self) -> &'static str {
        match self {
            QuantityError::Format | QuantityError::Numeric => "not a number",
            QuantityError::Suffix => "bad suffix",
            QuantityError::Negative => "negative",
        }
    }
}

/// A quantity as Go reads it: its sign and its magnitude in billionths of its unit, rounded
/// up as Go rounds (`None`: too large to hold, but valid).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parsed {
    pub negative: bool,
    pub nanos: Option<u128>,
}

/// The pieces `parseQuantityString` cuts a quantity into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Pieces<'a> {
    positive: bool,
    value: &'a str,
    num: &'a str,
    denom: &'a str,
    suffix: &'a str,
}

const NANO_DIGITS: i32 = 9;
/// `maxInt64Factors`: how many decimal digits an int64 holds safely.
const MAX_INT64_FACTORS: i32 = 18;
/// `maxAllowed`: binary quantities are capped at the largest int64.
const MAX_ALLOWED: u128 = i64::MAX as u128;
const SUFFIX_CHARS: &[u8] = b"eEinumkKMGTP";

/// The policy's rule: what Go accepts, but not a negative quantity.
pub fn validate(value: &str) -> Result<(), QuantityError> {
    match parse(value)? {
        // Dapr passes a negative quantity on, and the API server rejects the Pod.
        Parsed { negative: true, .. } => Err(QuantityError::Negative),
        Parsed { .. } => Ok(()),
    }
}

/// The quantity in billionths of its unit (`"500m"` is 500,000,000), for comparing a request
/// with its limit: `None` for a quantity the policy refuses, or one too large to compare.
pub fn nano_value(value: &str) -> Option<u128> {
    parse(value).ok().filter(|p| !p.negative)?.nanos
}

/// `resource.ParseQuantity`: whether Go accepts `s`, and its value.
pub fn parse(s: &str) -> Result<Parsed, QuantityError> {
    if s.is_empty() {
        return Err(QuantityError::Format);
    }
    let pieces = parse_quantity_string(s)?;
    let (base_two, exponent) = interpret(pieces.suffix).ok_or(QuantityError::Suffix)?;
    // Go's slow path reads `value` with inf.Dec, which wants a digit; its fast path never
    // reaches it for the quantities that have none, so only the slow path can refuse.
    if !pieces.value.bytes().any(|b| b.is_ascii_digit()) && !fast_path(&pieces, base_two, exponent)
    {
        return Err(QuantityError::Numeric);
    }
    let nanos = magnitude(pieces.num, pieces.denom, base_two, exponent);
    Ok(Parsed {
        negative: !pieces.positive && nanos != Some(0),
        nanos,
    })
}

/// Whether Go's int64 fast path takes the quantity (then it never parses `value`).
fn fast_path(p: &Pieces<'_>, base_two: bool, exponent: i32) -> bool {
    let digits = i32::try_from(p.num.len().saturating_add(p.denom.len())).unwrap_or(i32::MAX);
    let (precision, scale) = if base_two {
        let fast = exponent >= 0 && p.denom.is_empty();
        // Go: 15 - len(num) - int32(float32(exponent)*3/10) - 1; exponent is at most 60 here.
        let precision = if fast {
            14i32
                .saturating_sub(i32::try_from(p.num.len()).unwrap_or(i32::MAX))
                .saturating_sub(exponent.saturating_mul(3) / 10)
        } else {
            -1
        };
        (precision, 0i32)
    } else {
        (MAX_INT64_FACTORS.saturating_sub(digits), exponent)
    };
    precision >= 0 && scale.wrapping_sub(i32::try_from(p.denom.len()).unwrap_or(0)) >= -NANO_DIGITS
}

/// `parseQuantityString`, byte for byte.
fn parse_quantity_string(s: &str) -> Result<Pieces<'_>, QuantityError> {
    let b = s.as_bytes();
    let end = b.len();
    let mut positive = true;
    let mut pos = 0;
    match b.first() {
        Some(b'-') => {
            positive = false;
            pos = 1;
        }
        Some(b'+') => pos = 1,
        _ => {}
    }
    let piece = |from: usize, to: usize| s.get(from..to).unwrap_or_default();
    let done = |num, value, denom, suffix| {
        Ok(Pieces {
            positive,
            value,
            num,
            denom,
            suffix,
        })
    };
    // Leading zeros.
    while b.get(pos) == Some(&b'0') {
        pos = pos.saturating_add(1);
    }
    if pos >= end {
        return done("0", "0", "", "");
    }
    let num_start = pos;
    while b.get(pos).is_some_and(u8::is_ascii_digit) {
        pos = pos.saturating_add(1);
    }
    if pos >= end {
        return done(piece(num_start, end), piece(0, end), "", "");
    }
    // If all numerator positions were stripped, the numerator is 0.
    let num = match piece(num_start, pos) {
        "" => "0",
        digits => digits,
    };
    let mut denom = "";
    if b.get(pos) == Some(&b'.') {
        pos = pos.saturating_add(1);
        let denom_start = pos;
        while b.get(pos).is_some_and(u8::is_ascii_digit) {
            pos = pos.saturating_add(1);
        }
        denom = piece(denom_start, pos);
        if pos >= end {
            return done(num, piece(0, end), denom, "");
        }
    }
    let value = piece(0, pos);
    let suffix_start = pos;
    while b.get(pos).is_some_and(|c| SUFFIX_CHARS.contains(c)) {
        pos = pos.saturating_add(1);
    }
    if matches!(b.get(pos), Some(b'-' | b'+')) {
        pos = pos.saturating_add(1);
    }
    while b.get(pos).is_some_and(u8::is_ascii_digit) {
        pos = pos.saturating_add(1);
    }
    if pos < end {
        return Err(QuantityError::Format);
    }
    done(num, value, denom, piece(suffix_start, end))
}

/// `suffixHandler.interpret`: (base two?, exponent), or `None` for `ErrSuffix`.
fn interpret(suffix: &str) -> Option<(bool, i32)> {
    Some(match suffix {
        "n" => (false, -9),
        "u" => (false, -6),
        "m" => (false, -3),
        "" => (false, 0),
        "k" => (false, 3),
        "M" => (false, 6),
        "G" => (false, 9),
        "T" => (false, 12),
        "P" => (false, 15),
        "E" => (false, 18),
        "Ki" => (true, 10),
        "Mi" => (true, 20),
        "Gi" => (true, 30),
        "Ti" => (true, 40),
        "Pi" => (true, 50),
        "Ei" => (true, 60),
        exponent => {
            let rest = exponent
                .strip_prefix(['e', 'E'])
                .filter(|r| !r.is_empty())?;
            // strconv.ParseInt(rest, 10, 64), then Go's int32(...) conversion, which wraps.
            let parsed: i64 = rest.parse().ok()?;
            #[allow(clippy::cast_possible_truncation)]
            (false, parsed as i32)
        }
    })
}

/// |num.denom| × base^exponent in billionths, rounded up; binary quantities capped at the
/// largest int64, as Go caps them.
fn magnitude(num: &str, denom: &str, base_two: bool, exponent: i32) -> Option<u128> {
    let digits = format!("{num}{denom}");
    let significant = digits.trim_start_matches('0');
    if significant.is_empty() {
        return Some(0);
    }
    let d: u128 = significant.parse().ok()?;
    let denom_len = i32::try_from(denom.len()).ok()?;
    if base_two {
        let cap = MAX_ALLOWED.checked_mul(10u128.pow(9))?;
        let scaled = d
            .checked_mul(1u128.checked_shl(exponent.unsigned_abs())?)
            .and_then(|v| v.checked_mul(10u128.pow(9)));
        // Overflowing u128 means far above the cap.
        let Some(scaled) = scaled else {
            return Some(cap);
        };
        return Some(ceil_div(scaled, 10u128.checked_pow(denom.len().try_into().ok()?)?).min(cap));
    }
    // Go computes the scale in int32, wrapping.
    let nano_exponent = exponent.wrapping_sub(denom_len).checked_add(NANO_DIGITS)?;
    if nano_exponent >= 0 {
        d.checked_mul(10u128.checked_pow(nano_exponent.unsigned_abs())?)
    } else {
        Some(match 10u128.checked_pow(nano_exponent.unsigned_abs()) {
            Some(divisor) => ceil_div(d, divisor),
            // Smaller than a billionth, and not zero: Go rounds it up to 1n.
            None => 1,
        })
    }
}

/// `a / b` rounded up; `b` is a power of ten, never 0.
fn ceil_div(a: u128, b: u128) -> u128 {
    let quotient = a.checked_div(b).unwrap_or(0);
    quotient.saturating_add(u128::from(!a.is_multiple_of(b)))
}

#[cfg(test)]
mod tests {
    // apimachinery's own test vectors for `ParseQuantity` (`pkg/api/resource/quantity_test.go`,
    // `TestQuantityParse` and `TestParseQuantityString`), each value written in billionths. Go
    // checks every accepted string also with a `-` and a `+` in front; so do these tests.

    use super::*;

    /// `TestQuantityParse`'s table: the input and its value in billionths.
    const ACCEPTED: &[(&str, u128)] = &[
        ("0", 0),
        ("0n", 0),
        ("0u", 0),
        ("0m", 0),
        ("0Ki", 0),
        ("0k", 0),
        ("0Mi", 0),
        ("0M", 0),
        ("0Gi", 0),
        ("0G", 0),
        ("0Ti", 0),
        ("0T", 0),
        ("1", 1000000000),
        ("1Ki", 1024000000000),
        ("8Ki", 8192000000000),
        ("7Mi", 7340032000000000),
        ("6Gi", 6442450944000000000),
        ("5Ti", 5497558138880000000000),
        ("4Pi", 4503599627370496000000000),
        ("3Ei", 3458764513820540928000000000),
        ("10Ti", 10995116277760000000000),
        ("100Ti", 109951162777600000000000),
        ("5n", 5),
        ("4u", 4000),
        ("3m", 3000000),
        ("9", 9000000000),
        ("8k", 8000000000000),
        ("50k", 50000000000000),
        ("7M", 7000000000000000),
        ("6G", 6000000000000000000),
        ("5T", 5000000000000000000000),
        ("40T", 40000000000000000000000),
        ("300T", 300000000000000000000000),
        ("2P", 2000000000000000000000000),
        ("1E", 1000000000000000000000000000),
        ("1E-3", 1000000),
        ("1e3", 1000000000000),
        ("1E6", 1000000000000000),
        ("1e9", 1000000000000000000),
        ("1E12", 1000000000000000000000),
        ("1e15", 1000000000000000000000000),
        ("1E18", 1000000000000000000000000000),
        ("1e14", 100000000000000000000000),
        ("1e13", 10000000000000000000000),
        ("1e3", 1000000000000),
        ("100.035k", 100035000000000),
        ("0.001", 1000000),
        ("0.0005k", 500000000),
        ("0.005", 5000000),
        ("0.05", 50000000),
        ("0.5", 500000000),
        ("0.00050k", 500000000),
        ("0.00500", 5000000),
        ("0.05000", 50000000),
        ("0.50000", 500000000),
        ("0.5e0", 500000000),
        ("0.5e-1", 50000000),
        ("0.5e-2", 5000000),
        ("0.5e0", 500000000),
        ("10.035M", 10035000000000000),
        ("1.2e3", 1200000000000),
        ("1.3E+6", 1300000000000000),
        ("1.40e9", 1400000000000000000),
        ("1.53E12", 1530000000000000000000),
        ("1.6e15", 1600000000000000000000000),
        ("1.7E18", 1700000000000000000000000000),
        ("9.01", 9010000000),
        ("8.1k", 8100000000000),
        ("7.123456M", 7123456000000000),
        ("6.987654321G", 6987654321000000000),
        ("5.444T", 5444000000000000000000),
        ("40.1T", 40100000000000000000000),
        ("300.2T", 300200000000000000000000),
        ("2.5P", 2500000000000000000000000),
        ("1.01E", 1010000000000000000000000000),
        ("3.001n", 4),
        ("1.1E-9", 2),
        ("0.0000000001", 1),
        ("0.0000000005", 1),
        ("0.00000000050", 1),
        ("0.5e-9", 1),
        ("0.9n", 1),
        ("0.00000012345", 124),
        ("0.00000012354", 124),
        ("9Ei", 9223372036854775807000000000),
        ("9223372036854775807Ki", 9223372036854775807000000000),
        ("12E", 12000000000000000000000000000),
        ("100.035Ki", 102435840000000),
        ("0.5Mi", 524288000000000),
        ("0.05Gi", 53687091200000000),
        ("0.025Ti", 27487790694400000000),
        ("0.000000000001Ki", 2),
        (".001", 1000000),
        (".0001k", 100000000),
        ("1.", 1000000000),
        ("1.G", 1000000000000000000),
    ];

    /// `TestQuantityParse`'s invalid strings, and the empty string.
    const REFUSED: &[&str] = &[
        "1.1.M", "1+1.0M", "0.1mi", "0.1am", "aoeu", ".5i", "1i", "-3.01i", "-3.01e-", " 1", "1 ",
        "",
    ];

    /// `TestParseQuantityString`: (input, positive, value, num, denom, suffix).
    const PIECES: &[(&str, bool, &str, &str, &str, &str)] = &[
        ("0.025Ti", true, "0.025", "0", "025", "Ti"),
        ("1.025Ti", true, "1.025", "1", "025", "Ti"),
        ("-1.025Ti", false, "-1.025", "1", "025", "Ti"),
        (".", true, ".", "0", "", ""),
        ("-.", false, "-.", "0", "", ""),
        ("1E-3", true, "1", "1", "", "E-3"),
    ];

    #[test]
    fn every_quantity_go_accepts_has_go_s_value_with_either_sign() {
        for &(input, nanos) in ACCEPTED {
            let expected = Parsed {
                negative: false,
                nanos: Some(nanos),
            };
            assert_eq!(parse(input), Ok(expected), "{input}");
            assert_eq!(parse(&format!("+{input}")), Ok(expected), "+{input}");
            let negative = Parsed {
                negative: nanos != 0,
                nanos: Some(nanos),
            };
            assert_eq!(parse(&format!("-{input}")), Ok(negative), "-{input}");
        }
    }

    #[test]
    fn every_string_go_refuses_is_refused() {
        for &input in REFUSED {
            assert!(parse(input).is_err(), "{input:?} was accepted");
        }
    }

    #[test]
    fn the_pieces_are_cut_as_go_cuts_them() {
        for &(input, positive, value, num, denom, suffix) in PIECES {
            let expected = Pieces {
                positive,
                value,
                num,
                denom,
                suffix,
            };
            assert_eq!(parse_quantity_string(input), Ok(expected), "{input}");
        }
    }

    /// Written from the Go source where Go's tests are silent.
    #[test]
    fn quantities_without_digits_are_zero_as_in_go() {
        // "if we stripped all numerator positions, always return 0"
        for input in ["Gi", "Mi", "m", ".", "-.", "k", ".Gi", "E"] {
            assert_eq!(
                parse(input),
                Ok(Parsed {
                    negative: false,
                    nanos: Some(0)
                }),
                "{input}"
            );
            assert_eq!(validate(input), Ok(()), "{input}");
        }
        // The slow path's inf.Dec needs a digit: ".e-10" has none and a scale below nano.
        assert_eq!(parse(".e-10"), Err(QuantityError::Numeric));
    }

    #[test]
    fn an_exponent_is_read_as_int64_and_cut_to_int32() {
        // ParseInt("4294967296") = 2^32, and int32(2^32) is 0: Go reads 1e4294967296 as 1.
        assert_eq!(
            parse("1e4294967296").map(|p| p.nanos),
            Ok(Some(1_000_000_000))
        );
        assert_eq!(parse("1e9223372036854775808"), Err(QuantityError::Suffix));
        assert_eq!(parse("1e+"), Err(QuantityError::Suffix));
        assert_eq!(parse("1Ki3"), Err(QuantityError::Suffix));
        // Valid, but too large to compare.
        assert_eq!(parse("1e99").map(|p| p.nanos), Ok(None));
    }

    /// The policy's own rule over Go's: a negative quantity is refused (the API server would
    /// refuse the Pod Dapr builds from it).
    #[test]
    fn negative_quantities_are_refused_but_negative_zero_is_zero() {
        assert_eq!(validate("-1"), Err(QuantityError::Negative));
        assert_eq!(validate("-0.5Gi"), Err(QuantityError::Negative));
        assert_eq!(validate("-0"), Ok(()));
        assert_eq!(validate("-Gi"), Ok(()));
    }

    #[test]
    fn nano_values_compare_across_suffixes() {
        let v = nano_value;
        assert_eq!(v("500m"), Some(500_000_000));
        assert_eq!(v("0.5"), v("500m"));
        assert_eq!(v("4.0"), v("4"));
        assert_eq!(v("1Gi"), Some(1_073_741_824_000_000_000));
        assert_eq!(v("1e3"), v("1k"));
        assert_eq!(v("Gi"), Some(0));
        assert!(v("1G").unwrap() < v("1Gi").unwrap());
        assert_eq!(v("bad"), None);
        assert_eq!(v("-1"), None);
        assert_eq!(v("1e99"), None);
    }

    #[test]
    fn refusals_say_why_in_a_word() {
        assert_eq!(validate("abc").unwrap_err().reason(), "not a number");
        assert_eq!(validate("1.2.3").unwrap_err().reason(), "not a number");
        assert_eq!(validate("1mi").unwrap_err().reason(), "bad suffix");
        assert_eq!(validate("1 Gi").unwrap_err().reason(), "not a number");
        assert_eq!(validate("1KiB").unwrap_err().reason(), "not a number");
        assert_eq!(validate("-1").unwrap_err().reason(), "negative");
    }
}
