//! Kubernetes' name rules (apimachinery `validation`), with the API server's messages.

const DNS1123_LABEL_MAX: usize = 63;
const DNS1123_SUBDOMAIN_MAX: usize = 253;
const DNS1123_LABEL_FMT: &str = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const DNS1123_LABEL_ERR: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";

fn is_label_char(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

fn matches_label_regex(value: &str) -> bool {
    let bytes = value.as_bytes();
    match (bytes.first(), bytes.last()) {
        (Some(&first), Some(&last)) => {
            is_label_char(first)
                && is_label_char(last)
                && bytes.iter().all(|&b| is_label_char(b) || b == b'-')
        }
        _ => false,
    }
}

/// Kubernetes' `IsDNS1123Label`, with its error text.
pub fn dns1123_label(value: &str) -> Result<(), String> {
    let mut errors = Vec::new();
    if value.len() > DNS1123_LABEL_MAX {
        errors.push(format!(
            "must be no more than {DNS1123_LABEL_MAX} characters"
        ));
    }
    if !matches_label_regex(value) {
        errors.push(format!(
            "{DNS1123_LABEL_ERR} (e.g. 'my-name' or '123-abc', regex used for validation is '{DNS1123_LABEL_FMT}')"
        ));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("\n"))
    }
}

/// Kubernetes' `IsDNS1123Subdomain`: dot-separated labels, at most 253 characters.
pub fn dns1123_subdomain(value: &str) -> Result<(), String> {
    if value.len() > DNS1123_SUBDOMAIN_MAX {
        return Err(format!(
            "must be no more than {DNS1123_SUBDOMAIN_MAX} characters"
        ));
    }
    if value.split('.').all(matches_label_regex) {
        Ok(())
    } else {
        Err("must be lower case alphanumeric labels separated by '.', each starting and ending with an alphanumeric character".to_owned())
    }
}

const QUALIFIED_NAME_MAX: usize = 63;
const QUALIFIED_NAME_ERR: &str = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";

/// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`.
fn matches_qualified_name_regex(value: &str) -> bool {
    let bytes = value.as_bytes();
    match (bytes.first(), bytes.last()) {
        (Some(first), Some(last)) => {
            first.is_ascii_alphanumeric()
                && last.is_ascii_alphanumeric()
                && bytes
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        }
        _ => false,
    }
}

/// Kubernetes' `IsQualifiedName`: `[prefix/]name`, the prefix a DNS subdomain, the name at
/// most 63 characters. The API server stores an audit annotation under `<webhook>/<key>`, which
/// must be one.
pub fn qualified_name(value: &str) -> Result<(), String> {
    let parts: Vec<&str> = value.split('/').collect();
    let name = match parts.as_slice() {
        [name] => *name,
        [prefix, name] => {
            if prefix.is_empty() {
                return Err("prefix part must be non-empty".to_owned());
            }
            dns1123_subdomain(prefix).map_err(|e| format!("prefix part {e}"))?;
            *name
        }
        _ => {
            return Err(format!(
                "a qualified name {QUALIFIED_NAME_ERR}, with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
            ));
        }
    };
    if name.is_empty() {
        return Err("name part must be non-empty".to_owned());
    }
    if name.len() > QUALIFIED_NAME_MAX {
        return Err(format!(
            "name part must be no more than {QUALIFIED_NAME_MAX} characters"
        ));
    }
    if !matches_qualified_name_regex(name) {
        return Err(format!("name part {QUALIFIED_NAME_ERR}"));
    }
    Ok(())
}

/// Kubernetes' `IsEnvVarName`: `[-._a-zA-Z][-._a-zA-Z0-9]*`.
pub fn is_env_var_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    matches!(bytes.next(), Some(b) if b.is_ascii_alphabetic() || matches!(b, b'-' | b'.' | b'_'))
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_var_names_follow_kubernetes_rules() {
        assert!(is_env_var_name("DAPR_HTTP_PORT"));
        assert!(is_env_var_name("my.var-1"));
        assert!(!is_env_var_name("1ABC"));
        assert!(!is_env_var_name(""));
        assert!(!is_env_var_name("A B"));
    }

    #[test]
    fn qualified_names_have_at_most_one_slash_after_a_dns_prefix() {
        assert!(qualified_name("app-id").is_ok());
        assert!(qualified_name("clusterwide-dapr.kubewarden.admission/app-id").is_ok());
        assert!(qualified_name("example.com/My_Name.1").is_ok());
        assert!(
            qualified_name("clusterwide-dapr.kubewarden.admission/dapr.io/app-id")
                .unwrap_err()
                .starts_with("a qualified name must consist of")
        );
        assert_eq!(
            qualified_name("/x").unwrap_err(),
            "prefix part must be non-empty"
        );
        assert_eq!(
            qualified_name("a/").unwrap_err(),
            "name part must be non-empty"
        );
        assert!(qualified_name("a/-x").is_err());
        assert!(qualified_name(&"x".repeat(64)).is_err());
    }

    #[test]
    fn subdomains_are_dot_separated_labels() {
        assert!(dns1123_subdomain("cluster.local").is_ok());
        assert!(dns1123_subdomain("cluster..local").is_err());
        assert!(dns1123_subdomain("").is_err());
    }
}
