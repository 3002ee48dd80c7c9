#!/usr/bin/env bats
# End-to-end tests of annotated-policy.wasm with kwctl: the fixtures of test_data/, their
# cluster lookups replayed from kwctl session files. `make e2e-tests` builds the module first.

bats_require_minimum_version 1.5.0

setup() {
  if ! command -v kwctl >/dev/null 2>&1; then
    skip "kwctl is not installed: get it from https://github.com/kubewarden/kubewarden-controller/releases to run the e2e tests"
  fi
  cd "${BATS_TEST_DIRNAME}"
  if [ ! -f annotated-policy.wasm ]; then
    echo "annotated-policy.wasm is missing: run make annotated-policy.wasm" >&2
    return 1
  fi
}

# evaluate FIXTURE SESSION [kwctl run options...]: $output is kwctl's AdmissionResponse line.
evaluate() {
  local fixture=$1 session=$2
  shift 2
  run --separate-stderr kwctl run \
    --allow-context-aware \
    --replay-host-capabilities-interactions "test_data/${session}" \
    --request-path "test_data/${fixture}" \
    "$@" \
    annotated-policy.wasm
  # printed when a check below fails
  echo "output = ${output}"
  echo "stderr = ${stderr}"
  [ "$status" -eq 0 ]
}

# The decoded JSON patch of the last evaluation.
json_patch() {
  echo "${output}" | jq -r '.patch' | base64 --decode
}

# added PATH: the value of the patch's single add operation at PATH, as compact JSON.
added() {
  json_patch | jq -ce --arg path "$1" \
    '[.[] | select(.op == "add" and .path == $path)] | if length == 1 then .[0].value else error("no single add at \($path)") end'
}

# The patch's paths, sorted, as compact JSON.
patched_paths() {
  json_patch | jq -c '[.[].path] | sort'
}

assert_injected() {
  echo "${output}" | jq -e '.allowed == true and .patchType == "JSONPatch"'
  json_patch | jq -e 'all(.op == "add") and all(.path != "/apiVersion" and .path != "/kind")'
}

# assert_untouched [WARNINGS]: allowed, no patch, and these warnings (a JSON list; none by default).
assert_untouched() {
  echo "${output}" | jq -e --argjson warnings "${1:-null}" '.allowed == true and (has("patch") | not) and .warnings == $warnings'
}

# patched_object FIXTURE: the fixture's object with the patch applied (add operations only).
patched_object() {
  jq --argjson patch "$(json_patch)" \
    '.object | reduce $patch[] as $op (.; setpath($op.path | ltrimstr("/") | split("/") | map(gsub("~1"; "/") | gsub("~0"; "~") | (tonumber? // .)); $op.value))' \
    "test_data/$1"
}

# The daprd args of section 10 of the specification, for app "myapp" with mTLS.
SECTION_10_ARGS='["/daprd","--dapr-http-port","3500","--dapr-grpc-port","50001","--dapr-internal-grpc-port","50002","--dapr-listen-addresses","[::1],127.0.0.1","--dapr-public-port","3501","--app-id","myapp","--app-protocol","http","--log-level","info","--dapr-graceful-shutdown-seconds","-1","--mode","kubernetes","--control-plane-address","dapr-api.dapr-system.svc.cluster.local:443","--sentry-address","dapr-sentry.dapr-system.svc.cluster.local:443","--app-port","8080","--enable-metrics","--metrics-port","9090","--placement-host-address","dapr-placement-server.dapr-system.svc.cluster.local:50005","--enable-mtls","--scheduler-host-address","dapr-scheduler-server-a.dapr-system.svc.cluster.local:443"]'

