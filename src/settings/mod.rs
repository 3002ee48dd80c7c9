//! Policy settings: Dapr's injector environment (section 6.1 of the specification) as camelCase
//! keys, with the chart's defaults, validated once so a bad value never crash-loops a PolicyServer.
//!
//! - `table.rs`: one row per setting: field, key, type, default, releases and the README's text;
//! - `types.rs`: the modes, resources and tolerations the rows use;
//! - `parse.rs`: the single way in, for the wasm shell and the command line;
//! - `validate.rs`: every check, with messages that name the setting;
//! - `services.rs`: the control-plane addresses the settings give.

mod parse;
mod services;
mod table;
mod types;
mod validate;

pub use parse::{parse, settings_from_value};
pub use table::{PLACEMENT_SERVICE_NAME, Releases, SETTING_KEYS, SETTINGS, SettingInfo, Settings};
pub use types::{InvalidAnnotations, Mode, SecurityProfile, SidecarResources};
pub use validate::{INJECT_NAMESPACES, PEM_CERTIFICATE};

#[cfg(test)]
mod tests {
    use super::services::Service;
    use super::*;
    use crate::base::dapr::DaprVersion;
    use serde_json::json;

    fn settings(value: serde_json::Value) -> Result<Settings, String> {
        let s: Settings = serde_json::from_value(value).map_err(|e| e.to_string())?;
        s.validate().map(|()| s)
    }

    #[test]
    fn the_key_list_names_exactly_the_fields_serde_reads() {
        let value = serde_json::to_value(Settings::default()).unwrap();
        let mut fields: Vec<&str> = value
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut keys = SETTING_KEYS.to_vec();
        fields.sort_unstable();
        keys.sort_unstable();
        assert_eq!(keys, fields);
    }

    #[test]
    fn an_unknown_setting_gets_the_closest_real_one() {
        let error = |json: serde_json::Value| settings_from_value(json).unwrap_err();
        assert_eq!(
            error(json!({"sidecarimage": "x"})),
            "unknown setting \"sidecarimage\"; did you mean sidecarImage?"
        );
        assert_eq!(
            error(json!({"mtlsEnable": true})),
            "unknown setting \"mtlsEnable\"; did you mean mtlsEnabled?"
        );
        assert_eq!(
            error(json!({"frobnicate": 1})),
            "unknown setting \"frobnicate\"; the settings are listed in the README's Settings section"
        );
        assert_eq!(
            error(json!({"runAsUser": "root"})),
            "runAsUser: invalid type: string \"root\", expected i64"
        );
    }

    #[test]
    fn empty_settings_are_the_chart_defaults() {
        let s = settings(json!({})).unwrap();
        assert_eq!(s, Settings::default());
        assert_eq!(s.sidecar_image, "ghcr.io/dapr/daprd:1.18.3");
        assert_eq!(s.sidecar_image_pull_policy, "IfNotPresent");
        assert_eq!(
            s.sentry_spiffe_id(),
            "spiffe://cluster.local/ns/dapr-system/dapr-sentry"
        );
    }

    #[test]
    fn an_unknown_key_is_an_error_that_names_it() {
        let err = settings(json!({"sidecarImag": "x"})).unwrap_err();
        assert_eq!(
            err,
            "unknown setting \"sidecarImag\"; did you mean sidecarImage?"
        );
    }

    #[test]
    fn a_pull_policy_outside_the_three_is_rejected() {
        assert_eq!(
            settings(json!({"sidecarImagePullPolicy": "Sometimes"})).unwrap_err(),
            "sidecarImagePullPolicy \"Sometimes\" is invalid; use one of Always, Never, IfNotPresent"
        );
    }

    #[test]
    fn an_empty_sidecar_image_is_rejected() {
        assert!(
            settings(json!({"sidecarImage": " "}))
                .unwrap_err()
                .starts_with("sidecarImage must not be empty")
        );
    }

    #[test]
    fn a_control_plane_namespace_must_be_a_namespace_name() {
        let err = settings(json!({"controlPlaneNamespace": "Dapr_System"})).unwrap_err();
        assert!(
            err.starts_with("controlPlaneNamespace \"Dapr_System\" is not a namespace name"),
            "{err}"
        );
    }

    #[test]
    fn the_cluster_and_trust_domains_must_be_dns_names() {
        assert!(settings(json!({"clusterDomain": ""})).is_err());
        assert!(settings(json!({"controlPlaneTrustDomain": "a b"})).is_err());
        assert!(settings(json!({"clusterDomain": "corp.example"})).is_ok());
    }

    #[test]
    fn trust_anchors_must_be_pem_and_are_never_echoed() {
        let err = settings(json!({"trustAnchors": "s3cr3t-key-material"})).unwrap_err();
        assert!(err.starts_with("trustAnchors must be a PEM bundle"));
        assert!(!err.contains("s3cr3t"));
    }

    #[test]
    fn an_actors_service_address_must_be_name_colon_port() {
        let err = settings(json!({"actorsServiceName": "actors", "actorsServiceAddress": "svc"}))
            .unwrap_err();
        assert_eq!(
            err,
            "actorsServiceAddress: \"svc\" is not in the form '<name>:<port>'"
        );
        let err = settings(json!({"actorsServiceAddress": "svc:0"})).unwrap_err();
        assert!(err.starts_with("actorsServiceAddress: \"svc:0\" has an invalid port"));
    }

