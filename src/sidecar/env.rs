//! Env vars: daprd's own (`getSidecarContainer`), those of the app containers, and the
//! `dapr.io/env` and `dapr.io/env-from-secret` annotations (Dapr's `parseEnvVars`).
//!
//! Dapr splits those annotations with the regex `(,)\s*[a-zA-Z_][a-zA-Z0-9_]*=`: a comma
//! separates entries only when an identifier and `=` follow it. The scanner below is that
//! regex by hand: the `regex` crate would cost more of the wasm size budget than the policy.

use k8s_openapi::api::core::v1::EnvVar;

use super::inputs::SidecarInputs;
use crate::annotations::{DaprAnnotations, keys};
use crate::base::dapr::{SIDECAR_HTTP_PORT, env};
use crate::base::k8s::names::is_env_var_name;
use crate::base::k8s::objects::{field_ref_env, plain_env, secret_env};
use crate::base::problem::{Problem, quote};
use crate::plan::Item;
use crate::profiles::{self, Scheduler};

/// daprd's env: the control plane, then the annotations' vars with `DAPR_ENV_KEYS`, then the
/// component socket folder and the API tokens.
pub fn daprd_env(inputs: &SidecarInputs<'_>, problems: &mut Vec<Problem>) -> Vec<EnvVar> {
    let annotations = inputs.annotations;
    let settings = inputs.settings;
    let mut vars = vec![
        plain_env(env::NAMESPACE, inputs.namespace),
        plain_env(env::TRUST_ANCHORS, inputs.trust_anchors),
        field_ref_env(env::POD_NAME, "metadata.name"),
        plain_env(
            env::CONTROL_PLANE_NAMESPACE,
            &settings.control_plane_namespace,
        ),
        plain_env(
            env::CONTROL_PLANE_TRUST_DOMAIN,
            &settings.control_plane_trust_domain,
        ),
    ];
    if settings.enable_k8s_downward_apis {
        vars.push(field_ref_env(env::HOST_IP, "status.podIP"));
    }
    if let Scheduler::Env { address, dns_a } = &inputs.scheduler {
        vars.push(plain_env(env::SCHEDULER_HOST_ADDRESS, address));
        vars.push(plain_env(env::SCHEDULER_HOST_ADDRESS_DNS_A, dns_a));
    }
    if profiles::skip_reminder_migration(settings.dapr_version, settings.skip_reminder_migration) {
        vars.push(plain_env(env::SKIP_REMINDER_MIGRATION, "true"));
    }
    let ParsedEnv {
        keys: mut env_keys,
        vars: plain,
    } = parse(&annotations.env, false, keys::env, problems);
    vars.extend(plain);
    let ParsedEnv {
        keys: secret_keys,
        vars: secret,
    } = parse(
        &annotations.env_from_secret,
        true,
        keys::env_from_secret,
        problems,
    );
    vars.extend(secret);
    env_keys.extend(secret_keys);
    if !env_keys.is_empty() {
        vars.push(plain_env(env::ENV_KEYS, &env_keys.join(" ")));
    }
    vars
}

/// What daprd's env gets after the securityContext is decided: the components' socket folder
/// and the token Secrets.
pub fn daprd_env_tail(inputs: &SidecarInputs<'_>, vars: &mut Vec<EnvVar>) {
    let annotations = inputs.annotations;
    if let Some(mount) = &inputs.components_socket_mount {
        vars.push(plain_env(env::COMPONENT_SOCKETS_FOLDER, &mount.mount_path));
    }
    if !annotations.api_token_secret.is_empty() {
        vars.push(secret_env(
            env::API_TOKEN,
            &annotations.api_token_secret,
            env::TOKEN_SECRET_KEY,
        ));
    }
    if !annotations.app_token_secret.is_empty() {
        vars.push(secret_env(
            env::APP_API_TOKEN,
            &annotations.app_token_secret,
            env::TOKEN_SECRET_KEY,
        ));
    }
}