@test "the worked example gets the daprd sidecar of section 10" {
  evaluate pod_worked_example.json session_mtls_default.yml
  assert_injected
  [ "$(patched_paths)" = '["/metadata/labels/dapr.io~1app-id","/metadata/labels/dapr.io~1metrics-enabled","/metadata/labels/dapr.io~1sidecar-injected","/spec/containers/0/env","/spec/containers/1","/spec/volumes/1"]' ]
  [ "$(added /metadata/labels/dapr.io~1sidecar-injected)" = '"true"' ]
  [ "$(added /metadata/labels/dapr.io~1app-id)" = '"myapp"' ]
  [ "$(added /metadata/labels/dapr.io~1metrics-enabled)" = '"true"' ]
  added /spec/containers/0/env | jq -e '. == [{"name":"DAPR_HTTP_PORT","value":"3500"},{"name":"DAPR_GRPC_PORT","value":"50001"},{"name":"APP_PROTOCOL","value":"http"}]'
  added /spec/containers/1 | jq -e --argjson args "${SECTION_10_ARGS}" '.name == "daprd" and .image == "ghcr.io/dapr/daprd:1.18.3" and .args == $args and (has("command") | not)'
  added /spec/containers/1 | jq -e '[.env[].name] == ["NAMESPACE","DAPR_TRUST_ANCHORS","POD_NAME","DAPR_CONTROLPLANE_NAMESPACE","DAPR_CONTROLPLANE_TRUST_DOMAIN"] and (.env[1].value | startswith("-----BEGIN CERTIFICATE-----"))'
  added /spec/containers/1 | jq -e '.readinessProbe.httpGet == {"path":"/v1.0/healthz","port":3501} and .livenessProbe.tcpSocket == {"port":3501} and .livenessProbe.initialDelaySeconds == 180'
  added /spec/volumes/1 | jq -e '. == {"name":"dapr-identity-token","projected":{"defaultMode":420,"sources":[{"serviceAccountToken":{"audience":"spiffe://cluster.local/ns/dapr-system/dapr-sentry","expirationSeconds":7200,"path":"token"}}]}}'
  echo "${output}" | jq -e '.auditAnnotations == {"app-id":"myapp","sidecar-image":"ghcr.io/dapr/daprd:1.18.3","dapr-version":"1.18"} and .warnings == null'
  # the whole Pod, as section 10 describes it
  patched_object pod_worked_example.json | jq -e --slurpfile expected test_data/expected/pod_worked_example.mutated.json '. == $expected[0]'
}

@test "a Pod without Dapr annotations is accepted untouched" {
  evaluate pod_not_dapr_enabled.json session_no_lookups.yml
  assert_untouched
}

@test "dapr.io/enabled: yes does not inject" {
  evaluate pod_enabled_yes.json session_no_lookups.yml
  assert_untouched '["dapr.io/enabled: \"yes\" does not inject; only \"true\" does"]'
}

@test "a Pod that already has daprd is accepted untouched" {
  evaluate pod_already_injected.json session_no_lookups.yml
  assert_untouched
}

@test "an unauthorized requester gets a warning and no sidecar" {
  evaluate pod_by_unauthorized_user.json session_no_lookups.yml
  assert_untouched '["dapr.io/enabled: not injected: user \"jane\" is not an allowed service account nor in system:masters"]'
}

@test "an invalid app id rejects the Pod with Dapr's message" {
  evaluate pod_invalid_app_id.json session_no_lookups.yml
  echo "${output}" | jq -e '.allowed == false'
  echo "${output}" | jq -e --arg message "invalid app id (input: 'My_App', service: 'My_App-dapr'): a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name' or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')" '.status.message == $message'
}

@test "a controller Pod without an app id is rejected" {
  evaluate pod_controller_without_app_id.json session_no_lookups.yml
  echo "${output}" | jq -e '.allowed == false and .status.message == "value for the dapr.io/app-id annotation is empty"'
}

@test "a missing trust bundle rejects the Pod" {
  evaluate pod_worked_example.json session_trust_bundle_missing.yml
  echo "${output}" | jq -e '.allowed == false'
  # kwctl hands the guest "Callback evaluation failure: <recorded message>"; the SDK adds the rest.
  echo "${output}" | jq -e --arg message "cannot read the Dapr trust anchors from ConfigMap dapr-trust-bundle in namespace dapr-system: error invoking host capability kubernetes.get_resource: Host error: Callback evaluation failure: Cannot find v1/ConfigMap named 'dapr-trust-bundle' inside of namespace 'dapr-system'; install Dapr's control plane there, let the PolicyServer read it (examples/rbac.yaml), or set the trustAnchors setting" '.status.message == $message'
}

@test "mtls.enabled \"false\" as a string leaves out --enable-mtls" {
  evaluate pod_worked_example.json session_mtls_disabled_as_string.yml
  assert_injected
  added /spec/containers/1 | jq -e --argjson args "${SECTION_10_ARGS}" '.args == ($args - ["--enable-mtls"])'
}

