# Kubewarden's policy Makefile (policies/Makefile.rust), plus the example and the benchmark.
CARGO_GLOBAL_OPTIONS ?= --locked
WASM_TARGET := wasm32-wasip1
POLICY_SOURCES := $(shell find src -name '*.rs') build.rs Cargo.toml Cargo.lock
# Binaryen's optimiser after rustc's: a sixth smaller at the same speed, which lets rustc build
# for speed (`opt-level = "s"`) within the 450 KB budget. -Oz rather than -Os: 2.3 KB smaller,
# and as fast in kwctl bench (section 10 Pod, side by side on 2026-12-06: 187.0 and 186.7 µs
# against 189.5 and 188.1 µs). The features are those rustc 1.95 emits for wasm32-wasip1;
# wasm-opt cannot read them from a stripped module.
WASM_OPT ?= wasm-opt
WASM_OPT_FLAGS := -Oz --enable-bulk-memory --enable-sign-ext --enable-mutable-globals \
	--enable-nontrapping-float-to-int --enable-reference-types --enable-multivalue

.PHONY: wasm-target wasm-opt-tool baseline-wasm ideal-wasm example bench load fmt lint test e2e-tests fuzz clean

policy.wasm: $(POLICY_SOURCES) | wasm-target wasm-opt-tool
	cargo build $(CARGO_GLOBAL_OPTIONS) --target=$(WASM_TARGET) --release --lib
	$(WASM_OPT) $(WASM_OPT_FLAGS) target/$(WASM_TARGET)/release/dapr_sidecar_injector.wasm -o $(CURDIR)/policy.wasm

# A fresh machine has no wasm32-wasip1 standard library.
wasm-target:
	@rustup target list --installed | grep -qx $(WASM_TARGET) || rustup target add $(WASM_TARGET)

wasm-opt-tool:
	@command -v $(WASM_OPT) >/dev/null 2>&1 || { echo "$(WASM_OPT) not found: install Binaryen (Debian and Ubuntu: apt-get install binaryen)" >&2; exit 1; }

annotated-policy.wasm: policy.wasm metadata.yml README.md
	kwctl annotate -m metadata.yml -u README.md -o $(CURDIR)/annotated-policy.wasm $(CURDIR)/policy.wasm

# Builds the policy and injects the seed's stateapp example with the same code, offline.
example: policy.wasm
	@echo "policy.wasm: $$(wc -c < policy.wasm) bytes"
	@echo "building dapr-inject (cargo shows its progress), then injecting examples/stateapp.yaml"
	cargo run $(CARGO_GLOBAL_OPTIONS) -p dapr-inject -- --trust-anchors examples/trust-anchors.pem examples/stateapp.yaml

# The floor module the benchmarks compare with: the same build and optimiser as the policy.
BASELINE := target/$(WASM_TARGET)/release/baseline_policy.opt.wasm
baseline-wasm: $(BASELINE)
$(BASELINE): benches/baseline/src/lib.rs benches/baseline/Cargo.toml Cargo.lock | wasm-target wasm-opt-tool
	cargo build $(CARGO_GLOBAL_OPTIONS) -p baseline-policy --target=$(WASM_TARGET) --release
	$(WASM_OPT) $(WASM_OPT_FLAGS) target/$(WASM_TARGET)/release/baseline_policy.wasm -o $(BASELINE)

# The bound of any policy giving the section 10 Pod its sidecar: the policy's answer,
# precomputed (recorded by make bench).
IDEAL := target/$(WASM_TARGET)/release/ideal_policy.opt.wasm
ideal-wasm: | wasm-target wasm-opt-tool
	cargo build $(CARGO_GLOBAL_OPTIONS) -p ideal-policy --target=$(WASM_TARGET) --release
	$(WASM_OPT) $(WASM_OPT_FLAGS) target/$(WASM_TARGET)/release/ideal_policy.wasm -o $(IDEAL)

# Our harness, in policy-server's engine configuration: median and p99 per evaluation against
# the floor, peak memory and pages touched, native time; then, when kwctl is installed, kwctl
# bench on the same requests and settings (written to target/bench/), side by side.
bench: policy.wasm baseline-wasm
	cargo bench $(CARGO_GLOBAL_OPTIONS) --bench evaluation
	@benches/kwctl-bench.sh

# policy-server under wrk load, the policy beside the floor (needs policy-server and wrk).
# make load LOAD_ROUNDS=6 for a steadier mean: single runs spread by up to 15% here.
LOAD_ROUNDS ?= 2
load: policy.wasm baseline-wasm
	@test -f target/bench/section-10.response.json || $(MAKE) bench
	$(MAKE) ideal-wasm
	benches/load.sh 8 5 $(LOAD_ROUNDS)

fmt:
	cargo fmt --all -- --check

lint:
	cargo clippy $(CARGO_GLOBAL_OPTIONS) --workspace --all-targets -- -D warnings

test: fmt lint policy.wasm
	cargo test $(CARGO_GLOBAL_OPTIONS) --workspace

# e2e.bats skips itself when kwctl is not installed.
e2e-tests:
	@if command -v kwctl >/dev/null 2>&1; then $(MAKE) annotated-policy.wasm; fi
	bats e2e.bats

# Fuzzes each target for FUZZ_SECONDS (libFuzzer through cargo-fuzz, on stable Rust: no
# sanitizer). Seeds come from test_data; crashes land in fuzz/artifacts/<target>/.
FUZZ_SECONDS ?= 60
fuzz:
	@command -v cargo-fuzz >/dev/null 2>&1 || cargo install --locked cargo-fuzz --version 0.13.2
	mkdir -p fuzz/corpus/validate fuzz/corpus/settings fuzz/corpus/splice
	for f in test_data/pod_*.json test_data/workload_*.json; do jq -c '{settings: {}, request: .}' "$$f" > "fuzz/corpus/validate/seed-$$(basename $$f)"; done
	for f in test_data/audit_*.json; do jq -c '{settings: {mode: "verify"}, request: .}' "$$f" > "fuzz/corpus/validate/seed-$$(basename $$f)"; done
	for f in test_data/pod_*.json; do jq -c '.object' "$$f" > "fuzz/corpus/splice/seed-$$(basename $$f)"; done
	cp fuzz/seeds/settings/*.json fuzz/corpus/settings/
	cd fuzz && cargo fuzz run --sanitizer none validate corpus/validate -- -max_total_time=$(FUZZ_SECONDS) -dict=dapr.dict -print_final_stats=1 >/dev/null
	cd fuzz && cargo fuzz run --sanitizer none settings corpus/settings -- -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 >/dev/null
	cd fuzz && cargo fuzz run --sanitizer none splice corpus/splice -- -max_total_time=$(FUZZ_SECONDS) -dict=dapr.dict -print_final_stats=1 >/dev/null

clean:
	cargo clean
	rm -f policy.wasm annotated-policy.wasm