/// The env of each app container: daprd's ports, and `APP_PROTOCOL` when Dapr knows it.
pub fn app_env(annotations: &DaprAnnotations, problems: &mut Vec<Problem>) -> Vec<Item> {
    let mut vars = vec![
        plain_env(env::APP_HTTP_PORT, &SIDECAR_HTTP_PORT.to_string()),
        plain_env(env::APP_GRPC_PORT, &annotations.grpc_port.to_string()),
    ];
    let protocol = app_protocol_env_value(annotations);
    if protocol.is_empty() {
        problems.push(Problem::invalid(
            keys::app_protocol,
            format!(
                "{} is unknown (http, https, grpc, grpcs, h2c); APP_PROTOCOL not set",
                quote(&annotations.app_protocol)
            ),
        ));
    } else {
        vars.push(plain_env(env::APP_PROTOCOL, protocol));
    }
    vars.iter().map(Item::env).collect()
}

/// `APP_PROTOCOL` for app containers: Dapr's `GetAppProtocol` (empty: not added).
pub fn app_protocol_env_value(annotations: &DaprAnnotations) -> &'static str {
    app_protocol_value(&annotations.app_protocol, annotations.app_ssl)
}

/// `APP_PROTOCOL` for a `dapr.io/app-protocol` value and `dapr.io/app-ssl`; empty for a
/// protocol Dapr does not know.
pub fn app_protocol_value(protocol: &str, ssl: bool) -> &'static str {
    match protocol.to_ascii_lowercase().as_str() {
        "grpcs" => "grpcs",
        "https" => "https",
        "h2c" => "h2c",
        "http" | "" => {
            if ssl && !protocol.is_empty() {
                "https"
            } else {
                "http"
            }
        }
        "grpc" => {
            if ssl {
                "grpcs"
            } else {
                "grpc"
            }
        }
        _ => "",
    }
}

#[derive(Debug, Default, Clone, PartialEq)]
pub struct ParsedEnv {
    /// Every key, for `DAPR_ENV_KEYS`.
    pub keys: Vec<String>,
    pub vars: Vec<EnvVar>,
}

/// Go's `unicode.IsSpace` for ASCII, as RE2's `\s` matches.
fn is_regex_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\x0c' | b'\r')
}

/// True when what follows a comma is `\s*[a-zA-Z_][a-zA-Z0-9_]*=`.
fn splits_at(after_comma: &[u8]) -> bool {
    let mut rest = after_comma.iter().skip_while(|&&b| is_regex_space(b));
    if !rest
        .next()
        .is_some_and(|&b| b.is_ascii_alphabetic() || b == b'_')
    {
        return false;
    }
    rest.find(|&&b| !(b.is_ascii_alphanumeric() || b == b'_')) == Some(&b'=')
}

/// The entries of the annotation, as Dapr cuts them.
pub fn split_entries(value: &str) -> Vec<&str> {
    let bytes = value.as_bytes();
    let mut entries = Vec::new();
    let mut start = 0;
    for (inputs, &b) in bytes.iter().enumerate() {
        let after = bytes
            .get(inputs..)
            .unwrap_or_default()
            .get(1..)
            .unwrap_or_default();
        if b == b',' && splits_at(after) {
            entries.push(value.get(start..inputs).unwrap_or_default());
            start = inputs.saturating_add(1);
        }
    }
    entries.push(value.get(start..).unwrap_or_default());
    entries
}

/// Dapr's `createSecretSource`: `name:key`, or `name` for both.
fn secret_ref(value: &str) -> Option<(String, String)> {
    let clean = value.trim();
    if clean.contains(':') {
        let parts: Vec<&str> = clean.split(':').collect();
        match parts.as_slice() {
            [name, key] => Some((name.trim().to_owned(), key.trim().to_owned())),
            _ => None,
        }
    } else {
        Some((clean.to_owned(), clean.to_owned()))
    }
}

