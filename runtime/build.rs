//! Rebuilds the runtime when the store pool size (`BPF_STORE_NUM_VALUES`) changes.
fn main() {
    println!("cargo:rerun-if-env-changed=BPF_STORE_NUM_VALUES");
}