@test "mTLS and trust anchors given as settings replace both lookups" {
  evaluate pod_worked_example.json session_no_lookups.yml --settings-path test_data/settings_static_mtls_and_trust_anchors.json
  assert_injected
  added /spec/containers/1 | jq -e --argjson args "${SECTION_10_ARGS}" '.args == ($args - ["--enable-mtls"])'
  added /spec/containers/1 | jq -e '.env[1] | .name == "DAPR_TRUST_ANCHORS" and (.value | startswith("-----BEGIN CERTIFICATE-----"))'
}

@test "unusable annotation values are ignored with warnings" {
  evaluate pod_invalid_annotation_values.json session_mtls_default.yml
  assert_injected
  added /spec/containers/1 | jq -e '(.args | index("--app-port") == null) and .resources == {} and (.args | index("9090") != null)'
  echo "${output}" | jq -e '.warnings == ["dapr.io/app-port: \"zorro\" is not an integer; ignored", "dapr.io/metrics-port: \"70000\" is not a port (1-65535); ignored", "dapr.io/sidecar-cpu-limit: \"lots\" is not a quantity (not a number); all 4 ignored"]'
}

@test "strict mode rejects unusable values, listing every problem" {
  evaluate pod_invalid_annotation_values.json session_mtls_default.yml --settings-path test_data/settings_strict_annotations.json
  echo "${output}" | jq -e '.allowed == false and (has("patch") | not)'
  echo "${output}" | jq -e '.status.message == "invalid Dapr annotations (policy setting invalidAnnotations: reject): dapr.io/app-port: \"zorro\" is not an integer; ignored; dapr.io/metrics-port: \"70000\" is not a port (1-65535); ignored; dapr.io/sidecar-cpu-limit: \"lots\" is not a quantity (not a number); all 4 ignored"'
  echo "${output}" | jq -e '.warnings | length == 3'
}

@test "a Unix domain socket is shared by daprd and the app" {
  evaluate pod_unix_domain_socket.json session_mtls_default.yml
  assert_injected
  [ "$(patched_paths)" = '["/metadata/labels/dapr.io~1app-id","/metadata/labels/dapr.io~1metrics-enabled","/metadata/labels/dapr.io~1sidecar-injected","/spec/containers/0/env","/spec/containers/0/volumeMounts/1","/spec/containers/1","/spec/volumes/1","/spec/volumes/2"]' ]
  added /spec/volumes/1 | jq -e '. == {"name":"dapr-unix-domain-socket","emptyDir":{"medium":"Memory"}}'
  added /spec/volumes/2 | jq -e '.name == "dapr-identity-token"'
  added /spec/containers/0/volumeMounts/1 | jq -e '. == {"name":"dapr-unix-domain-socket","mountPath":"/tmp/dapr-sockets"}'
  added /spec/containers/1 | jq -e '.args | index("--unix-domain-socket") as $i | .[$i + 1] == "/var/run/dapr-sockets" and .[$i + 2] == "--scheduler-host-address"'
  added /spec/containers/1 | jq -e '.volumeMounts == [{"name":"dapr-unix-domain-socket","mountPath":"/var/run/dapr-sockets"},{"name":"dapr-identity-token","readOnly":true,"mountPath":"/var/run/secrets/dapr.io/sentrytoken"}]'
}

@test "the native sidecar annotation appends daprd after the existing init container" {
  evaluate pod_native_sidecar.json session_mtls_default.yml
  assert_injected
  [ "$(patched_paths)" = '["/metadata/labels/dapr.io~1app-id","/metadata/labels/dapr.io~1metrics-enabled","/metadata/labels/dapr.io~1sidecar-injected","/spec/containers/0/env","/spec/initContainers/1","/spec/volumes/1"]' ]
  added /spec/initContainers/1 | jq -e '.name == "daprd" and .restartPolicy == "Always"'
}

@test "the nativeSidecar setting creates initContainers with daprd" {
  evaluate pod_worked_example.json session_mtls_default.yml --settings-json '{"nativeSidecar": true}'
  assert_injected
  added /spec/initContainers | jq -e --argjson args "${SECTION_10_ARGS}" 'length == 1 and .[0].name == "daprd" and .[0].restartPolicy == "Always" and .[0].args == $args'
}