pub fn parse(
    value: &str,
    from_secret: bool,
    key: &'static str,
    problems: &mut Vec<Problem>,
) -> ParsedEnv {
    let mut parsed = ParsedEnv::default();
    if value.is_empty() {
        return parsed;
    }
    for entry in split_entries(value) {
        let entry = entry.trim();
        let Some((name, v)) = entry.split_once('=') else {
            problems.push(Problem::invalid(
                key,
                format!(
                    "entry {} has no '='; dropped (use NAME=value)",
                    quote(entry)
                ),
            ));
            continue;
        };
        if !is_env_var_name(name) {
            problems.push(Problem::invalid(
                key,
                format!("{} is not a valid env var name; dropped", quote(name)),
            ));
            continue;
        }
        parsed.keys.push(name.to_owned());
        if from_secret {
            match secret_ref(v) {
                Some((secret, secret_key)) => {
                    parsed.vars.push(secret_env(name, &secret, &secret_key))
                }
                None => problems.push(Problem::invalid(
                    key,
                    format!(
                        "{}: {} is not secret or secret:key; skipped",
                        quote(name),
                        quote(v)
                    ),
                )),
            }
        } else {
            parsed.vars.push(plain_env(name, v));
        }
    }
    parsed
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn env(value: &str, from_secret: bool) -> (Vec<String>, Value, Vec<String>) {
        let mut problems = Vec::new();
        let parsed = parse(value, from_secret, "dapr.io/env", &mut problems);
        (
            parsed.keys,
            serde_json::to_value(parsed.vars).unwrap(),
            problems.iter().map(Problem::to_warning).collect(),
        )
    }

    /// Dapr's `TestParseEnvString` vectors (v1.18.3), keys and values in order.
    #[test]
    fn dapr_parse_env_string_vectors_hold() {
        let cases: &[(&str, &[(&str, &str)])] = &[
            ("", &[]),
            (
                "ENV1=value1 , ENV2=value2 , ENV3=value3",
                &[("ENV1", "value1"), ("ENV2", "value2"), ("ENV3", "value3")],
            ),
            (
                "HTTP_PROXY=http://myproxy.com, NO_PROXY=\"localhost,127.0.0.1,.amazonaws.com\"",
                &[
                    ("HTTP_PROXY", "http://myproxy.com"),
                    ("NO_PROXY", "\"localhost,127.0.0.1,.amazonaws.com\""),
                ],
            ),
            (
                "OTEL_SERVICE_NAME=todo-service-daprd,OTEL_RESOURCE_ATTRIBUTES=service.namespace=testing-fix",
                &[
                    ("OTEL_SERVICE_NAME", "todo-service-daprd"),
                    ("OTEL_RESOURCE_ATTRIBUTES", "service.namespace=testing-fix"),
                ],
            ),
            (
                "ENV_BEFORE=value1,OTEL_RESOURCE_ATTRIBUTES=service.namespace=prod,service.version=1.0.0,ENV_AFTER=value2",
                &[
                    ("ENV_BEFORE", "value1"),
                    (
                        "OTEL_RESOURCE_ATTRIBUTES",
                        "service.namespace=prod,service.version=1.0.0",
                    ),
                    ("ENV_AFTER", "value2"),
                ],
            ),
            (
                "OTEL_SERVICE_NAME=my-sidecar,OTEL_RESOURCE_ATTRIBUTES=service.namespace=prod,k8s.pod.name=my-pod,k8s.deployment.name=my-app,DEBUG=true,LOG_LEVEL=info",
                &[
                    ("OTEL_SERVICE_NAME", "my-sidecar"),
                    (
                        "OTEL_RESOURCE_ATTRIBUTES",
                        "service.namespace=prod,k8s.pod.name=my-pod,k8s.deployment.name=my-app",
                    ),
                    ("DEBUG", "true"),
                    ("LOG_LEVEL", "info"),
                ],
            ),
            (
                "APP_NAME=test-app , OTEL_RESOURCE_ATTRIBUTES=service.namespace=staging,deployment.environment.name=test,service.instance.id=abc-123 , DB_CONNECTION=host=localhost;port=5432;user=admin , ENABLE_METRICS=true",
                &[
                    ("APP_NAME", "test-app"),
                    (
                        "OTEL_RESOURCE_ATTRIBUTES",
                        "service.namespace=staging,deployment.environment.name=test,service.instance.id=abc-123",
                    ),
                    ("DB_CONNECTION", "host=localhost;port=5432;user=admin"),
                    ("ENABLE_METRICS", "true"),
                ],
            ),
            (
                "KEY1=value=with=equals,KEY2=normal,KEY3=another=complex=value",
                &[
                    ("KEY1", "value=with=equals"),
                    ("KEY2", "normal"),
                    ("KEY3", "another=complex=value"),
                ],
            ),
            (
                "OTEL_SERVICE_NAME=my-service,OTEL_RESOURCE_ATTRIBUTES=service.name=my-service,service.version=1.0.0,deployment.environment=production,k8s.pod.name=my-pod-123",
                &[
                    ("OTEL_SERVICE_NAME", "my-service"),
                    (
                        "OTEL_RESOURCE_ATTRIBUTES",
                        "service.name=my-service,service.version=1.0.0,deployment.environment=production,k8s.pod.name=my-pod-123",
                    ),
                ],
            ),
        ];
        for (input, expected) in cases {
            let (keys, vars, warnings) = env(input, false);
            let want_keys: Vec<&str> = expected.iter().map(|(k, _)| *k).collect();
            let want_vars: Vec<Value> = expected
                .iter()
                .map(|(k, v)| json!({"name": k, "value": v}))
                .collect();
            assert_eq!(keys, want_keys, "{input}");
            assert_eq!(vars, Value::Array(want_vars), "{input}");
            assert!(warnings.is_empty(), "{input}: {warnings:?}");
        }
    }

    #[test]
    fn a_comma_followed_by_spaces_and_an_identifier_splits() {
        assert_eq!(split_entries("A=1,\t B=2,3=4"), vec!["A=1", "\t B=2,3=4"]);
        assert_eq!(split_entries("A=1,,B=2"), vec!["A=1,", "B=2"]);
        assert_eq!(split_entries("A=a=b,c=d"), vec!["A=a=b", "c=d"]);
    }

    #[test]
    fn a_value_keeps_its_leading_spaces() {
        let (_, vars, _) = env("A= b", false);
        assert_eq!(vars, json!([{"name": "A", "value": " b"}]));
    }

    #[test]
    fn an_entry_without_equals_is_dropped_with_a_warning() {
        let (keys, vars, _) = env("A=1,B", false);
        assert_eq!(keys, vec!["A"]);
        assert_eq!(
            vars,
            json!([{"name": "A", "value": "1,B"}]),
            "B does not start an entry"
        );
        let (keys, _, warnings) = env("garbage", false);
        assert!(keys.is_empty());
        assert_eq!(
            warnings,
            vec!["dapr.io/env: entry \"garbage\" has no '='; dropped (use NAME=value)"]
        );
    }

    #[test]
    fn an_empty_value_gives_an_env_var_without_value() {
        let (_, vars, _) = env("A=", false);
        assert_eq!(vars, json!([{"name": "A"}]));
    }

    #[test]
    fn secrets_take_name_or_name_colon_key() {
        let (keys, vars, _) = env("A=secret1, B= s2 : k2 ", true);
        assert_eq!(keys, vec!["A", "B"]);
        assert_eq!(
            vars,
            json!([
                {"name": "A", "valueFrom": {"secretKeyRef": {"name": "secret1", "key": "secret1"}}},
                {"name": "B", "valueFrom": {"secretKeyRef": {"name": "s2", "key": "k2"}}}
            ])
        );
    }

    #[test]
    fn a_secret_with_two_colons_adds_no_var_but_keeps_its_key() {
        let (keys, vars, warnings) = env("A=s:k:x", true);
        assert_eq!(keys, vec!["A"]);
        assert_eq!(vars, json!([]));
        assert_eq!(
            warnings,
            vec!["dapr.io/env: \"A\": \"s:k:x\" is not secret or secret:key; skipped"]
        );
    }

    #[test]
    fn an_invalid_first_name_is_dropped_so_the_pod_stays_valid() {
        let (keys, _, warnings) = env("1A=x,B=2", false);
        assert_eq!(keys, vec!["B"]);
        assert_eq!(
            warnings,
            vec!["dapr.io/env: \"1A\" is not a valid env var name; dropped"]
        );
    }
}
