//! Trust anchors for `dapr-inject check`: which current roots a daprd lacks, and which roots
//! expire soon. A root is a PEM certificate block; two are the same when their DER is. Their
//! subjects and expiry dates are read with `x509-parser`; the policy module itself has no room
//! for an X.509 parser within its size budget.

use x509_parser::pem::Pem;
use x509_parser::prelude::X509Certificate;

const SECONDS_PER_DAY: i64 = 86_400;

/// One root of a PEM bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Root {
    /// The certificate, DER.
    der: Vec<u8>,
    /// `O=dapr.io/sentry, CN=cluster.local`; the DER's length when it is not a certificate.
    pub subject: String,
    /// Seconds since the Unix epoch.
    pub not_after: i64,
}

impl Root {
    /// `O=dapr.io/sentry, CN=cluster.local (expires 2036-12-03)`.
    pub fn named(&self) -> String {
        format!("{} (expires {})", self.subject, date(self.not_after))
    }
}

/// The certificates of a PEM bundle, in order; other blocks are skipped.
pub fn roots(pem: &str) -> Result<Vec<Root>, String> {
    let mut roots = Vec::new();
    for block in Pem::iter_from_buffer(pem.as_bytes()) {
        let block = block.map_err(|e| format!("not a PEM bundle: {e}"))?;
        if block.label != "CERTIFICATE" {
            continue;
        }
        let (subject, not_after) = match block.parse_x509() {
            Ok(certificate) => described(&certificate),
            Err(e) => return Err(format!("a certificate of the bundle cannot be read: {e}")),
        };
        roots.push(Root {
            der: block.contents,
            subject,
            not_after,
        });
    }
    Ok(roots)
}

fn described(certificate: &X509Certificate<'_>) -> (String, i64) {
    (
        certificate.subject().to_string(),
        certificate.validity().not_after.timestamp(),
    )
}

/// The current roots a daprd's `DAPR_TRUST_ANCHORS` lacks. A value that is no bundle lacks them all.
pub fn missing<'a>(running: &str, current: &'a [Root]) -> Vec<&'a Root> {
    let running = roots(running).unwrap_or_default();
    current
        .iter()
        .filter(|root| !running.iter().any(|r| r.der == root.der))
        .collect()
}

/// A warning for each root that expires within `days` of `now` (seconds), or has expired.
pub fn expiry_warnings(current: &[Root], now: i64, days: u32) -> Vec<String> {
    let horizon = now.saturating_add(i64::from(days).saturating_mul(SECONDS_PER_DAY));
    current
        .iter()
        .filter(|root| root.not_after <= horizon)
        .map(|root| {
            let left = root.not_after.saturating_sub(now) / SECONDS_PER_DAY;
            if root.not_after <= now {
                format!(
                    "trust anchor {} expired on {}: every daprd that trusts only it fails mTLS; rotate the trust bundle and restart the Dapr workloads",
                    root.subject,
                    date(root.not_after)
                )
            } else {
                format!(
                    "trust anchor {} expires on {}, in {left} days: rotate the trust bundle before then and restart the Dapr workloads",
                    root.subject,
                    date(root.not_after)
                )
            }
        })
        .collect()
}

/// `YYYY-MM-DD` of a Unix time, UTC (Howard Hinnant's days-to-civil).
fn date(seconds: i64) -> String {
    let days = seconds.div_euclid(SECONDS_PER_DAY) + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example() -> String {
        std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../examples/trust-anchors.pem"
        ))
        .unwrap()
    }

    /// 2026-12-06T00:00:00Z.
    const TODAY: i64 = 1_796_515_200;

    #[test]
    fn dates_are_written_as_the_calendar_has_them() {
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(date(TODAY), "2026-12-06");
        assert_eq!(date(951_782_400), "2000-02-29");
        assert_eq!(date(4_107_542_399), "2100-02-28");
    }

    #[test]
    fn the_example_root_is_named_by_subject_and_expiry() {
        let roots = roots(&example()).unwrap();
        assert_eq!(roots.len(), 1);
        assert_eq!(
            roots[0].named(),
            "O=dapr.io/sentry, CN=cluster.local (expires 2036-12-03)"
        );
    }

    #[test]
    fn a_bundle_lacking_a_current_root_is_told_which() {
        let current = roots(&example()).unwrap();
        assert!(missing(&example(), &current).is_empty());
        assert_eq!(missing("", &current), vec![&current[0]]);
        let rotated = format!("{}{}", example(), example());
        assert!(missing(&rotated, &current).is_empty());
    }

    #[test]
    fn roots_are_warned_about_within_the_horizon_and_after_expiry() {
        let current = roots(&example()).unwrap();
        let expiry = current[0].not_after;
        assert!(expiry_warnings(&current, TODAY, 60).is_empty());
        assert_eq!(
            expiry_warnings(&current, expiry - 30 * SECONDS_PER_DAY, 60),
            [
                "trust anchor O=dapr.io/sentry, CN=cluster.local expires on 2036-12-03, in 30 days: rotate the trust bundle before then and restart the Dapr workloads"
            ]
        );
        assert_eq!(
            expiry_warnings(&current, expiry + 1, 60),
            [
                "trust anchor O=dapr.io/sentry, CN=cluster.local expired on 2036-12-03: every daprd that trusts only it fails mTLS; rotate the trust bundle and restart the Dapr workloads"
            ]
        );
    }
}
