//! The policy module's initial linear memory. rustc's default is the 1 MiB stack and the data
//! segments, so nearly every heap allocation of an evaluation grows the memory first, and
//! PolicyServer evaluates every request on a fresh instance: each grow is a syscall in the
//! host, measured at 6 µs of system time per evaluation. 2 MiB holds the heap of every
//! benchmark request, Pods of 10 containers included; untouched pages cost nothing.

const INITIAL_MEMORY_BYTES: u32 = 2 * 1024 * 1024;

fn main() {
    if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("wasm32") {
        println!("cargo:rustc-link-arg-cdylib=--initial-memory={INITIAL_MEMORY_BYTES}");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