@test "injected pluggable components follow their scopes" {
  evaluate pod_inject_pluggable_components.json session_components.yml
  assert_injected
  [ "$(patched_paths)" = '["/metadata/labels/dapr.io~1app-id","/metadata/labels/dapr.io~1metrics-enabled","/metadata/labels/dapr.io~1sidecar-injected","/spec/containers/0/env","/spec/containers/1","/spec/containers/2","/spec/containers/3","/spec/volumes/1","/spec/volumes/2","/spec/volumes/3"]' ]
  added /spec/containers/1 | jq -e '.name == "daprd" and (.env | last == {"name":"DAPR_COMPONENT_SOCKETS_FOLDER","value":"/tmp/dapr-components-sockets"})'
  added /spec/containers/2 | jq -e '. == {"name":"my-queue","image":"ghcr.io/example/my-queue-component:1.2.0","env":[{"name":"DAPR_COMPONENT_SOCKETS_FOLDER","value":"/tmp/dapr-components-sockets"}],"volumeMounts":[{"name":"queue-config","mountPath":"/etc/my-queue"},{"name":"dapr-components-unix-domain-socket","mountPath":"/tmp/dapr-components-sockets"}]}'
  added /spec/containers/3 | jq -e '.name == "orders-store" and .image == "ghcr.io/example/orders-store-component:0.4.1"'
  added /spec/volumes/2 | jq -e '. == {"name":"dapr-components-unix-domain-socket","emptyDir":{}}'
  added /spec/volumes/3 | jq -e '. == {"name":"queue-config","emptyDir":{}}'
}

@test "a Pod without volumes keeps the token volume beside the components socket" {
  evaluate pod_without_volumes.json session_mtls_default.yml
  assert_injected
  added /spec/volumes | jq -e '[.[].name] == ["dapr-identity-token","dapr-components-unix-domain-socket"]'
}

@test "a Deployment is accepted untouched" {
  evaluate deployment_creation.json session_no_lookups.yml
  assert_untouched
}

@test "a Deployment CREATE gets the warnings of its Pods and no patch" {
  evaluate workload_deployment_create.json session_no_lookups.yml
  assert_untouched '["dapr.io/app-port: \"abc\" is not an integer; ignored"]'
}

@test "a CronJob UPDATE gets the warnings of its Pods and no patch" {
  evaluate workload_cronjob_update.json session_no_lookups.yml
  assert_untouched '["dapr.io/app-protocol: \"tcp\" is unknown (http, https, grpc, grpcs, h2c); APP_PROTOCOL not set"]'
}

@test "a Deployment whose Pods would all be rejected is rejected, saying how to fix it" {
  evaluate workload_deployment_without_app_id.json session_no_lookups.yml
  assert_refused "Deployment shop/cart: its Pods would be rejected: value for the dapr.io/app-id annotation is empty; set dapr.io/app-id in the pod template, or turn on the policy setting appIdFromOwner"
}

@test "annotations on a Deployment itself are named with where they belong" {
  evaluate workload_deployment_misplaced_annotations.json session_no_lookups.yml
  local place='on Deployment \"shop/cart\" itself; Dapr reads only spec.template.metadata.annotations'
  assert_untouched "[\"dapr.io/app-id: ${place}\", \"dapr.io/app-port: ${place}\", \"dapr.io/enabled: ${place}\"]"
}

@test "port collisions are warned about, and refused under strict mode" {
  evaluate pod_port_collisions.json session_mtls_default.yml
  assert_injected
  echo "${output}" | jq -e '.warnings == ["dapr.io/metrics-port: 50002 is also daprd'"'"'s internal gRPC port; daprd cannot listen twice; choose another", "dapr.io/app-port: 50001 is daprd'"'"'s gRPC port; the app cannot listen there too; choose another", "dapr.io/enabled: container \"cart\" declares 3500, daprd'"'"'s HTTP port; only one can listen in the Pod"]'
  evaluate pod_port_collisions.json session_mtls_default.yml --settings-path test_data/settings_strict_annotations.json
  echo "${output}" | jq -e '.allowed == false and (has("patch") | not) and (.warnings | length == 3)'
}

@test "a Windows Pod gets daprd without the fields Kubernetes forbids there" {
  evaluate pod_windows.json session_mtls_default.yml --settings-path test_data/settings_windows_hardened.json
  assert_injected
  added /spec/containers/1 | jq -e '.securityContext == {"runAsNonRoot": true}'
  echo "${output}" | jq -e '.warnings | length == 5 and all(startswith("dapr.io/enabled: Windows Pod: daprd'"'"'s securityContext."))'
}

