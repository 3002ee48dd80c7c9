#!/usr/bin/env bash
# A load test in Kubewarden's own server: policy-server on loopback serving the policy and the
# floor module (benches/baseline: parse the request, add one label) side by side, each driven
# by wrk with the same bounded load, one after the other. Prints requests per second, p50, p99
# and errors for each, and the policy's ratios to the floor.
#
# Needs a locally built policy-server (kwctl and policy-server are on no package registry) and
# wrk (Debian: apt-get install wrk). Without them it says so and exits 0. Not part of
# `cargo test` or CI: a figure only counts measured side by side, in one run.
#
#   benches/load.sh [CONNECTIONS] [SECONDS] [ROUNDS]     default: 8 connections, 5 s, 2 rounds
#
# Runs on this 2-core machine spread by up to 15%; more rounds give a steadier mean ratio.
set -euo pipefail
cd "$(dirname "$0")/.."

CONNECTIONS=${1:-8}
SECONDS_PER_RUN=${2:-5}
ROUNDS=${3:-2}
# Digits with one that is not zero: "00" would otherwise run no round and print an empty table.
if [[ ! $ROUNDS =~ ^[0-9]*[1-9][0-9]*$ ]]; then
  echo "benches/load.sh: ROUNDS is '$ROUNDS'; give a whole number of rounds, 1 or more." >&2
  exit 2
fi
PORT=${LOAD_PORT:-3100}
READY_PORT=$((PORT + 1))

for tool in policy-server kwctl wrk jq openssl curl; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "benches/load.sh: $tool is not installed; nothing measured." >&2
    echo "  policy-server: build it from kubewarden/kubewarden-controller (v1.35.0)," >&2
    echo "  cargo build --release -p policy-server; wrk: apt-get install wrk." >&2
    exit 0
  fi
done

make -s annotated-policy.wasm baseline-wasm
WORK=$(mktemp -d)
trap 'kill "${SERVER:-}" 2>/dev/null || true; rm -rf "$WORK"' EXIT
# policy-server runs only annotated modules.
kwctl annotate -m benches/baseline/metadata.yml -o "$WORK/floor.wasm" \
  target/wasm32-wasip1/release/baseline_policy.opt.wasm >/dev/null
# The bound: the policy's answer without any work (make load builds it after make bench).
IDEAL=target/wasm32-wasip1/release/ideal_policy.opt.wasm
if [ -f "$IDEAL" ]; then
  kwctl annotate -m benches/baseline/metadata.yml -o "$WORK/ideal.wasm" "$IDEAL" >/dev/null
fi

# The section 10 Pod with mTLS and trust anchors in the settings: no host call, as in make bench.
settings=$(jq -c . test_data/settings_static_mtls_and_trust_anchors.json)
cat > "$WORK/policies.yml" <<EOF
dapr:
  module: file://$PWD/annotated-policy.wasm
  allowedToMutate: true
  settings: $settings
floor:
  module: file://$WORK/floor.wasm
  allowedToMutate: true
  settings: $settings
EOF
modules=(floor dapr)
if [ -f "$WORK/ideal.wasm" ]; then
  printf 'ideal:\n  module: file://%s\n  allowedToMutate: true\n  settings: %s\n' "$WORK/ideal.wasm" "$settings" >> "$WORK/policies.yml"
  modules+=(ideal)
fi
REQUEST=${LOAD_REQUEST:-test_data/pod_worked_example.json}
jq -c '{apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", request: .}' \
  "$REQUEST" > "$WORK/review.json"
cat > "$WORK/post.lua" <<EOF
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = io.open("$WORK/review.json", "r")
wrk.body = f:read("*a")
f:close()
EOF

# A throw-away Sigstore trust root: without --sigstore-trust-config, policy-server fetches
# Sigstore's TUF repository from the internet at start-up. No signature is verified here.
openssl ecparam -name prime256v1 -genkey -noout -out "$WORK/key.pem" 2>/dev/null
openssl req -x509 -new -key "$WORK/key.pem" -subj "/O=local/CN=unused" -days 2 -out "$WORK/ca.pem" 2>/dev/null
der_cert=$(openssl x509 -in "$WORK/ca.pem" -outform DER | base64 -w0)
der_pub=$(openssl ec -in "$WORK/key.pem" -pubout -outform DER 2>/dev/null | base64 -w0)
key_id=$(openssl ec -in "$WORK/key.pem" -pubout -outform DER 2>/dev/null | openssl dgst -sha256 -binary | base64 -w0)
log='{"baseUrl": "https://log.invalid", "hashAlgorithm": "SHA2_256", "logId": {"keyId": "'$key_id'"},
  "publicKey": {"rawBytes": "'$der_pub'", "keyDetails": "PKIX_ECDSA_P256_SHA_256", "validFor": {"start": "2020-01-01T00:00:00Z"}}}'
