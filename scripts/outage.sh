#!/usr/bin/env bash
# outage.sh: a PolicyServer outage during a scale-up, in the real control plane of
# ../shared/kubeapi (never in CI). Start that control plane first, from the checkout:
#
#   MATCH_CONDITIONS_FROM=examples/cluster-admission-policy.yaml FAILURE_POLICY=Fail \
#     RULES_FROM_METADATA=metadata.yml ../shared/kubeapi/up.sh policy.wasm
#   export KUBECONFIG=...   # as up.sh prints
#   scripts/outage.sh Fail  # or Ignore, matching FAILURE_POLICY
#
# It creates a Dapr Deployment with BEFORE Pods, kills policy-server, and while it is down for
# OUTAGE seconds: deletes DELETE of those Pods (as a node drain would), scales the Deployment
# to SCALE Pods and applies a Deployment without Dapr (PLAIN Pods). Then it starts
# policy-server again with the same command line, and waits until the Dapr Deployment has all
# its Pods. It prints what it saw at each step, the Pods with and
# without daprd, what `dapr-inject check` names, and the events the API server recorded.
# Exit 0 when the outcome is the one expected for the failure policy:
#   Fail:   every Dapr Pod has daprd, and check names none;
#   Ignore: the Pods without daprd are exactly those check names as missing.
set -euo pipefail
MODE=${1:?usage: outage.sh Fail|Ignore}
KUBE_RUN=${KUBE_RUN:-${KUBE_HOME:?set KUBE_HOME or KUBE_RUN as for up.sh}/run}
BEFORE=${BEFORE:-4} DELETE=${DELETE:-2} SCALE=${SCALE:-20} PLAIN=${PLAIN:-5} OUTAGE=${OUTAGE:-8}
# The command line, built from this checkout unless DAPR_INJECT names a binary.
read -r -a dapr_inject <<< "${DAPR_INJECT:-cargo run -q -p dapr-inject --}"
NS=${NS:-outage-$(echo "$MODE" | tr '[:upper:]' '[:lower:]')}
start=$(date +%s.%N)
say() { printf '[%6.1fs] %s\n' "$(echo "$(date +%s.%N) - $start" | bc)" "$*"; }
pods_of() { kubectl -n "$NS" get pods -l "app=$1" -o json; }
count() { pods_of "$1" | jq '.items | length'; }
with_daprd() { pods_of "$1" | jq '[.items[] | select(any(.spec.containers[]; .name == "daprd"))] | length'; }

deployment() {  # NAME REPLICAS DAPR(true|false)
  local annotations='{}'
  [ "$3" = true ] && annotations='{"dapr.io/enabled": "true", "dapr.io/app-id": "'$1'"}'
  jq -n --arg name "$1" --argjson replicas "$2" --argjson annotations "$annotations" '
    {apiVersion: "apps/v1", kind: "Deployment", metadata: {name: $name},
     spec: {replicas: $replicas, selector: {matchLabels: {app: $name}},
            template: {metadata: {labels: {app: $name}, annotations: $annotations},
                       spec: {containers: [{name: "app", image: "nginx:1.27"}]}}}}' |
    kubectl -n "$NS" apply -f - > /dev/null
}

wait_count() {  # APP N SECONDS
  for _ in $(seq 1 $(($3 * 4))); do
    [ "$(count "$1")" -ge "$2" ] && return 0
    sleep 0.25
  done
  return 1
}

kubectl create namespace "$NS" > /dev/null
deployment shop "$BEFORE" true
wait_count shop "$BEFORE" 30 || { say "the Dapr Deployment did not get its first $BEFORE Pods"; exit 1; }
before=$(pods_of shop | jq -r '.items[].metadata.name' | sort)
say "before the outage: shop has $(count shop) Pods, $(with_daprd shop) with daprd"

read -r _ ps_pid < <(grep '^policy-server ' "$KUBE_RUN/pids" | tail -1)
mapfile -d '' ps_cmd < "/proc/$ps_pid/cmdline"
ps_env=$(tr '\0' '\n' < "/proc/$ps_pid/environ" | grep '^KUBECONFIG=')
kill -KILL "$ps_pid"
say "policy-server ($ps_pid) killed"

pods_of shop | jq -r ".items[:$DELETE][].metadata.name" | xargs kubectl -n "$NS" delete pod --wait=false > /dev/null
say "$DELETE shop Pods deleted"
kubectl -n "$NS" scale deployment shop --replicas="$SCALE" > /dev/null
say "shop scaled to $SCALE"
deployment plain "$PLAIN" false
say "plain (no Dapr, $PLAIN replicas) applied"
if wait_count plain "$PLAIN" "$OUTAGE"; then
  say "plain has all its $PLAIN Pods while policy-server is down"
else
  say "plain has $(count plain) of $PLAIN Pods while policy-server is down"
fi
sleep "$OUTAGE"
say "end of the outage: shop has $(count shop) Pods, $(with_daprd shop) with daprd; plain has $(count plain)"

env "$ps_env" setsid "${ps_cmd[@]}" >> "$KUBE_RUN/logs/policy-server.log" 2>&1 < /dev/null &
echo "policy-server $!" >> "$KUBE_RUN/pids"
back=$(date +%s.%N)
ready_port=$(printf '%s\n' "${ps_cmd[@]}" | grep -A1 -x -- '--readiness-probe-port' | tail -1)
until curl -sf "http://127.0.0.1:$ready_port/readiness" > /dev/null; do sleep 0.1; done
say "policy-server started again ($!), ready"
wait_count shop "$SCALE" 120 || { say "shop never got its $SCALE Pods"; exit 1; }
say "shop has all its $SCALE Pods, $(echo "$(date +%s.%N) - $back" | bc | cut -c1-5) s after the restart"

listing=$(kubectl -n "$NS" get pods -o json)
without=$(echo "$listing" | jq -r '[.items[] | select(.metadata.labels.app == "shop")
  | select(all(.spec.containers[]; .name != "daprd")) | .metadata.name] | sort | .[]')
report=$(echo "$listing" | "${dapr_inject[@]}" check --output-format json - 2> /dev/null || true)
missing=$(echo "$report" | jq -r '[.pods[] | select(.status == "missing") | .pod] | sort | .[]')
say "shop: $(with_daprd shop) of $(count shop) Pods with daprd; plain: $(count plain) Pods"
echo "Pods without daprd: $(echo "$without" | grep -c . || true); Pods from before the outage still there: $(comm -12 <(echo "$before") <(echo "$listing" | jq -r '.items[].metadata.name' | sort) | grep -c . || true)"
echo "dapr-inject check, Pods per status: $(echo "$report" | jq -c '[.pods[].status] | group_by(.) | map({(.[0]): length}) | add')"
echo "Pods dapr-inject check names missing: $(echo "$missing" | grep -c . || true)"
echo "events (count, reason, object, first message):"
kubectl -n "$NS" get events -o json | jq -r '.items | map(select(.involvedObject.kind != "Pod"))
  | group_by([.reason, .involvedObject.name]) | .[]
  | "  \(map(.count) | add) \(.[0].reason) \(.[0].involvedObject.name): \(.[0].message | .[0:200])"'
case $MODE in
  Fail) [ -z "$without" ] && [ -z "$missing" ] ;;
  Ignore) [ -n "$without" ] && [ "$without" = "$missing" ] ;;
  *) echo "outage.sh: MODE is Fail or Ignore" >&2; exit 2 ;;
esac && echo "outage.sh: $MODE: as expected" || { echo "outage.sh: $MODE: NOT as expected"; exit 1; }