@test "nativeSidecarForJobs gives a CronJob's Pod a native daprd with the startup probe" {
  evaluate pod_cronjob_job.json session_mtls_default.yml --settings-path test_data/settings_jobs_startup_probe.json
  assert_injected
  added /spec/initContainers | jq -e 'length == 1 and .[0].name == "daprd" and .[0].restartPolicy == "Always" and .[0].startupProbe == {"httpGet": {"path": "/v1.0/healthz/outbound", "port": 3501}, "initialDelaySeconds": 1, "timeoutSeconds": 1, "periodSeconds": 1, "failureThreshold": 230}'
  echo "${output}" | jq -e '.warnings == ["dapr.io/enable-native-sidecar: daprd is native, so CronJob \"nightly-report\" can complete (setting nativeSidecarForJobs)"]'
}

@test "namespaceDefaults reads the Pod's Namespace first and takes its dapr.io/ annotations under the Pod's own" {
  evaluate pod_namespace_defaults.json session_namespace_defaults.yml --settings-path test_data/settings_namespace_defaults.json
  assert_injected
  added /spec/containers/1 | jq -e '(.args | index("--enable-api-logging=true") != null) and (.args[(.args | index("--log-level")) + 1] == "warn")'
  echo "${output}" | jq -e '.auditAnnotations["namespace-defaults"] == "dapr.io/app-max-concurrency,dapr.io/enable-api-logging" and (.warnings | length == 3)'
}

@test "a Namespace that cannot be read leaves the Pod injected without defaults" {
  evaluate pod_namespace_defaults.json session_namespace_forbidden.yml --settings-path test_data/settings_namespace_defaults.json
  assert_injected
  echo "${output}" | jq -e '(.warnings | length == 1) and (.warnings[0] | startswith("dapr.io/*: defaults of Namespace \"shop\" not applied: namespaces \"shop\" is forbidden"))'
}

@test "an UPDATE is accepted untouched" {
  evaluate pod_update.json session_no_lookups.yml
  assert_untouched
}

@test "daprVersion 0.11 gives the seed's stateapp Pod the seed's daprd" {
  evaluate pod_stateapp_seed.json session_seed_trust_bundle_secret.yml --settings-path test_data/settings_seed_0_11.json
  echo "${output}" | jq -e '.allowed == true and .patchType == "JSONPatch"'
  added /spec/containers/1 | jq -e --slurpfile seed test_data/expected/seed_stateapp.json '.args == $seed[0].daprd.args and .command == ["/daprd"] and .image == $seed[0].daprd.image'
  # v0.11.0 builds <namespace>:<serviceAccount>; the seed's older development build had the reverse.
  added /spec/containers/1 | jq -e '[.env[].name] == ["DAPR_HOST_IP", "NAMESPACE", "DAPR_TRUST_ANCHORS", "DAPR_CERT_CHAIN", "DAPR_CERT_KEY", "SENTRY_LOCAL_IDENTITY"] and .env[5].value == "dapr-tests:default"'
  added /spec/containers/0/env | jq -e '. == [{"name": "DAPR_HTTP_PORT", "value": "3500"}, {"name": "DAPR_GRPC_PORT", "value": "50001"}]'
  [ "$(patched_paths)" = '["/spec/containers/0/env","/spec/containers/1"]' ]
}

@test "daprVersion 1.17 keeps the old 3/3/6/3 probe defaults" {
  evaluate pod_worked_example.json session_mtls_default.yml --settings-path test_data/settings_dapr_1_17.json
  assert_injected
  added /spec/containers/1 | jq -e --argjson args "${SECTION_10_ARGS}" '.args == $args'
  added /spec/containers/1 | jq -e '[.livenessProbe, .readinessProbe] | all(.initialDelaySeconds == 3 and .timeoutSeconds == 3 and .periodSeconds == 6 and .failureThreshold == 3)'
}

@test "daprVersion 1.16 passes every scheduler replica as env instead of a flag" {
  evaluate pod_worked_example.json session_mtls_default.yml --settings-path test_data/settings_dapr_1_16.json
  assert_injected
  added /spec/containers/1 | jq -e '.args | index("--scheduler-host-address") == null'
  added /spec/containers/1 | jq -e '[.env[] | select(.name | startswith("DAPR_SCHEDULER"))] == [
    {"name": "DAPR_SCHEDULER_HOST_ADDRESS", "value": "dapr-scheduler-server-0.dapr-scheduler-server.dapr-system.svc.cluster.local:50006,dapr-scheduler-server-1.dapr-scheduler-server.dapr-system.svc.cluster.local:50006,dapr-scheduler-server-2.dapr-scheduler-server.dapr-system.svc.cluster.local:50006"},
    {"name": "DAPR_SCHEDULER_HOST_ADDRESS_DNS_A", "value": "dapr-scheduler-server-a.dapr-system.svc.cluster.local:443"}]'
}