    #[test]
    fn an_empty_actors_service_name_means_the_built_in_placement() {
        let s =
            settings(json!({"actorsServiceName": "", "actorsServiceAddress": "ignored"})).unwrap();
        assert_eq!(
            s.actors_service().unwrap(),
            (
                "placement".to_owned(),
                Service::new("dapr-placement-server", 50005)
            )
        );
    }

    #[test]
    fn the_reminders_service_named_default_keeps_dapr_quirk() {
        let s = settings(json!({"remindersServiceName": "default"})).unwrap();
        let (name, svc) = s.reminders_service().unwrap().unwrap();
        assert_eq!(
            format!("{name}:{}", svc.address("dapr-system", "cluster.local")),
            "default:.dapr-system.svc.cluster.local:0"
        );
    }

    #[test]
    fn run_as_ids_must_not_be_negative() {
        assert_eq!(
            settings(json!({"runAsUser": -1})).unwrap_err(),
            "runAsUser -1 is invalid; use an id from 0 to 2147483647"
        );
        assert!(settings(json!({"runAsGroup": 1000})).is_ok());
    }

    #[test]
    fn a_malformed_service_account_glob_is_rejected() {
        let err = settings(json!({"allowedServiceAccounts": ["argo:[abc"]})).unwrap_err();
        assert_eq!(
            err,
            "allowedServiceAccounts: invalid service account pattern \"[abc\" in \"argo:[abc\": syntax error in pattern"
        );
        let err = settings(json!({"allowedServiceAccounts": ["no-colon"]})).unwrap_err();
        assert_eq!(
            err,
            "allowedServiceAccounts: invalid pattern \"no-colon\": it must contain exactly one ':' between namespace and service account"
        );
    }

    #[test]
    fn entrypoint_tolerations_compare_like_go_structs() {
        let s = settings(json!({"ignoreEntrypointTolerations": [{"key": "azure.com/aci", "effect": "NoSchedule"}]})).unwrap();
        let t = &s.ignore_entrypoint_tolerations[0];
        assert!(t.equals_pod_toleration(&json!({"key": "azure.com/aci", "effect": "NoSchedule"})));
        assert!(!t.equals_pod_toleration(
            &json!({"key": "azure.com/aci", "effect": "NoSchedule", "operator": "Exists"})
        ));
        assert!(!t.equals_pod_toleration(
            &json!({"key": "azure.com/aci", "effect": "NoSchedule", "tolerationSeconds": 5})
        ));
        assert!(settings(json!({"ignoreEntrypointTolerations": [{"keys": "x"}]})).is_err());
    }

    #[test]
    fn the_component_sockets_folder_must_be_absolute() {
        assert!(
            settings(json!({"componentSocketsFolder": "tmp"}))
                .unwrap_err()
                .contains("must be an absolute path")
        );
    }

    #[test]
    fn opt_in_settings_default_to_dapr_behaviour() {
        let s = settings(json!({})).unwrap();
        assert_eq!(s.invalid_annotations, InvalidAnnotations::Warn);
        assert_eq!(s.security_profile, SecurityProfile::Dapr);
        assert!(
            !s.app_id_from_owner && s.inject_namespaces.is_empty() && s.sidecar_resources.is_none()
        );
        assert!(s.image_allowed("anything/at:all"));
    }

    #[test]
    fn an_unknown_mode_lists_the_known_ones() {
        let err = settings(json!({"invalidAnnotations": "rejct"})).unwrap_err();
        assert!(
            err.contains("unknown variant `rejct`, expected `warn` or `reject`"),
            "{err}"
        );
        let err = settings(json!({"securityProfile": "baseline"})).unwrap_err();
        assert!(err.contains("expected `dapr` or `restricted`"), "{err}");
    }

    #[test]
    fn the_sidecar_image_must_match_allowed_sidecar_images() {
        assert!(settings(json!({"allowedSidecarImages": ["ghcr.io/dapr/daprd:*"]})).is_ok());
        assert_eq!(
            settings(json!({"allowedSidecarImages": ["docker.io/dapr/*"]})).unwrap_err(),
            "sidecarImage \"ghcr.io/dapr/daprd:1.18.3\" does not match allowedSidecarImages; add a matching glob or change the image"
        );
        assert!(
            settings(json!({"allowedSidecarImages": ["ghcr.io/["]}))
                .unwrap_err()
                .starts_with("allowedSidecarImages: \"ghcr.io/[\" is not a valid glob")
        );
    }

