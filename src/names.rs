//! Kubernetes name rules, and Dapr's app-id validation (`pkg/validation`).

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

/// Dapr's `ValidateKubernetesAppID`: `<id>-dapr` must be a DNS-1123 label.
pub fn validate_app_id(app_id: &str) -> Result<(), String> {
    if app_id.is_empty() {
        return Err("value for the dapr.io/app-id annotation is empty".to_owned());
    }
    let service = format!("{app_id}-dapr");
    dns1123_label(&service)
        .map_err(|e| format!("invalid app id (input: '{app_id}', service: '{service}'): {e}"))
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
    fn an_empty_app_id_gets_dapr_message() {
        assert_eq!(
            validate_app_id("").unwrap_err(),
            "value for the dapr.io/app-id annotation is empty"
        );
    }

    #[test]
    fn an_app_id_with_an_underscore_gets_dapr_message() {
        assert_eq!(
            validate_app_id("my_app").unwrap_err(),
            "invalid app id (input: 'my_app', service: 'my_app-dapr'): a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name' or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
        );
    }

    #[test]
    fn an_app_id_is_at_most_58_characters() {
        assert!(validate_app_id(&"a".repeat(58)).is_ok());
        assert_eq!(
            validate_app_id(&"a".repeat(59)).unwrap_err(),
            format!(
                "invalid app id (input: '{0}', service: '{0}-dapr'): must be no more than 63 characters",
                "a".repeat(59)
            )
        );
    }

    #[test]
    fn uppercase_and_dots_are_not_valid_app_ids() {
        assert!(validate_app_id("MyApp").is_err());
        assert!(validate_app_id("my.app").is_err());
        assert!(validate_app_id("-app").is_err());
        assert!(validate_app_id("123-abc").is_ok());
    }

    #[test]
    fn env_var_names_follow_kubernetes_rules() {
        assert!(is_env_var_name("DAPR_HTTP_PORT"));
        assert!(is_env_var_name("my.var-1"));
        assert!(!is_env_var_name("1ABC"));
        assert!(!is_env_var_name(""));
        assert!(!is_env_var_name("A B"));
    }

    #[test]
    fn subdomains_are_dot_separated_labels() {
        assert!(dns1123_subdomain("cluster.local").is_ok());
        assert!(dns1123_subdomain("cluster..local").is_err());
        assert!(dns1123_subdomain("").is_err());
    }
}