# assert_refused MESSAGE: rejected with this message, no patch.
assert_refused() {
  echo "${output}" | jq -e --arg message "$1" '.allowed == false and (has("patch") | not) and .status.message == $message'
}

VERIFY=(--settings-path test_data/settings_verify.json)
MISSING='dapr.io/enabled is "true" but the Pod has no daprd sidecar: injection was skipped or failed; recreate it (owner: Deployment default/myapp)'

@test "verify: the audit scanner's request for a Pod with today's sidecar passes" {
  evaluate audit_pod_sidecar_ok.json session_no_lookups.yml "${VERIFY[@]}"
  assert_untouched
}

@test "verify: a stored Pod without daprd is refused, naming its owner" {
  evaluate audit_pod_missing_sidecar.json session_no_lookups.yml "${VERIFY[@]}"
  assert_refused "${MISSING}"
}

@test "verify: a Pod that slipped past injection is refused at admission" {
  evaluate pod_worked_example.json session_no_lookups.yml "${VERIFY[@]}"
  assert_refused "${MISSING}"
}

@test "verify: a stale daprd is refused with both images and the workload to restart" {
  evaluate audit_pod_stale_sidecar.json session_no_lookups.yml "${VERIFY[@]}"
  assert_refused 'daprd runs "ghcr.io/dapr/daprd:1.17.6", but the policy now injects "ghcr.io/dapr/daprd:1.18.3": restart Deployment default/myapp'
}

@test "verify: a daprd serving another app id is refused" {
  evaluate audit_pod_app_id_mismatch.json session_no_lookups.yml "${VERIFY[@]}"
  assert_refused "daprd's --app-id is \"orders\" but the Pod's app id is \"myapp\": the sidecar serves another app; recreate the Pod"
}

@test "verify: a native-sidecar daprd, 1.16's image and 0.11's layout pass under their settings" {
  evaluate audit_pod_native_sidecar.json session_no_lookups.yml --settings-path test_data/settings_verify_native_sidecar.json
  assert_untouched
  evaluate audit_pod_dapr_1_16.json session_no_lookups.yml --settings-path test_data/settings_verify_dapr_1_16.json
  assert_untouched
  evaluate audit_pod_seed_0_11.json session_no_lookups.yml --settings-path test_data/settings_verify_seed_0_11.json
  assert_untouched
}

# yaml_to_json: standard input (YAML, kubectl's rules) as JSON documents, one per line.
yaml_to_json() {
  cargo run -q -p dapr-inject -- uninject --quiet --output-format json - | jq -c .
}

@test "kwctl scaffold manifest gives the example ClusterAdmissionPolicy's rules and grants, but not its matchConditions" {
  run --separate-stderr kwctl scaffold manifest -t ClusterAdmissionPolicy --allow-context-aware annotated-policy.wasm
  [ "$status" -eq 0 ]
  scaffold=$(echo "${output}" | yaml_to_json)
  example=$(yaml_to_json < examples/cluster-admission-policy.yaml)
  echo "scaffold = ${scaffold}"
  # The example leaves out Secret and Namespace, read only under daprVersion 0.11 and
  # namespaceDefaults, which its settings leave off.
  jq -en --argjson s "${scaffold}" --argjson e "${example}" '
    $s.kind == $e.kind and $s.metadata == $e.metadata and $s.spec.rules == $e.spec.rules
    and $s.spec.mutating == $e.spec.mutating and $s.spec.backgroundAudit == $e.spec.backgroundAudit
    and ([$s.spec.contextAwareResources[] | select(.kind != "Secret" and .kind != "Namespace")] | sort) == ($e.spec.contextAwareResources | sort)
    and $s.spec.matchConditions == null and ($e.spec.matchConditions | length) == 1'
}

@test "kwctl scaffold artifacthub gives the committed artifacthub-pkg.yml" {
  run --separate-stderr kwctl scaffold artifacthub -m metadata.yml -q questions-ui.yml
  [ "$status" -eq 0 ]
  diff <(echo "${output}" | grep -v '^createdAt:') <(grep -v '^createdAt:' artifacthub-pkg.yml)
}