    #[test]
    fn sidecar_resources_must_be_quantities_of_cpu_and_memory() {
        let s = settings(json!({"sidecarResources": {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"memory": "256Mi"}}})).unwrap();
        assert_eq!(
            s.sidecar_resources.unwrap().limits.memory.as_deref(),
            Some("256Mi")
        );
        assert_eq!(
            settings(json!({"sidecarResources": {"limits": {"cpu": "lots"}}})).unwrap_err(),
            "sidecarResources.limits.cpu \"lots\" is not a quantity (not a number); use e.g. 100m, 0.5, 128Mi or 1Gi"
        );
        assert_eq!(
            settings(json!({"sidecarResources": {"requests": {"gpu": "1"}}})).unwrap_err(),
            "sidecarResources: requests: unknown field \"gpu\"; expected one of cpu, memory"
        );
        assert_eq!(
            settings(
                json!({"ignoreEntrypointTolerations": [{"key": "k", "tolerationSeconds": "30"}]})
            )
            .unwrap_err(),
            "ignoreEntrypointTolerations: tolerationSeconds: expected an integer, got a string"
        );
    }

    #[test]
    fn the_restricted_profile_refuses_root_settings() {
        assert!(settings(json!({"securityProfile": "restricted", "runAsNonRoot": false})).is_err());
        assert!(settings(json!({"securityProfile": "restricted", "runAsUser": 0})).is_err());
        assert!(settings(json!({"securityProfile": "restricted", "runAsUser": 1000})).is_ok());
    }

    #[test]
    fn inject_namespaces_are_globs() {
        let s = settings(json!({"injectNamespaces": ["team-*", "shop"]})).unwrap();
        assert!(
            s.injects_namespace("team-a")
                && s.injects_namespace("shop")
                && !s.injects_namespace("kube-system")
        );
        assert!(settings(json!({"injectNamespaces": [""]})).is_err());
    }

    #[test]
    fn an_unsupported_dapr_version_lists_the_supported_ones() {
        let err = settings(json!({"daprVersion": "1.15"})).unwrap_err();
        assert!(
            err.contains("unknown variant `1.15`, expected one of `0.11`, `1.16`, `1.17`, `1.18`"),
            "{err}"
        );
        assert_eq!(
            settings(json!({"daprVersion": "1.17"}))
                .unwrap()
                .dapr_version,
            DaprVersion::V1_17
        );
    }

    #[test]
    fn version_specific_settings_are_refused_for_other_versions() {
        assert_eq!(
            settings(json!({"schedulerReplicas": 1})).unwrap_err(),
            "schedulerReplicas: only for daprVersion 1.16, not 1.18; remove it"
        );
        assert!(settings(json!({"daprVersion": "1.16", "schedulerReplicas": 1, "skipReminderMigration": true})).is_ok());
        assert!(
            settings(json!({"daprVersion": "1.17", "nativeSidecar": true}))
                .unwrap_err()
                .starts_with("nativeSidecar needs daprVersion 1.18")
        );
        assert!(
            settings(json!({"certKey": "x"})).unwrap_err().starts_with(
                "certChain, certKey and allowIssuerKeyInPods: only for daprVersion 0.11"
            )
        );
    }

    #[test]
    fn versions_before_1_18_take_exact_names_or_a_trailing_star() {
        assert!(
            settings(json!({"daprVersion": "1.16", "allowedServiceAccounts": ["argo:argo-*"]}))
                .is_ok()
        );
        assert!(
            settings(json!({"daprVersion": "1.17", "allowedServiceAccounts": ["argo:a?go"]}))
                .unwrap_err()
                .contains("not globs")
        );
    }

    #[test]
    fn version_0_11_needs_consent_to_the_issuer_key_in_pods() {
        let err = settings(json!({"daprVersion": "0.11"})).unwrap_err();
        assert!(err.contains("set allowIssuerKeyInPods: true"), "{err}");
        assert!(settings(json!({"daprVersion": "0.11", "allowIssuerKeyInPods": true})).is_ok());
        assert!(settings(json!({"daprVersion": "0.11", "allowIssuerKeyInPods": true, "certKey": "-----BEGIN EC PRIVATE KEY-----"})).unwrap_err().starts_with("certChain and certKey go together"));
    }

    #[test]
    fn every_one_release_row_is_found_when_set_and_named_by_its_group() {
        let all = json!({"schedulerReplicas": 1, "skipReminderMigration": true,
            "certChain": "c", "certKey": "k", "allowIssuerKeyInPods": true});
        let s: Settings = serde_json::from_value(all).unwrap();
        assert_eq!(
            s.set_for_one_release(),
            [
                ("schedulerReplicas", DaprVersion::V1_16),
                ("skipReminderMigration", DaprVersion::V1_16),
                (
                    "certChain, certKey and allowIssuerKeyInPods",
                    DaprVersion::V0_11
                ),
            ]
        );
        let only: Vec<&str> = SETTINGS
            .iter()
            .filter(|row| row.releases != Releases::All)
            .map(|row| row.key)
            .collect();
        assert_eq!(
            only,
            [
                "schedulerReplicas",
                "skipReminderMigration",
                "certChain",
                "certKey",
                "allowIssuerKeyInPods"
            ]
        );
        assert!(Settings::default().set_for_one_release().is_empty());
    }

    #[test]
    fn a_wrongly_typed_setting_names_the_type_expected() {
        let err = settings(json!({"tokenVolume": "yes"})).unwrap_err();
        assert!(err.contains("expected a boolean"), "{err}");
    }
}