cat > "$WORK/trust.json" <<EOF
{"mediaType": "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json",
 "trustedRoot": {"mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
  "tlogs": [$log], "ctlogs": [$log], "timestampAuthorities": [],
  "certificateAuthorities": [{"subject": {"organization": "local", "commonName": "unused"},
   "uri": "https://ca.invalid", "certChain": {"certificates": [{"rawBytes": "$der_cert"}]},
   "validFor": {"start": "2020-01-01T00:00:00Z"}}]}}
EOF

KUBECONFIG=/dev/null policy-server --policies "$WORK/policies.yml" --addr 127.0.0.1 --port "$PORT" \
  --readiness-probe-port "$READY_PORT" --workers 2 --log-level error --log-no-color \
  --ignore-kubernetes-connection-failure --policies-download-dir "$WORK/dl" \
  --sigstore-cache-dir "$WORK/sigstore" --sigstore-trust-config "$WORK/trust.json" \
  > "$WORK/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 120); do
  curl -sf "http://127.0.0.1:$READY_PORT/readiness" >/dev/null 2>&1 && break
  kill -0 "$SERVER" 2>/dev/null || { cat "$WORK/server.log" >&2; exit 1; }
  sleep 0.5
done
curl -sf "http://127.0.0.1:$READY_PORT/readiness" >/dev/null 2>&1 ||
  { echo "policy-server was not ready after 60 s:" >&2; cat "$WORK/server.log" >&2; exit 1; }

# The server's memory at rest, and its CPU time so far (clock ticks), for the PolicyServer's
# requests and limits (examples/policy-server.yaml).
rss_idle=$(awk '/^VmRSS/ {print $2}' "/proc/$SERVER/status")
cpu_ticks() { awk '{print $14 + $15}' "/proc/$SERVER/stat"; }

# Both answer, and the policy injects, before anything is timed.
for policy in "${modules[@]}"; do
  allowed=$(curl -sf -X POST -H 'Content-Type: application/json' --data @"$WORK/review.json" \
    "http://127.0.0.1:$PORT/validate/$policy" | jq -r '.response.allowed') || allowed=
  [ "$allowed" = "true" ] || { echo "policy $policy did not allow the request" >&2; exit 1; }
done

# wrk's --latency percentiles, in milliseconds; requests per second; errors (socket and non-2xx).
measure() {
  local policy=$1 out
  out=$(wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" --latency -s "$WORK/post.lua" \
    "http://127.0.0.1:$PORT/validate/$policy")
  local rps p50 p99 errors
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  errors=$(awk '/Non-2xx/ {n += $NF} /Socket errors/ {for (i = 4; i <= NF; i += 2) n += $i} END {print n + 0}' <<<"$out")
  echo "$policy $rps $(to_ms "$p50") $(to_ms "$p99") $errors"
}
to_ms() {
  awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n = n; else if (v ~ /s$/) n *= 1000; printf "%.2f", n }'
}

for module in "${modules[@]}"; do measure "$module" >/dev/null; done # warm-up
ticks_start=$(cpu_ticks)
# Rounds of each, alternating, so that a drift of the machine shows as a spread, not as a ratio.
runs=()
for _ in $(seq 1 "$ROUNDS"); do
  for module in "${modules[@]}"; do runs+=("$(measure "$module")"); done
done
echo "policy-server, wrk -c $CONNECTIONS for ${SECONDS_PER_RUN} s, $ROUNDS round(s), section 10 Pod (settings: mTLS and trust anchors):"
echo "| module | requests/s | p50 ms | p99 ms | errors |"
echo "|---|---|---|---|---|"
for run in "${runs[@]}"; do
  read -r policy rps p50 p99 errors <<<"$run"
  case $policy in
    dapr) policy=policy ;;
    ideal) policy="ideal (the policy's answer, precomputed)" ;;
  esac
  echo "| $policy | $rps | $p50 | $p99 | $errors |"
done
printf '%s\n' "${runs[@]}" | awk '
  { r[$1] += $2; p[$1] += $4; n[$1]++ }
  END {
    printf "policy/floor, means of the runs: requests/s %.2fx, p99 %.2fx\n", (r["dapr"] / n["dapr"]) / (r["floor"] / n["floor"]), (p["dapr"] / n["dapr"]) / (p["floor"] / n["floor"])
    if (n["ideal"]) printf "ideal/floor: requests/s %.2fx, p99 %.2fx\n", (r["ideal"] / n["ideal"]) / (r["floor"] / n["floor"]), (p["ideal"] / n["ideal"]) / (p["floor"] / n["floor"])
  }'
requests=$(printf '%s\n' "${runs[@]}" | awk -v s="$SECONDS_PER_RUN" '{n += $2 * s} END {printf "%d", n}')
rss_peak=$(awk '/^VmHWM/ {print $2}' "/proc/$SERVER/status")
cpu_seconds=$(echo "scale=2; ($(cpu_ticks) - ticks_start) / $(getconf CLK_TCK)" | bc)
echo "policy-server memory: $((rss_idle / 1024)) MiB at rest with ${#modules[@]} modules, $((rss_peak / 1024)) MiB at peak; CPU: $cpu_seconds s for about $requests requests"
