//! metadata.yml, artifacthub-pkg.yml, the examples and the code must tell the same story.

use std::fs;

use dapr_sidecar_injector as cluster;
use serde_yaml::Value;

/// The repository root: cargo runs tests there.
fn root() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn yaml(path: &str) -> Value {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn yaml_docs(path: &str) -> Vec<Value> {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_yaml::Deserializer::from_str(&text)
        .map(|d| serde::Deserialize::deserialize(d).unwrap())
        .filter(|v: &Value| !v.is_null())
        .collect()
}

/// Every ClusterAdmissionPolicy the examples ship, with its file.
fn example_policies() -> Vec<(&'static str, Value)> {
    [
        "examples/cluster-admission-policy.yaml",
        "examples/verify-policy.yaml",
        "examples/namespace-injection.yaml",
    ]
    .into_iter()
    .flat_map(|example| {
        yaml_docs(example)
            .into_iter()
            .filter(|d| d["kind"].as_str() == Some("ClusterAdmissionPolicy"))
            .map(move |policy| (example, policy))
    })
    .collect()
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    let mut cur = v;
    for key in path {
        cur = &cur[*key];
    }
    cur.as_str()
        .unwrap_or_else(|| panic!("{path:?} is not a string"))
}

/// The (apiVersion, kind) pairs the policy reads through host capabilities.
fn resources_read_by_the_code() -> Vec<(String, String)> {
    vec![
        (
            cluster::DAPR_API_VERSION.to_owned(),
            cluster::CONFIGURATION_KIND.to_owned(),
        ),
        (
            cluster::CONFIG_MAP_API_VERSION.to_owned(),
            cluster::CONFIG_MAP_KIND.to_owned(),
        ),
        (
            cluster::DAPR_API_VERSION.to_owned(),
            cluster::COMPONENT_KIND.to_owned(),
        ),
        (
            cluster::NAMESPACE_API_VERSION.to_owned(),
            cluster::NAMESPACE_KIND.to_owned(),
        ),
        (
            cluster::SECRET_API_VERSION.to_owned(),
            cluster::SECRET_KIND.to_owned(),
        ),
    ]
}

/// Read only under an opt-in (`daprVersion: "0.11"`, `namespaceDefaults`): the examples,
/// whose settings leave them off, do not grant them.
fn only_for_an_opt_in(resource: &(String, String)) -> bool {
    [cluster::SECRET_KIND, cluster::NAMESPACE_KIND].contains(&resource.1.as_str())
}

fn pairs(list: &Value) -> Vec<(String, String)> {
    list.as_sequence()
        .expect("a list of resources")
        .iter()
        .map(|r| {
            (
                str_at(r, &["apiVersion"]).to_owned(),
                str_at(r, &["kind"]).to_owned(),
            )
        })
        .collect()
}

#[test]
fn metadata_declares_exactly_the_resources_the_code_reads() {
    let metadata = yaml("metadata.yml");
    assert_eq!(
        pairs(&metadata["contextAwareResources"]),
        resources_read_by_the_code()
    );
    assert_eq!(metadata["mutating"], Value::Bool(true));
    assert_eq!(metadata["backgroundAudit"], Value::Bool(false));
    assert_eq!(rule_grants(&metadata["rules"]), grants_the_code_handles());
}

/// `(resource, operation)` for every resource and operation the rules send to the policy.
fn rule_grants(rules: &Value) -> Vec<(String, String)> {
    let strings = |v: &Value| -> Vec<String> {
        v.as_sequence()
            .expect("a rule field is a list")
            .iter()
            .map(|s| s.as_str().expect("a rule entry is a string").to_owned())
            .collect()
    };
    let mut grants: Vec<(String, String)> = rules
        .as_sequence()
        .expect("rules is a list")
        .iter()
        .flat_map(|rule| {
            let operations = strings(&rule["operations"]);
            strings(&rule["resources"])
                .into_iter()
                .flat_map(move |r| operations.clone().into_iter().map(move |o| (r.clone(), o)))
        })
        .collect();
    grants.sort();
    grants
}

/// Pod CREATE, and CREATE and UPDATE of every workload kind whose template the code checks.
fn grants_the_code_handles() -> Vec<(String, String)> {
    let mut grants = vec![("pods".to_owned(), "CREATE".to_owned())];
    for kind in dapr_sidecar_injector::workload_kinds() {
        let resource = format!("{}s", kind.to_lowercase());
        grants.push((resource.clone(), "CREATE".to_owned()));
        grants.push((resource, "UPDATE".to_owned()));
    }
    grants.sort();
    grants
}

#[test]
fn the_artifacthub_package_agrees_with_metadata() {
    let metadata = yaml("metadata.yml");
    let pkg = yaml("artifacthub-pkg.yml");
    let a = |key: &str| str_at(&metadata, &["annotations", key]).to_owned();
    assert_eq!(
        str_at(&pkg, &["version"]),
        a("io.kubewarden.policy.version")
    );
    assert_eq!(str_at(&pkg, &["name"]), a("io.kubewarden.policy.title"));
    assert_eq!(
        str_at(&pkg, &["displayName"]),
        a("io.artifacthub.displayName")
    );
    assert_eq!(
        str_at(&pkg, &["description"]),
        a("io.kubewarden.policy.description")
    );
    assert_eq!(
        str_at(&pkg, &["license"]),
        a("io.kubewarden.policy.license")
    );
    assert_eq!(str_at(&pkg, &["homeURL"]), a("io.kubewarden.policy.url"));
    assert_eq!(
        str_at(&pkg["containersImages"][0], &["image"]),
        format!(
            "{}:v{}",
            a("io.kubewarden.policy.ociUrl"),
            a("io.kubewarden.policy.version")
        )
    );
    let annotations = &pkg["annotations"];
    let context: Value =
        serde_yaml::from_str(str_at(annotations, &["kubewarden/contextAwareResources"])).unwrap();
    // kwctl scaffold artifacthub lists them sorted.
    let mut read = resources_read_by_the_code();
    read.sort();
    assert_eq!(pairs(&context), read);
    let rules: Value = serde_yaml::from_str(str_at(annotations, &["kubewarden/rules"])).unwrap();
    assert_eq!(rules, metadata["rules"]);
    assert_eq!(str_at(annotations, &["kubewarden/mutation"]), "true");
}

#[test]
fn the_cargo_version_is_the_policy_version() {
    let metadata = yaml("metadata.yml");
    assert_eq!(
        str_at(&metadata, &["annotations", "io.kubewarden.policy.version"]),
        env!("CARGO_PKG_VERSION")
    );
}

#[test]
fn the_example_policy_grants_what_metadata_asks_for() {
    let policy = yaml("examples/cluster-admission-policy.yaml");
    let metadata = yaml("metadata.yml");
    let granted = pairs(&policy["spec"]["contextAwareResources"]);
    let needed: Vec<(String, String)> = pairs(&metadata["contextAwareResources"])
        .into_iter()
        .filter(|r| !only_for_an_opt_in(r))
        .collect();
    assert_eq!(granted, needed);
    assert_eq!(policy["spec"]["rules"], metadata["rules"]);
    assert_eq!(policy["spec"]["mutating"], Value::Bool(true));
    let settings = serde_yaml::to_string(&policy["spec"]["settings"]).unwrap();
    let settings: dapr_sidecar_injector::Settings = serde_yaml::from_str(&settings).unwrap();
    settings.validate().unwrap();
}

#[test]
fn the_rbac_example_lets_the_policy_server_read_every_resource() {
    let docs = yaml_docs("examples/rbac.yaml");
    let rules: Vec<&Value> = docs
        .iter()
        .filter(|d| matches!(d["kind"].as_str(), Some("Role" | "ClusterRole")))
        .flat_map(|d| d["rules"].as_sequence().unwrap().iter())
        .collect();
    for (api_version, kind) in resources_read_by_the_code()
        .into_iter()
        .filter(|r| !only_for_an_opt_in(r))
    {
        let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
        let resource = format!("{}s", kind.to_lowercase());
        let granted = rules.iter().any(|r| {
            let has = |field: &str, value: &str| {
                r[field]
                    .as_sequence()
                    .unwrap()
                    .iter()
                    .any(|v| v.as_str() == Some(value))
            };
            has("apiGroups", group)
                && has("resources", &resource)
                && ["get", "list", "watch"]
                    .iter()
                    .all(|verb| has("verbs", verb))
        });
        assert!(
            granted,
            "no rule grants get/list/watch on {resource} in group {group:?}"
        );
    }
}

/// The verify example: the same module, validating, in background audit, reading nothing, and
/// the injecting example's settings but for the mode.
#[test]
fn the_verify_example_is_a_validating_audit_policy_with_the_injecting_settings() {
    let docs = yaml_docs("examples/verify-policy.yaml");
    let verify = &docs[0];
    let inject = yaml("examples/cluster-admission-policy.yaml");
    assert_eq!(verify["kind"].as_str(), Some("ClusterAdmissionPolicy"));
    assert_eq!(verify["spec"]["module"], inject["spec"]["module"]);
    assert_eq!(verify["spec"]["mutating"], Value::Bool(false));
    assert_eq!(verify["spec"]["backgroundAudit"], Value::Bool(true));
    assert!(verify["spec"].get("contextAwareResources").is_none());
    assert_eq!(verify["spec"]["rules"], metadata_pod_rule());
    let mut settings = verify["spec"]["settings"].clone();
    assert_eq!(settings["mode"].as_str(), Some("verify"));
    settings.as_mapping_mut().unwrap().remove("mode");
    assert_eq!(settings, inject["spec"]["settings"]);
    let settings = serde_yaml::to_string(&verify["spec"]["settings"]).unwrap();
    let settings: dapr_sidecar_injector::Settings = serde_yaml::from_str(&settings).unwrap();
    assert_eq!(settings.mode, dapr_sidecar_injector::Mode::Verify);
    settings.validate().unwrap();
}

/// Namespace-wide injection: the same two policies, with `injectNamespaces: ["*"]` as the only
/// difference in their settings, since the namespace label chooses the namespaces.
#[test]
fn the_namespace_examples_are_the_two_policies_with_every_namespace_injected() {
    let docs = yaml_docs("examples/namespace-injection.yaml");
    let pairs = [
        (&docs[0], yaml("examples/cluster-admission-policy.yaml")),
        (
            &docs[1],
            yaml_docs("examples/verify-policy.yaml")[0].clone(),
        ),
    ];
    for (namespaced, plain) in pairs {
        for field in [
            "module",
            "mutating",
            "backgroundAudit",
            "rules",
            "contextAwareResources",
        ] {
            assert_eq!(namespaced["spec"][field], plain["spec"][field], "{field}");
        }
        let mut settings = namespaced["spec"]["settings"].clone();
        let every: Value = serde_yaml::from_str("['*']").unwrap();
        let removed = settings
            .as_mapping_mut()
            .unwrap()
            .remove("injectNamespaces");
        assert_eq!(removed, Some(every));
        assert_eq!(settings, plain["spec"]["settings"]);
    }
}

/// The Dapr policies run on a PolicyServer of their own, which survives a drain and has the
/// requests and limits docs/reliability.md measured.
#[test]
fn every_example_policy_runs_on_the_example_policy_server_with_replicas_and_a_budget() {
    let server = yaml("examples/policy-server.yaml");
    let name = str_at(&server, &["metadata", "name"]);
    assert!(server["spec"]["replicas"].as_u64().unwrap() >= 2);
    assert!(server["spec"]["minAvailable"].as_u64().unwrap() >= 1);
    for (kind, resource) in [
        ("requests", "cpu"),
        ("requests", "memory"),
        ("limits", "memory"),
    ] {
        let quantity = str_at(&server["spec"], &[kind, resource]);
        assert!(
            dapr_sidecar_injector::nano_value(quantity).is_some(),
            "{kind}.{resource}"
        );
    }
    for (example, policy) in example_policies() {
        assert_eq!(
            str_at(&policy, &["spec", "policyServer"]),
            name,
            "{example}"
        );
    }
}

/// The first rule of metadata.yml: Pod CREATE, all that verify judges.
fn metadata_pod_rule() -> Value {
    let metadata = yaml("metadata.yml");
    Value::Sequence(vec![metadata["rules"][0].clone()])
}

/// The Rancher UI form names exactly the settings the policy accepts, with its defaults, and
/// the Artifact Hub package carries it as `kwctl scaffold artifacthub --questions-path` does.
#[test]
fn the_ui_form_asks_for_every_setting_with_the_policys_default() {
    let form = yaml("questions-ui.yml");
    let questions = form["questions"].as_sequence().unwrap();
    let mut variables: Vec<&str> = questions.iter().map(|q| str_at(q, &["variable"])).collect();
    let mut keys = dapr_sidecar_injector::SETTING_KEYS.to_vec();
    variables.sort_unstable();
    keys.sort_unstable();
    assert_eq!(variables, keys);
    let defaults = serde_json::to_value(dapr_sidecar_injector::Settings::default()).unwrap();
    for question in questions {
        let variable = str_at(question, &["variable"]);
        let default: serde_json::Value =
            serde_yaml::from_value(question["default"].clone()).unwrap();
        assert_eq!(default, defaults[variable], "{variable}");
        assert!(!str_at(question, &["description"]).is_empty(), "{variable}");
    }
    let pkg = yaml("artifacthub-pkg.yml");
    let text = std::fs::read_to_string(root().join("questions-ui.yml")).unwrap();
    assert_eq!(
        str_at(&pkg["annotations"], &["kubewarden/questions-ui"]),
        text
    );
}

/// Name, version, author, home and source: metadata.yml says them once, and Cargo.toml, the
/// Artifact Hub package and the examples say the same.
#[test]
fn every_file_gives_the_policy_the_same_identity() {
    let metadata = yaml("metadata.yml");
    let a = |key: &str| str_at(&metadata, &["annotations", key]).to_owned();
    let cargo = cargo_package();
    assert_eq!(cargo.name, a("io.kubewarden.policy.title"));
    assert_eq!(cargo.version, a("io.kubewarden.policy.version"));
    assert_eq!(cargo.authors, vec![a("io.kubewarden.policy.author")]);
    assert_eq!(cargo.homepage, a("io.kubewarden.policy.url"));
    assert_eq!(cargo.repository, a("io.kubewarden.policy.source"));
    assert_eq!(cargo.license, a("io.kubewarden.policy.license"));
    let pkg = yaml("artifacthub-pkg.yml");
    let maintainer = &pkg["maintainers"][0];
    assert_eq!(
        format!(
            "{} <{}>",
            str_at(maintainer, &["name"]),
            str_at(maintainer, &["email"])
        ),
        a("io.kubewarden.policy.author")
    );
    assert_eq!(
        str_at(&pkg["links"][1], &["url"]),
        a("io.kubewarden.policy.source")
    );
    let module = format!(
        "registry://{}:v{}",
        a("io.kubewarden.policy.ociUrl"),
        a("io.kubewarden.policy.version")
    );
    assert_eq!(
        a("com.github.release.tag"),
        format!("v{}", a("io.kubewarden.policy.version"))
    );
    for (example, policy) in example_policies() {
        assert_eq!(str_at(&policy, &["spec", "module"]), module, "{example}");
    }
}

/// The `[package]` fields of Cargo.toml that say who the policy is.
#[derive(serde::Deserialize)]
struct Package {
    name: String,
    version: String,
    license: String,
    homepage: String,
    repository: String,
    authors: Vec<String>,
}

fn cargo_package() -> Package {
    #[derive(serde::Deserialize)]
    struct Manifest {
        package: Package,
    }
    let text = fs::read_to_string(root().join("Cargo.toml")).unwrap();
    let manifest: Manifest = toml::from_str(&text).unwrap_or_else(|e| panic!("Cargo.toml: {e}"));
    manifest.package
}
