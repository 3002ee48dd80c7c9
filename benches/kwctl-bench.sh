#!/usr/bin/env bash
# kwctl bench on the requests and settings `cargo bench --bench evaluation` wrote to
# target/bench/, for the policy and the floor module, side by side, with the harness's ratio
# for the same request next to kwctl's. Run by `make bench` after the harness; without kwctl it
# says so and exits 0.
#
# By hand, for one request:
#   kwctl bench --request-path target/bench/section-10.request.json \
#     --settings-path target/bench/section-10.settings.json policy.wasm
set -euo pipefail
cd "$(dirname "$0")/.."

FLOOR=target/wasm32-wasip1/release/baseline_policy.opt.wasm
if ! command -v kwctl >/dev/null 2>&1; then
  echo "kwctl is not installed: kwctl bench skipped (build kwctl from kubewarden/kubewarden-controller v1.35.0)."
  exit 0
fi
if [ ! -f target/bench/harness.tsv ]; then
  echo "target/bench/harness.tsv is missing: run make bench" >&2
  exit 1
fi

# The median of kwctl bench's `validate` line, in microseconds.
# A failed run, or output without a median, stops the script with kwctl's output.
median_us() {
  local module=$1 slug=$2 out median
  out=$(kwctl bench --warm-up-time 2 --measurement-time 5 --num-samples 100 \
    --request-path "target/bench/$slug.request.json" \
    --settings-path "target/bench/$slug.settings.json" "$module" 2>&1 </dev/null) ||
    { echo "kwctl bench failed on $module, $slug:" >&2; echo "$out" >&2; return 1; }
  median=$(sed 's/\x1b\[[0-9;]*m//g' <<<"$out" |
    awk '/^validate \[/ { getline; if (match($0, /med = [^,]+/)) {
           v = substr($0, RSTART + 6, RLENGTH - 6); n = v + 0;
           if (v ~ /ns$/) n /= 1000; else if (v ~ /ms$/) n *= 1000; else if (v !~ /s$/ || v ~ /[0-9]s$/) n *= 1000000;
           printf "%.1f", n } }')
  [ -n "$median" ] || { echo "no median in kwctl bench's output for $module, $slug:" >&2; echo "$out" >&2; return 1; }
  echo "$median"
}

echo
echo "kwctl $(kwctl --version 2>/dev/null | head -1 | awk '{print $2}') bench (median of 100 samples), the same requests and settings:"
echo "| request | policy | floor | kwctl ratio | harness ratio (instance reused) | harness/kwctl |"
echo "|---|---|---|---|---|---|"
while IFS=$'\t' read -r slug name harness_ratio; do
  policy=$(median_us policy.wasm "$slug")
  floor=$(median_us "$FLOOR" "$slug")
  awk -v n="$name" -v p="$policy" -v f="$floor" -v h="$harness_ratio" 'BEGIN {
    r = p / f; printf "| %s | %.1f µs | %.1f µs | %.2f | %.2f | %.2f |\n", n, p, f, r, h, h / r }'
done < target/bench/harness.tsv
